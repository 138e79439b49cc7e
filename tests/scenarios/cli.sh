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
expect 2 "no parameter 'bogus'" --set bogus=1
expect 2 "parameter clients: 'many'" --set clients=many
expect 2 "parameter clients: '0'" --set clients=0
expect 2 "expected KEY=VALUE" --set clients
expect 2 "no technique 'nope'" --technique nope
expect 2 "no scenario 'moon'" moon
expect 2 "unknown kind" --set fault=melt:nat@1s
expect 2 "no node 'ghost'" --set fault=crash:ghost@1s --set duration=1s
expect 2 "usage:" --no-such-option
expect 0 "^plain  " --set duration=1s --technique plain
expect 0 "drops (node module.counter=packets)" --set duration=1s
[ "$status" -eq 0 ] && echo "cli: ok"
exit $status
