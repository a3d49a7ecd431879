#!/usr/bin/env bash
# Runs Siteward's whole test suite: unit tests of every module and the end-to-end tests, against the real tools
# (openssl, curl, softhsm2, mosquitto). Installs the Debian packages the tests need when they are missing (needs
# root or sudo).
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$root"

packages=(openssl curl softhsm2 opensc mosquitto mosquitto-clients)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "test-all: installing ${missing[*]}" >&2
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    # wait for another apt/dpkg run to finish rather than failing on its lock
    $sudo apt-get -o DPkg::Lock::Timeout=600 update -q >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends \
        "${missing[@]}" >&2
fi

exec mvn -B -ntp verify "$@"
