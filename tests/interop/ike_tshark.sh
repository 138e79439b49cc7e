#!/bin/sh
# tshark, an independent IKEv2 decoder, reads every kind of IKE message spinat sends
# (written by ike_tshark_pcap: IKE_SA_INIT with COOKIE and INVALID_KE_PAYLOAD, IKE_AUTH,
# also in RFC 7383 fragments, CREATE_CHILD_SA, INFORMATIONAL; AES-GCM and AES-CBC + HMAC;
# ports 500 and 4500) with
# spinat's key log as its ikev2_decryption_table; with PSK and with certificates (RSA and
# ECDSA, RFC 7427 signatures, CERT and CERTREQ payloads), and must find: every frame ISAKMP, no
# malformed packet and no expert info, every SK payload decrypted and every ICV correct.
# The negative control (one ICV octet flipped) must be flagged, so the checks can fail.
#
#   ike_tshark.sh IKE_TSHARK_PCAP_PROGRAM
set -u
prog=$1

if ! command -v tshark >/dev/null 2>&1; then
	echo "SKIP: tshark is not installed (as root: apt-get install tshark)"
	exit 77
fi
if ! command -v python3 >/dev/null 2>&1; then
	echo "SKIP: python3 is needed to tamper with the negative control"
	exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/spinat-iketshark.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
export HOME="$work"
mkdir -p "$HOME/.config/wireshark"

"$prog" "$work/ike.pcap" "$HOME/.config/wireshark/ikev2_decryption_table" ||
	{ echo "FAIL: ike_tshark_pcap"; exit 1; }
echo "tshark $(tshark --version 2>/dev/null | head -n 1 | sed 's/^TShark (Wireshark) //')"
tshark -n -r "$work/ike.pcap" 2>/dev/null

fail=0
frames=$(tshark -n -r "$work/ike.pcap" -T fields -e frame.number 2>/dev/null | wc -l)
isakmp=$(tshark -n -r "$work/ike.pcap" -Y isakmp -T fields -e frame.number 2>/dev/null | wc -l)
expert=$(tshark -n -r "$work/ike.pcap" -T fields -e _ws.expert.message 2>/dev/null | grep -c .)
malformed=$(tshark -n -r "$work/ike.pcap" -Y _ws.malformed -T fields -e frame.number 2>/dev/null |
	wc -l)
tshark -n -r "$work/ike.pcap" -V 2>/dev/null >"$work/verbose"
enc=$(grep -c "Payload: Encrypted and Authenticated (46)" "$work/verbose")
# RFC 7383 fragments: each decrypted and its ICV checked on its own, the message reassembled
skf=$(grep -c "Payload: Encrypted and Authenticated Fragment (53)" "$work/verbose")
reasm=$(tshark -n -r "$work/ike.pcap" 2>/dev/null | grep -c "IKE_AUTH.*(fragment [0-9]*/[0-9]*) (reassembled)")
dec=$(grep -c "Decrypted Data" "$work/verbose")
good=$(grep -c "Integrity Checksum Data: .*\[correct\]" "$work/verbose")
bad=$(grep -c "incorrect" "$work/verbose")
echo "frames $frames, ISAKMP $isakmp, SK payloads $enc, SKF payloads $skf (messages" \
	"reassembled $reasm), decrypted $dec, ICV correct $good, incorrect $bad, malformed" \
	"$malformed, expert info $expert"
[ "$skf" -ge 8 ] && [ "$reasm" -eq 4 ] ||
	{ echo "FAIL: IKE_AUTH in fragments not decoded (4 messages, both ciphers)"; fail=1; }
enc=$((enc + skf))
[ "$frames" -ge 50 ] || { echo "FAIL: too few frames"; fail=1; }
for want in "Payload: Certificate (37)" "Payload: Certificate Request (38)" \
	"Digital Signature (14)" "SIGNATURE_HASH_ALGORITHMS" "Non-ESP Marker" "COOKIE" \
	"INVALID_KE_PAYLOAD" "REKEY_SA" "Payload: Delete (42)"; do
	grep -q "$want" "$work/verbose" || { echo "FAIL: no '$want' decoded"; fail=1; }
done
[ "$isakmp" -eq "$frames" ] || { echo "FAIL: a frame did not decode as ISAKMP"; fail=1; }
[ "$malformed" -eq 0 ] || { echo "FAIL: malformed frames"; fail=1; }
[ "$expert" -eq 0 ] || {
	echo "FAIL: expert info:"
	tshark -n -r "$work/ike.pcap" -T fields -e frame.number -e _ws.expert.message 2>/dev/null |
		awk -F'\t' '$2 != ""'
	fail=1
}
[ "$enc" -gt 0 ] && [ "$dec" -eq "$enc" ] || { echo "FAIL: an SK payload was not decrypted"; fail=1; }
[ "$good" -eq "$enc" ] && [ "$bad" -eq 0 ] || { echo "FAIL: ICVs not all correct"; fail=1; }

# Negative control: flip the last octet of the file (the ICV of the last frame).
python3 - "$work/ike.pcap" "$work/bad.pcap" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[-1] ^= 0x01
open(sys.argv[2], "wb").write(b)
PY
if tshark -n -r "$work/bad.pcap" -V 2>/dev/null | grep -q "incorrect"; then
	echo "negative control flagged"
else
	echo "FAIL: the tampered ICV was not flagged"
	fail=1
fi
[ $fail -eq 0 ] && echo "PASS"
exit $fail
