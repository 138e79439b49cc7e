#!/bin/sh
# `make check`: format check, the layering check, the sanitizer build (gcc, ASan +
# UBSan) running the unit, vector, scenario and interop suites, the clang build running
# every fuzz target briefly, then one total line "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

san_args="-Db_sanitize=address,undefined -Db_lundef=false -Dc_args=-fno-sanitize-recover=all -Dc_link_args=-fno-sanitize-recover=all"
status=0
extra_pass=0
extra_fail=0

note() { printf '\n=== %s\n' "$*"; }

setup() { # dir compiler extra-args...
	dir=$1 compiler=$2
	shift 2
	if [ ! -f "$dir/build.ninja" ]; then
		# shellcheck disable=SC2086
		CC=$compiler meson setup "$dir" --buildtype=debugoptimized -Dtests=enabled $san_args "$@" >"$dir.setup.log" 2>&1 ||
			{ cat "$dir.setup.log"; return 1; }
	fi
	ninja -C "$dir" || return 1
}

note "format (clang-format --dry-run)"
if files=$(git ls-files '*.c' '*.h' 2>/dev/null) && [ -n "$files" ]; then
	# shellcheck disable=SC2086
	if out=$(clang-format --dry-run --Werror $files 2>&1); then
		echo "format: ok"
		extra_pass=$((extra_pass + 1))
	else
		echo "$out" | head -n 40
		echo "format: FAIL (run: clang-format -i \$(git ls-files '*.c' '*.h'))"
		extra_fail=$((extra_fail + 1))
	fi
fi

note "layers (tools/check-layers.sh)"
if tools/check-layers.sh; then
	extra_pass=$((extra_pass + 1))
else
	extra_fail=$((extra_fail + 1))
fi

note "make demo without the test-only packages (tools/check-demo-fresh.sh)"
tools/check-demo-fresh.sh
case $? in
0) extra_pass=$((extra_pass + 1)) ;;
77) ;;
*) extra_fail=$((extra_fail + 1)) ;;
esac

note "gcc build with AddressSanitizer and UndefinedBehaviorSanitizer (build-test)"
if setup build-test gcc; then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		meson test -C build-test --print-errorlogs --num-processes 2 \
		--suite unit --suite vectors --suite scenarios --suite interop || status=1
else
	echo "build-test: BUILD FAILED"
	extra_fail=$((extra_fail + 1))
	status=1
fi

note "man pages up to date (tools/gen-man.sh --check) and the installed layout (tools/check-install.sh)"
for chk in "tools/gen-man.sh --check" "tools/check-install.sh build-test"; do
	$chk
	case $? in
	0) extra_pass=$((extra_pass + 1)) ;;
	77) ;;
	*) extra_fail=$((extra_fail + 1)) ;;
	esac
done

note "clang build with libFuzzer (build-fuzz)"
if setup build-fuzz clang -Dfuzz=true; then
	extra_pass=$((extra_pass + 1))
	meson test -C build-fuzz --print-errorlogs --num-processes 2 --suite fuzz || status=1
else
	echo "build-fuzz: BUILD FAILED"
	extra_fail=$((extra_fail + 1))
	status=1
fi

note "summary"
python3 - "$extra_pass" "$extra_fail" build-test/meson-logs/testlog.json build-fuzz/meson-logs/testlog.json <<'PY'
import json, sys
passed, failed, skipped = int(sys.argv[1]), int(sys.argv[2]), 0
skips = []
for path in sys.argv[3:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        t = json.loads(line)
        res = t.get("result")
        if res in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif res == "SKIP":
            skipped += 1
            skips.append(t.get("name"))
        else:
            failed += 1
            print("FAILED:", t.get("name"), res)
if skipped:
    print(f"{skipped} skipped: {', '.join(skips)} (see their logs for why)")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
rc=$?
[ $status -ne 0 ] && [ $rc -eq 0 ] && rc=1
exit $rc
