#!/bin/sh
# The include rules of the source tree (docs/HACKING.md, "Layers"), checked on every
# #include under src/, apps/ and bench/:
#   - a folder includes only folders on its own rung or an earlier one:
#       base . proto, crypto . ipsec, nat, l2tp, pki, io . ike . host . sim . apps, bench
#   - the engines include nothing from src/sim/ (covered by the rungs; named apart in the
#     message);
#   - <openssl/...> only inside src/crypto/ (benchmarks and tests may compare against
#     libcrypto directly and are not held to it).
# Prints each offending include and exits 1, or prints "layers: ok".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

files=$(git ls-files 'src/*.[ch]' 'apps/*.[ch]' 'bench/*.[ch]' 2>/dev/null) ||
	files=$(find src apps bench -name '*.[ch]')
# shellcheck disable=SC2086
awk '
BEGIN {
	n = split("base:0 proto:1 crypto:1 ipsec:2 nat:2 l2tp:2 pki:2 io:2 ike:3 host:4 sim:5 apps:6 bench:6", r, " ")
	for (i = 1; i <= n; i++) { split(r[i], kv, ":"); rung[kv[1]] = kv[2] }
	bad = 0
}
FNR == 1 {
	split(FILENAME, parts, "/")
	from = parts[1] == "src" ? parts[2] : parts[1]
	if (!(from in rung)) {
		print FILENAME ": folder \"" from "\" has no rung (tools/check-layers.sh, docs/HACKING.md)"
		bad = 1
	}
}
/^[ \t]*#[ \t]*include[ \t]*[<"]/ {
	line = $0
	sub(/^[ \t]*#[ \t]*include[ \t]*/, "", line)
	kind = substr(line, 1, 1)
	path = substr(line, 2)
	sub(/[>"].*$/, "", path)
	if (kind == "<") {
		if (path ~ /^openssl\// && FILENAME !~ /^src\/crypto\// && FILENAME !~ /^bench\//) {
			print FILENAME ":" FNR ": <" path "> outside src/crypto/ (use the crypto/ helpers)"
			bad = 1
		}
		next
	}
	if (index(path, "/") == 0 || !(from in rung))
		next
	to = substr(path, 1, index(path, "/") - 1)
	if (!(to in rung))
		next
	if (to == "sim" && from != "sim" && rung[from] < rung["apps"]) {
		print FILENAME ":" FNR ": includes " path ": an engine must not know the simulator"
		bad = 1
	} else if (rung[to] > rung[from]) {
		print FILENAME ":" FNR ": includes " path ": " to " is on a later rung than " from
		bad = 1
	}
}
END {
	if (bad) { print "layers: FAIL (docs/HACKING.md, \"Layers\")"; exit 1 }
	print "layers: ok"
}
' $files
