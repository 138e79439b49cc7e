#!/bin/sh
# tshark, an independent decoder, decrypts spinat's ESP with the keys spinat used (its
# esp_sa table) for every transform tshark 4.0 supports (AES-GCM with 8, 12 and 16-byte
# ICVs, AES-CBC with HMAC-SHA1-96, -SHA-256-128, -MD5-96, NULL with HMAC), in transport
# and tunnel mode and in UDP 4500, and decodes AH in both modes. Every frame must show the
# expected protocol stack (the inner ICMP or TCP), every ESP ICV must verify, the inner IP
# and TCP checksums must be good, and there must be no expert info at all. The negative
# control gives tshark a wrong key for the first SA: its frames must not decode and must
# have a bad ICV, so the checks can fail. (tshark 4.0 has no ESN and no AES-GMAC: those are
# proven by the known-answer tests and the interop tests between spinat endpoints.)
#
#   esp_tshark.sh ESP_TSHARK_PCAP_PROGRAM
set -u
prog=$1

if ! command -v tshark >/dev/null 2>&1; then
	echo "SKIP: tshark is not installed (as root: apt-get install tshark)"
	exit 77
fi
if ! command -v python3 >/dev/null 2>&1; then
	echo "SKIP: python3 is needed to compare tshark's output"
	exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/spinat-esptshark.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
# A home of its own: the esp_sa table goes in its Wireshark profile, nothing else does.
export HOME="$work"
mkdir -p "$HOME/.config/wireshark"
echo "tshark $(tshark --version 2>/dev/null | head -n 1 | sed 's/^TShark (Wireshark) //')"

prefs="-o esp.enable_encryption_decode:TRUE -o esp.enable_authentication_check:TRUE
 -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE"

decode() { # PCAP OUT
	# shellcheck disable=SC2086
	tshark -n -r "$1" $prefs -T fields -E separator=/t -E occurrence=a -E aggregator=, \
		-e frame.number -e frame.protocols -e esp.icv_good -e esp.icv_bad \
		-e ip.checksum.status -e tcp.checksum.status -e icmp.checksum.status \
		-e _ws.expert.message >"$2" 2>"$work/stderr" || { cat "$work/stderr"; return 1; }
}

"$prog" "$work/esp.pcap" "$HOME/.config/wireshark/esp_sa" "$work/manifest" ||
	{ echo "FAIL: esp_tshark_pcap"; exit 1; }
decode "$work/esp.pcap" "$work/fields" || { echo "FAIL: tshark could not read the pcap"; exit 1; }
# shellcheck disable=SC2086
tshark -n -r "$work/esp.pcap" $prefs 2>/dev/null

"$prog" --wrong-key "$work/bad.pcap" "$HOME/.config/wireshark/esp_sa" "$work/manifest_bad" ||
	{ echo "FAIL: esp_tshark_pcap --wrong-key"; exit 1; }
decode "$work/bad.pcap" "$work/fields_bad" || { echo "FAIL: tshark could not read the pcap"; exit 1; }

python3 - "$work/manifest" "$work/fields" "$work/fields_bad" <<'PY'
import sys

want = {}
for line in open(sys.argv[1]):
    n, stack = line.split()
    want[n] = "raw:ip:" + stack

def rows(path):
    out = {}
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        f += [""] * (8 - len(f))
        out[f[0]] = f
    return out

good, bad = rows(sys.argv[2]), rows(sys.argv[3])
fail = 0
esp = 0
for n, stack in sorted(want.items(), key=lambda kv: int(kv[0])):
    f = good.get(n)
    if f is None:
        print(f"FAIL: frame {n} missing"); fail = 1; continue
    protos, icv_good, icv_bad, ipck, tcpck, icmpck, expert = f[1:8]
    if not (protos == stack or protos.startswith(stack + ":")):
        print(f"FAIL: frame {n}: {protos}, want {stack}"); fail = 1
    if ":esp:" in stack:
        esp += 1
        if icv_good != "1" or icv_bad not in ("", "0"):
            print(f"FAIL: frame {n}: ESP ICV not verified (good={icv_good} bad={icv_bad})")
            fail = 1
    for name, st in (("ip", ipck), ("tcp", tcpck), ("icmp", icmpck)):
        if st and any(s != "1" for s in st.split(",")):
            print(f"FAIL: frame {n}: {name} checksum status {st}"); fail = 1
    if expert:
        print(f"FAIL: frame {n}: expert info: {expert}"); fail = 1
# The negative control: the first SA's two frames must neither decode nor verify.
for n in ("1", "2"):
    protos, icv_good, icv_bad = bad[n][1:4]
    if protos.startswith(want[n]) or icv_bad != "1":
        print(f"FAIL: wrong key, frame {n} still decodes: {protos} icv_bad={icv_bad}")
        fail = 1
print(f"{len(want)} frames, {esp} ESP frames decrypted and verified; "
      f"wrong key: frames 1-2 {bad['1'][1]}, ICV bad")
sys.exit(fail)
PY
rc=$?
[ $rc -eq 0 ] && echo "PASS"
exit $rc
