#!/bin/sh
# The endpoint daemons of endpoint.sh once more, under valgrind: no invalid access, no
# uninitialised value, no leak (definite or indirect) in a whole run, start to SIGTERM.
# valgrind cannot run the sanitizer build, so this builds spinatd without sanitizers in
# build-valgrind/ next to the other build directories (incrementally after the first time).
#
#   endpoint_valgrind.sh SOURCE_ROOT
set -u
top=$1
here=$(dirname "$0")

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (network namespaces, TUN devices, raw sockets)"
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
VALGRIND=1 exec "$here/endpoint.sh" "$dir/apps/spinatd" "$dir/apps/spinat" \
	esp:tunnel:aes-gcm-16:none:udp:yes esp:transport:aes-cbc:hmac-sha256-128:raw:no
