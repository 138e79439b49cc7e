#!/bin/sh
# Runs one libFuzzer target for a bounded time from a copy of its seed corpus (the repo's
# corpus is never written to). SPINAT_FUZZ_SECONDS sets the time (default 8). A crash, leak,
# sanitizer report, broken invariant or slow input fails the test; the input that did it is
# kept under the build directory and its path printed, with the command that replays it.
#
#   run-fuzz.sh FUZZER SEED_DIR CRASH_DIR
set -u
fuzzer=$1 seeds=$2 crashes=$3
name=$(basename "$fuzzer")
secs=${SPINAT_FUZZ_SECONDS:-8}

case $secs in
'' | *[!0-9]*) echo "$name: SPINAT_FUZZ_SECONDS must be a number of seconds" >&2; exit 2 ;;
esac
if [ ! -d "$seeds" ] || [ -z "$(ls -A "$seeds")" ]; then
	echo "$name: no seed corpus in $seeds" >&2
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/spinat-$name.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
mkdir -p "$work/corpus" "$crashes" || exit 1
cp "$seeds"/* "$work/corpus/" || exit 1
run=$(mktemp -d "$crashes/run-XXXXXX") || exit 1

echo "$name: $(ls "$seeds" | wc -l) seeds from $seeds, ${secs}s"
# -timeout: an input taking over 10 s is a hang; -rss_limit_mb bounds memory.
"$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$run/" "$work/corpus" 2>&1
rc=$?

found=$(ls "$run")
if [ $rc -ne 0 ] || [ -n "$found" ]; then
	echo "$name: FAILED (libFuzzer exit $rc)"
	for f in $found; do
		echo "$name: reproducer: $run/$f"
		echo "$name: replay with: $fuzzer $run/$f"
	done
	[ -n "$found" ] || echo "$name: no reproducer was written; see the output above"
	exit 1
fi
rmdir "$run"
echo "$name: ok, corpus grew from $(ls "$seeds" | wc -l) to $(ls "$work/corpus" | wc -l)"
