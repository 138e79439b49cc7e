#!/bin/sh
# spinat-sim's command line: help, list, and clear errors with exit status 2 for bad input.
set -u
sim=$1
out=$(mktemp /tmp/spinat-cli.XXXXXX)
err=$(mktemp /tmp/spinat-cli.XXXXXX)
trap 'rm -f "$out" "$err"' EXIT
status=0

# expect STATUS PATTERN-IN-OUTPUT ARGS...: run, check the exit status and that stdout or
# stderr contains the pattern.
expect() {
	want=$1 pat=$2
	shift 2
	"$sim" "$@" >"$out" 2>"$err"
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "cli: spinat-sim $*: exit $got, want $want" >&2
		cat "$err" >&2
		status=1
	elif ! grep -q -- "$pat" "$out" "$err"; then
		echo "cli: spinat-sim $*: no '$pat' in the output" >&2
		status=1
	fi
}

expect 0 "usage: spinat-sim" --help
expect 0 "Exit status" --help
expect 0 "conference: N clients" --list
expect 0 "nat.timeout_udp" --list
expect 0 "plain " --list
expect 0 "Runs per technique by default: 10" --list
expect 2 "no parameter 'bogus'" --set bogus=1
expect 2 "parameter clients: 'many'" --set clients=many
expect 2 "parameter clients: '0'" --set clients=0
expect 2 "expected KEY=VALUE" --set clients
expect 2 "no technique 'nope'" --technique nope
expect 2 "no scenario 'moon'" moon
expect 2 "unknown kind" --set fault=melt:nat@1s
expect 2 "no node 'ghost'" --set fault=crash:ghost@1s --set duration=1s
expect 2 "usage:" --no-such-option
expect 2 "--runs: '0' is not a number from 1 to 1000" --runs 0
expect 2 "--runs: 'many'" --runs many
expect 0 "^plain  " --set duration=1s --technique plain
# one run: its table in packets and its drops one by one
expect 0 " recovery ovh/pkt" --set duration=1s --runs 1
expect 0 "drops (node module.counter=packets)" --set duration=1s --runs 1
# the conference scenario's default: ten runs, aggregated
expect 0 "seed 1, 10 runs per technique (seeds 1 to 10)" --set duration=1s -t plain
expect 0 " recovered   median    worst" --set duration=1s -t plain
expect 0 "drops, summed over the 10 runs" --set duration=1s -t plain
expect 0 "^plain            -     1200   100.00%" --set duration=1s --set fault=none --runs 3 -t plain
expect 0 "slowest recovery of each technique" --set duration=3s --set fault=crash:nat@2s+1s --runs 2 -t plain
expect 0 "Every technique ran 2 times, with seeds 5 to 6" --seed 5 --runs 2 --set duration=1s -t plain
# --version; machine-readable tables and the SVG chart
expect 0 "^spinat-sim [0-9]" --version
expect 2 "--format: 'xml' is not text, json or csv" --format xml
expect 0 "^technique,runs,tunnels_up," --set duration=1s --runs 2 -t plain,natt -f csv
expect 0 "^natt,2,8,8,800," --set duration=1s --set fault=none --runs 2 -t plain,natt -f csv
expect 0 '"technique": "natt", "tunnels_up": 4' --set duration=1s --set fault=none --runs 1 -t natt -f json
if ! "$sim" --set duration=1s --runs 2 -t plain,masq -f json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["scenario"] == "conference" and d["runs"] == 2, d
assert [t["technique"] for t in d["techniques"]] == ["plain", "masq"], d
assert all(0 <= t["delivered_pct"] <= 100 for t in d["techniques"]), d
'; then
	echo "cli: spinat-sim -f json is not the table as JSON" >&2
	status=1
fi
svg=$(mktemp /tmp/spinat-cli.XXXXXX)
if ! "$sim" --set duration=3s --set fault=crash:nat@2s+1s --runs 2 -t plain,ipaddr --svg "$svg" >"$out" ||
	! grep -q "^plain " "$out" || ! python3 -c '
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
text = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
for want in ("delivered", "misdelivered", "recovery", "plain", "ipaddr", "never"):
    assert want in text, want
assert len(list(root.iter("{http://www.w3.org/2000/svg}rect"))) >= 5
' "$svg"; then
	echo "cli: spinat-sim --svg: no text table, or the chart lacks its parts" >&2
	status=1
fi
rm -f "$svg"
# the staged races run once
expect 0 "^seed 1, parameters:" race1 -t plain
[ "$status" -eq 0 ] && echo "cli: ok"
exit $status
