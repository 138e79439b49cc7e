#!/bin/sh
# Installs the Debian packages spinat needs for `make demo` (build) or `make check` (check).
# As root it runs apt-get for whatever is missing; otherwise it names the packages and fails.
set -eu

build_pkgs="gcc make pkg-config python3 meson ninja-build libssl-dev libpcap-dev"
check_pkgs="$build_pkgs libcmocka-dev clang libclang-rt-14-dev clang-format tshark libbpf-dev bpftool
  iproute2 iptables iputils-ping netcat-openbsd valgrind
  strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins pandoc man-db
  xl2tpd stun-client python3-aioice"

case "${1:-build}" in
build) want=$build_pkgs ;;
check) want=$check_pkgs ;;
*) echo "usage: $0 build|check" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "spinat: missing Debian packages:$missing" >&2
	echo "spinat: install them as root: apt-get install$missing" >&2
	exit 1
fi
echo "spinat: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# Keep charon from starting as a system service: tests run their own instances.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
# shellcheck disable=SC2086
if ! apt-get install -y -q --no-install-recommends $missing; then
	apt-get update -q
	apt-get install -y -q --no-install-recommends $missing
fi
