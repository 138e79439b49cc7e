#!/bin/sh
# `make fuzz`: every libFuzzer target in turn for FUZZ_SECONDS each (default 60), one at a
# time (the other core stays free), from its seed corpus plus what earlier runs found
# (build-fuzz/fuzz-report/corpus/<target>, kept between runs). Then one table: executions,
# executions per second, libFuzzer's edge coverage (cov) and features (ft), corpus size
# and findings (reproducers under build-fuzz/fuzz-report/crashes/). The exit status is 1 if
# any target found something.
#
#   FUZZ_SECONDS=60        time per target
#   FUZZ_TARGETS="a b"     only these targets (fuzz_ike_xchg, fuzz_nfq, ...)
#   FUZZ_RUNS=10000000     also stop a target after this many executions (whichever of
#                          the two limits comes first)
#   FUZZ_COVERAGE=1        afterwards, replay each final corpus in a coverage build
#                          (build-fuzzcov) and print line coverage per source file
#                          (llvm-cov report; saved as fuzz-report/<target>.cov.txt)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${FUZZ_SECONDS:-60}
case $secs in
'' | *[!0-9]*) echo "fuzz: FUZZ_SECONDS must be a number of seconds" >&2; exit 2 ;;
esac
runs=${FUZZ_RUNS:-}
case $runs in
*[!0-9]*) echo "fuzz: FUZZ_RUNS must be a number of executions" >&2; exit 2 ;;
esac
runs_arg=${runs:+-runs=$runs}
san="-Db_sanitize=address,undefined -Db_lundef=false -Dc_args=-fno-sanitize-recover=all -Dc_link_args=-fno-sanitize-recover=all"

# name and corpus folder of every target, from the list in tests/fuzz/meson.build
list=$(sed -n "s/^ *\['\(fuzz_[a-z0-9_]*\)',.*'\([a-z0-9_]*\)'\],.*$/\1 \2/p" tests/fuzz/meson.build)
[ -n "$list" ] || { echo "fuzz: no targets found in tests/fuzz/meson.build" >&2; exit 1; }
if [ -n "${FUZZ_TARGETS:-}" ]; then
	list=$(echo "$list" | awk -v want=" $FUZZ_TARGETS " 'index(want, " " $1 " ")')
fi
names=$(echo "$list" | awk '{ print "tests/fuzz/" $1 }')

if [ ! -f build-fuzz/build.ninja ]; then
	# shellcheck disable=SC2086
	CC=clang meson setup build-fuzz --buildtype=debugoptimized -Dtests=enabled -Dfuzz=true $san \
		>build-fuzz.setup.log 2>&1 || { cat build-fuzz.setup.log; exit 1; }
fi
# shellcheck disable=SC2086
ninja -C build-fuzz $names >/dev/null || exit 1

out=build-fuzz/fuzz-report
mkdir -p "$out/crashes" "$out/corpus"
found_any=0
rows=""
echo "$list" | while read -r name dir; do
	exe=build-fuzz/tests/fuzz/$name
	mkdir -p "$out/corpus/$name"
	rm -f "$out/crashes/$name"-*
	echo "fuzz: $name for ${secs}s ..." >&2
	# shellcheck disable=SC2086
	"$exe" -max_total_time="$secs" $runs_arg -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$out/crashes/$name-" "$out/corpus/$name" "tests/fuzz/corpus/$dir" \
		>"$out/$name.log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$name.log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out/$name.log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$out/$name.log" | tail -n 1 | cut -d' ' -f2)
	ft=$(grep -o 'ft: [0-9]*' "$out/$name.log" | tail -n 1 | cut -d' ' -f2)
	corp=$(ls "$out/corpus/$name" "tests/fuzz/corpus/$dir" | grep -vc ':$')
	finds=$(ls "$out/crashes" | grep -c "^$name-")
	[ $rc -ne 0 ] && [ "$finds" -eq 0 ] && finds="exit $rc"
	printf '%-16s %12s %9s %7s %7s %7s %s\n' "$name" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
		"${ft:-?}" "$corp" "$finds"
done >"$out/table"
printf '%-16s %12s %9s %7s %7s %7s %s\n' target executions exec/s cov ft corpus findings
cat "$out/table"
awk '$7 != "0" { bad = 1 } END { exit bad }' "$out/table" || found_any=1
[ $found_any -eq 0 ] || echo "fuzz: findings: see $out/crashes/ and $out/<target>.log"

if [ "${FUZZ_COVERAGE:-0}" = 1 ]; then
	if [ ! -f build-fuzzcov/build.ninja ]; then
		CC=clang meson setup build-fuzzcov --buildtype=debug -Dtests=enabled -Dfuzz=true \
			-Dc_args="-fprofile-instr-generate -fcoverage-mapping" \
			-Dc_link_args="-fprofile-instr-generate" >build-fuzzcov.setup.log 2>&1 ||
			{ cat build-fuzzcov.setup.log; exit 1; }
	fi
	# shellcheck disable=SC2086
	ninja -C build-fuzzcov $names >/dev/null || exit 1
	echo "$list" | while read -r name dir; do
		exe=build-fuzzcov/tests/fuzz/$name
		rm -f "$out/$name.profraw"
		LLVM_PROFILE_FILE="$out/$name.profraw" "$exe" -runs=0 "$out/corpus/$name" \
			"tests/fuzz/corpus/$dir" >/dev/null 2>&1
		llvm-profdata merge -sparse "$out/$name.profraw" -o "$out/$name.profdata" &&
			llvm-cov report "$exe" -instr-profile="$out/$name.profdata" \
				-ignore-filename-regex='(tests/|/usr/)' >"$out/$name.cov.txt" 2>/dev/null
		printf '%-16s lines covered (src/): %s\n' "$name" \
			"$(awk '$1 == "TOTAL" { print $(NF-3) }' "$out/$name.cov.txt")"
	done
fi
exit $found_any
