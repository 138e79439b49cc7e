#!/bin/sh
# An interop test with every spinatd it starts under valgrind's memcheck: no invalid
# access, no uninitialised value, no definite or indirect leak in a whole run, start to
# SIGTERM. The tests start spinatd as `$SPINAT_VALGRIND spinatd ...` and check its exit
# status when they stop it, which valgrind turns into 99 on any error or leak.
# valgrind cannot run the sanitizer build, so this builds spinatd and spinat without
# sanitizers in build-valgrind/ next to the other build directories (incrementally after
# the first time).
#
#   valgrind.sh SOURCE_ROOT TEST [ARG...]   runs ./TEST SPINATD SPINAT ARG... from this
#                                           directory, e.g. valgrind.sh /src nat_gateway.sh
set -u
top=$1 test=$2
shift 2
here=$(dirname "$0")

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (network namespaces, TUN devices, raw sockets, NFQUEUE)"
	exit 77
fi
if ! command -v valgrind >/dev/null 2>&1; then
	echo "SKIP: valgrind is missing (tools/deps.sh check installs it)"
	exit 77
fi
dir=$top/build-valgrind
if [ ! -f "$dir/build.ninja" ]; then
	meson setup "$dir" "$top" --buildtype=debugoptimized >"$dir.setup.log" 2>&1 ||
		{ cat "$dir.setup.log"; echo "FAIL: meson setup $dir"; exit 1; }
fi
nice ninja -C "$dir" apps/spinatd apps/spinat >/dev/null || { echo "FAIL: build in $dir"; exit 1; }
SPINAT_VALGRIND="valgrind -q --error-exitcode=99 --leak-check=full"
SPINAT_VALGRIND="$SPINAT_VALGRIND --errors-for-leak-kinds=definite,indirect"
SPINAT_VALGRIND="$SPINAT_VALGRIND --show-leak-kinds=definite,indirect"
SPINAT_VALGRIND="$SPINAT_VALGRIND --suppressions=$here/valgrind-libbpf.supp"
export SPINAT_VALGRIND
exec "$here/$test" "$dir/apps/spinatd" "$dir/apps/spinat" "$@"
