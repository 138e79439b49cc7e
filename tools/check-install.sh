#!/bin/sh
# `make check`: install a build into a DESTDIR and check the layout an operator relies on
# (FHS: the daemon and its CLI in sbin, the simulator and benchmark in bin; the systemd
# unit pointing at the installed daemon; four man pages that render; /etc/spinat; the
# example configurations, each of which the installed spinatd accepts with --check-config).
#   tools/check-install.sh [BUILD_DIR]   (default build-test)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build-test}
dest=$(mktemp -d "${TMPDIR:-/tmp}/spinat-install.XXXXXX") || exit 1
trap 'rm -rf "$dest"' EXIT
fails=0
bad() { echo "install: $*"; fails=$((fails + 1)); }

meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >"$dest.log" 2>&1 ||
	{ cat "$dest.log"; rm -f "$dest.log"; echo "install: meson install failed"; exit 1; }
rm -f "$dest.log"
prefix=$(meson introspect "$build" --buildoptions |
	python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
root=$dest$prefix
for f in sbin/spinatd sbin/spinat bin/spinat-sim bin/spinat-bench; do
	[ -x "$root/$f" ] || bad "$prefix/$f missing"
done
[ -e "$root/bin/spinatd" ] && bad "spinatd installed in bin"
for f in man8/spinatd.8 man8/spinat.8 man1/spinat-sim.1 man5/spinat.conf.5; do
	page=$root/share/man/$f
	if [ ! -f "$page" ]; then
		bad "man page $f missing"
	elif command -v man >/dev/null 2>&1; then
		err=$(MANWIDTH=80 man -l "$page" 2>&1 >/dev/null)
		[ -z "$err" ] || bad "man page $f: $err"
		MANWIDTH=80 man -l "$page" 2>/dev/null | grep -q "^EXIT STATUS\|^SYNOPSIS" || bad "man page $f: no sections"
	fi
done
unit=$(find "$dest" -name 'spinatd@.service' | head -n 1)
if [ -z "$unit" ]; then
	bad "no spinatd@.service"
else
	grep -q "^ExecStart=$prefix/sbin/spinatd -c /etc/spinat/%i.conf" "$unit" || bad "unit's ExecStart: $(grep ExecStart= "$unit")"
	grep -q "^ExecReload=/bin/kill -HUP \$MAINPID" "$unit" || bad "unit has no ExecReload"
	if command -v systemd-analyze >/dev/null 2>&1; then
		out=$(systemd-analyze verify "$unit" 2>&1 | grep -v "Command .* is not executable\|Command 'man \|not found\|is not accessible" | grep -i "spinatd@") &&
			bad "systemd-analyze: $out"
	fi
fi
etc=$(find "$dest" -type d -path '*etc/spinat' | head -n 1)
[ -n "$etc" ] || bad "no etc/spinat directory"
ex=$root/share/doc/spinat/examples
for s in masq spihash serial natt ipaddr oldest; do
	[ -f "$ex/gateway-$s.conf" ] || bad "no gateway example for strategy $s"
done
n=0
for conf in "$ex"/*.conf; do
	[ -f "$conf" ] || continue
	n=$((n + 1))
	out=$("$root/sbin/spinatd" --check-config -c "$conf" 2>&1) || bad "$(basename "$conf"): $out"
done
[ $n -ge 10 ] || bad "only $n example configurations"
[ -f "$root/share/doc/spinat/OPERATIONS.md" ] || bad "docs/OPERATIONS.md not installed"
[ $fails -eq 0 ] || exit 1
echo "install: ok ($n example configurations valid, layout under $prefix)"
