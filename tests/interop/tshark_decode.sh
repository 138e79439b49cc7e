#!/bin/sh
# tshark, an independent decoder, reads one pcap holding every packet proto/ builds
# (tests/common/samples.c, written by tshark_pcap) with IP, UDP and TCP checksum
# validation on (ICMP's is always on), and must find: the expected protocol stack for
# each frame, no malformed packet, no checksum or error expert info, and every checksum
# verified good. The negative controls in the same file (a corrupted IP, UDP, TCP and ICMP
# checksum, an IKE payload and an L2TP AVP whose lengths lie) must each be flagged, which
# proves the checks above can fail.
#
#   tshark_decode.sh TSHARK_PCAP_PROGRAM
set -u
prog=$1

if ! command -v tshark >/dev/null 2>&1; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: tshark is not installed (as root: apt-get install tshark)"
		exit 77
	fi
	echo "tshark_decode: installing tshark"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends tshark >/dev/null 2>&1 ||
		{ apt-get update -q >/dev/null 2>&1 &&
			apt-get install -y -q --no-install-recommends tshark >/dev/null 2>&1; }
	if ! command -v tshark >/dev/null 2>&1; then
		echo "SKIP: tshark is not installed and apt-get could not install it"
		exit 77
	fi
fi
if ! command -v python3 >/dev/null 2>&1; then
	echo "SKIP: python3 is needed to compare tshark's output"
	exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/spinat-tshark.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
# A home of its own: no personal Wireshark preferences change what is decoded.
export HOME="$work"

"$prog" "$work/samples.pcap" "$work/manifest" || { echo "FAIL: tshark_pcap"; exit 1; }

prefs="-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE"
# shellcheck disable=SC2086
if ! tshark -n -r "$work/samples.pcap" $prefs -T fields -E separator=/t -E occurrence=a \
	-E aggregator=, -e frame.number -e frame.protocols -e ip.checksum.status \
	-e udp.checksum.status -e tcp.checksum.status -e icmp.checksum.status \
	-e _ws.expert.group -e _ws.expert.severity -e _ws.expert.message \
	>"$work/fields" 2>"$work/stderr"; then
	cat "$work/stderr"
	echo "FAIL: tshark could not read the pcap"
	exit 1
fi
echo "tshark $(tshark --version 2>/dev/null | head -n 1 | sed 's/^TShark (Wireshark) //')"
# shellcheck disable=SC2086
tshark -n -r "$work/samples.pcap" $prefs 2>/dev/null
echo "tshark -z expert (every error and warning must come from a negative control):"
# shellcheck disable=SC2086
tshark -n -r "$work/samples.pcap" $prefs -q -z expert,note 2>/dev/null

python3 - "$work/manifest" "$work/fields" <<'PY'
import sys

# Expert info groups and severities (epan/proto.h).
PI_CHECKSUM, PI_MALFORMED, PI_ERROR = 0x01000000, 0x07000000, 0x00800000
STATUS = ["ip.checksum.status", "udp.checksum.status", "tcp.checksum.status",
          "icmp.checksum.status"]
GOOD, NOT_PRESENT = "1", "3"

manifest = [l.split() for l in open(sys.argv[1]) if l.strip()]
frames = {}
for line in open(sys.argv[2]):
    f = line.rstrip("\n").split("\t")
    f += [""] * (9 - len(f))
    frames[int(f[0])] = {
        "protocols": f[1],
        "status": {name: [v for v in f[2 + i].split(",") if v] for i, name in enumerate(STATUS)},
        "groups": [int(v) for v in f[6].split(",") if v],
        "severities": [int(v) for v in f[7].split(",") if v],
        "messages": f[8],
    }

failures = []
def fail(num, name, why):
    failures.append(f"frame {num} ({name}): {why}")

if len(frames) != len(manifest):
    failures.append(f"tshark saw {len(frames)} frames, the pcap has {len(manifest)}")
for num, name, protocols, check, field in manifest:
    num = int(num)
    fr = frames.get(num)
    if fr is None:
        fail(num, name, "missing from tshark's output")
        continue
    if fr["protocols"] != protocols:
        fail(num, name, f"decoded as {fr['protocols']}, expected {protocols}")
    layers = protocols.split(":")
    if check == "ok":
        if "_ws.malformed" in fr["protocols"] or PI_MALFORMED in fr["groups"]:
            fail(num, name, f"malformed: {fr['messages']}")
        if PI_CHECKSUM in fr["groups"]:
            fail(num, name, f"checksum expert info: {fr['messages']}")
        if PI_ERROR in fr["severities"]:
            fail(num, name, f"error expert info: {fr['messages']}")
        # PCP: no expert info at all, except that tshark does not know spinat's GPN
        # option (code 100, RFC 6887 19.4 Private Use): one warning per such option.
        if "portcontrol" in layers:
            extra = [m for m in fr["messages"].split(",") if m and m != "Unknown option: 100"]
            if extra:
                fail(num, name, f"PCP expert info: {extra}")
        for st in STATUS:
            proto = st.split(".")[0]
            vals = fr["status"][st]
            if proto in layers and not vals:
                fail(num, name, f"{st} absent: the checksum was not verified")
            for v in vals:
                # RFC 3948 2.1: ESP-in-UDP may go without a UDP checksum.
                zero_ok = st == "udp.checksum.status" and "udpencap:esp" in protocols
                if v != GOOD and not (v == NOT_PRESENT and zero_ok):
                    fail(num, name, f"{st} = {v}, not good")
    elif check == "bad_csum":
        if "0" not in fr["status"][field]:
            fail(num, name, f"corrupted checksum not flagged: {field} = {fr['status'][field]}")
        if PI_CHECKSUM not in fr["groups"]:
            fail(num, name, "no checksum expert info for a corrupted checksum")
    elif check == "malformed":
        if PI_MALFORMED not in fr["groups"] and "_ws.malformed" not in fr["protocols"]:
            fail(num, name, "a lying length was not reported as malformed")
    else:
        fail(num, name, f"unknown check {check}")

good = sum(1 for m in manifest if m[3] == "ok")
print(f"tshark_decode: {good} packets decode cleanly, {len(manifest) - good} negative controls flagged"
      if not failures else "tshark_decode: FAILED")
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
PY
