#!/bin/sh
# The man pages: docs/man/*.md (pandoc markdown with a title block) -> docs/man/*.[158]
# (roff, committed, so that building and installing need no pandoc).
#   tools/gen-man.sh           regenerate the roff files
#   tools/gen-man.sh --check   fail when a committed roff file differs from its source
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
command -v pandoc >/dev/null 2>&1 || { echo "SKIP: pandoc is missing (tools/deps.sh check installs it)"; exit 77; }
status=0
for md in "$top"/docs/man/*.md; do
	out=${md%.md}
	tmp=$(mktemp)
	pandoc --standalone --from markdown --to man "$md" -o "$tmp" || { rm -f "$tmp"; exit 1; }
	if [ "${1:-}" = --check ]; then
		if ! cmp -s "$tmp" "$out"; then
			echo "man: $(basename "$out") is out of date: run tools/gen-man.sh"
			status=1
		fi
		# the page must render without warnings
		if command -v man >/dev/null 2>&1 &&
			[ -n "$(MANWIDTH=80 man -l "$tmp" 2>&1 >/dev/null)" ]; then
			echo "man: $(basename "$out") renders with warnings"
			status=1
		fi
		rm -f "$tmp"
	else
		mv "$tmp" "$out"
		chmod 644 "$out"
	fi
done
[ $status -eq 0 ] && [ "${1:-}" = --check ] && echo "man: every page up to date"
exit $status
