#!/usr/bin/env bash
# Runs Siteward's whole test suite: unit tests of every module and the end-to-end tests, against the real tools
# (openssl, curl, softhsm2, mosquitto). Installs the Debian packages the tests need when they are missing (needs
# root or sudo).
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$root"

packages=(openssl curl softhsm2 opensc postgresql-15 mosquitto mosquitto-clients python3-onnx python3-numpy)
missing=()
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "test-all: installing ${missing[*]}" >&2
    # wait for another apt/dpkg run to finish rather than failing on its lock
    $sudo apt-get -o DPkg::Lock::Timeout=600 update -q >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends \
        "${missing[@]}" >&2
fi

# PostgreSQL 15 for the store and audit tests (docs/storage.md): a local cluster run by the postgres user (the
# server refuses root), database siteward_test owned by user siteward (password siteward), reached over TCP on
# 127.0.0.1:5432. Skipped when SITEWARD_TEST_PG_URL names another database.
if [ -z "${SITEWARD_TEST_PG_URL:-}" ]; then
    if ! pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -qx "15 main"; then
        $sudo pg_createcluster 15 main >&2
    fi
    if ! pg_lsclusters -h | awk '$1 == "15" && $2 == "main" {print $4}' | grep -qx online; then
        $sudo pg_ctlcluster 15 main start >&2
    fi
    for _ in $(seq 1 30); do
        pg_isready -q -h 127.0.0.1 -p 5432 && break
        sleep 1
    done
    pg_isready -h 127.0.0.1 -p 5432 >&2
    pgsql() { $sudo runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -tA "$@"; }
    [ "$(pgsql -c "SELECT 1 FROM pg_roles WHERE rolname = 'siteward'")" = "1" ] \
        || pgsql -c "CREATE ROLE siteward LOGIN PASSWORD 'siteward'"
    [ "$(pgsql -c "SELECT 1 FROM pg_database WHERE datname = 'siteward_test'")" = "1" ] \
        || pgsql -c "CREATE DATABASE siteward_test OWNER siteward"
fi

# Maven's exit status is not trusted alone: a test report listener that fails (e.g. on a huge failure message) once
# let a failing run exit 0. Every test report this run wrote is checked for failures and errors as well.
marker=$(mktemp)
trap 'rm -f "$marker"' EXIT
mvn -B -ntp verify "$@"
failed=$(find . -path '*/target/*-reports/TEST-*.xml' -newer "$marker" -print0 \
    | xargs -0 -r grep -l -E '<testsuite [^>]*(failures|errors)="[1-9]' || true)
if [ -n "$failed" ]; then
    echo "test-all: Maven exited 0 but these test reports record failures or errors:" >&2
    echo "$failed" >&2
    exit 1
fi
