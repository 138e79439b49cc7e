#!/bin/sh
# Part of `make check`: the README's first command, `make demo`, on a machine that has only
# what `tools/deps.sh build` installs. A copy of the work tree is built and run in a private
# mount namespace where every file of the -dev packages that only `make check` needs is
# hidden behind /dev/null, so a build step that leans on one of them fails here, not on a
# user's fresh machine. Needs root (unshare -m); exits 77 (skipped) without it.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null 2>&1; then
	echo "SKIP: needs root and unshare (a private mount namespace)"
	exit 77
fi

# The test-only -dev packages: in check_pkgs, not in build_pkgs.
only=$(sed -n '/^build_pkgs="/,/^case/p' tools/deps.sh | sed '/^case/d' |
	sh -c '. /dev/stdin; for p in $check_pkgs; do
		case " $build_pkgs " in *" $p "*) ;; *) echo "$p" ;; esac; done' | grep -- '-dev$')
if [ -z "$only" ]; then
	echo "FAIL: found no test-only -dev packages in tools/deps.sh"
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/spinat-demo.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
# The work tree as committed or staged, plus untracked files that are not ignored: what a
# clone of this change would hold.
git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$tmp" 2>/dev/null ||
	{ echo "FAIL: could not copy the work tree"; exit 1; }

hidden=0
for p in $only; do
	n=$(dpkg -L "$p" 2>/dev/null | wc -l)
	hidden=$((hidden + n))
done
echo "hiding the files of: $(echo $only) ($hidden paths)"

# The demo's own run is cut short (--runs 1): this checks that it builds and runs, the
# table itself is checked by the scenario tests.
unshare -m sh -c '
	mount --make-rprivate /
	for p in '"$(echo $only)"'; do
		for f in $(dpkg -L "$p" 2>/dev/null); do
			[ -f "$f" ] && [ ! -L "$f" ] && mount --bind /dev/null "$f"
		done
	done
	if pkg-config --exists cmocka 2>/dev/null; then
		echo "FAIL: cmocka is still visible in the private namespace"; exit 1
	fi
	cd "'"$tmp"'" && make demo DEMO_ARGS="--runs 1"
' >"$tmp.log" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
	tail -n 20 "$tmp.log"
	rm -f "$tmp.log"
	echo "FAIL: make demo does not work without the test-only packages (exit $rc)"
	exit 1
fi
grep -q '^ *spihash ' "$tmp.log" || { tail -n 20 "$tmp.log"; rm -f "$tmp.log";
	echo "FAIL: make demo printed no table"; exit 1; }
rm -f "$tmp.log"
echo "make demo builds and runs without: $(echo $only)"
