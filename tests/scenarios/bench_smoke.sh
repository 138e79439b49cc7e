#!/bin/sh
# spinat-bench nat --smoke: every figure of the NAT benchmark is made (the UDP table, raw
# ESP under spihash and masq, 002's dnat router against masq's NAPT), each rate is a
# positive number, and the forwarding made no allocation; spinat-bench lanes --smoke: a
# row for one lane and for two, with positive rates (it stops with an error when a packet
# is lost). The figures themselves are not judged: a loaded machine makes them anything.
#
#   bench_smoke.sh SPINAT_BENCH
set -u
bench=$1
out=$(mktemp /tmp/spinat-bench-smoke.XXXXXX)
trap 'rm -f "$out"' EXIT

fail() {
	echo "bench_smoke: $*" >&2
	cat "$out" >&2
	exit 1
}

t0=$(date +%s.%N)
"$bench" --smoke nat >"$out" 2>&1 || fail "spinat-bench --smoke nat exited with status $?"
echo "spinat-bench --smoke nat: $(echo "$(date +%s.%N) $t0" | awk '{ printf "%.2f", $1 - $2 }') s"
cat "$out"

# row PATTERN FIELDS: the one line matching PATTERN, brackets blanked, has FIELDS numbers
# after the pattern, all positive; prints them.
row() {
	awk -v p="$1" -v n="$2" '
		index($0, p) == 1 {
			rows++
			s = substr($0, length(p) + 1)
			gsub(/[()]/, " ", s)
			k = split(s, f, " ")
			if (k != n)
				exit 1
			for (i = 1; i <= k; i++)
				if (f[i] !~ /^[0-9.]+$/)
					exit 1
			line = s
		}
		END { if (rows != 1) exit 1; print line }' "$out"
}

# The UDP table: in2out and out2in (CPU, wall), create/s, bytes/map, allocations.
udp=$(row "  1000 " 7) || fail "no row for 1000 mappings"
# shellcheck disable=SC2086 # the numbers are words
set -- $udp
for v in "$1" "$2" "$3" "$4" "$5" "$6"; do
	awk -v v="$v" 'BEGIN { exit !(v > 0) }' || fail "1000 mappings: a figure of 0 ($udp)"
done
[ "$7" = 0 ] || fail "1000 mappings: $7 allocations while forwarding"

for s in spihash masq; do
	esp=$(grep "^  $s  *in " "$out" | tr -d '()' | awk '{ print $3, $4, $7, $8 }')
	[ -n "$esp" ] || fail "no ESP row for $s"
	for v in $esp; do
		awk -v v="$v" 'BEGIN { exit !(v > 0) }' || fail "ESP $s: a rate of 0 ($esp)"
	done
done

grep -q "^nat: 002's dnat router .* of 20 hosts" "$out" || fail "no dnat section"
for r in "masq (NAPT, rewrites)" "dnat (UDP by port)" "dnat (ESP by SPI block)" \
	"dnat, no IAPTT (FIG. 8)"; do
	ns=$(row "  $r" 2) || fail "no dnat row '$r'"
	# shellcheck disable=SC2086 # the numbers are words
	set -- $ns
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > 0 && b > 0) }' || fail "'$r': $ns"
done
grep -q "allocations while forwarding: 0$" "$out" ||
	fail "the dnat router allocated while forwarding (or said nothing of it)"
grep -q "^kernel NAT: skipped (--smoke)$" "$out" || fail "the kernel reference ran in --smoke"

"$bench" --smoke lanes >"$out" 2>&1 || fail "spinat-bench --smoke lanes exited with status $?"
cat "$out"
for l in 1 2; do
	# "    L |   encap  Nx |   decap  Nx | cores": both rates and the cores positive
	awk -v l="$l" '$1 == l && $2 == "|" { n++; ok = $3 > 0 && $6 > 0 && $9 > 0 }
		END { exit !(n == 1 && ok) }' "$out" || fail "no good row for $l lanes"
done
echo "PASS"
