#!/usr/bin/env bash
# Installs what building and testing mod_backchannel_logout needs on Debian 12.
#
# Usage: tools/install-deps.sh        (as root; safe to re-run)
#
# When every package is already installed, apt is not touched at all, so a
# re-run takes well under a second and works without root. When a package is
# missing, the script must run as root.
set -euo pipefail

PACKAGES=(
    # build
    build-essential autoconf automake libtool pkg-config
    apache2 apache2-dev libapr1-dev libaprutil1-dev
    libcjose-dev libjansson-dev libssl-dev libcurl4-openssl-dev
    # unit tests, sanitizers, fuzzing
    check valgrind clang libclang-rt-14-dev
    # integration tests (Debian's Python: PyPI is not used)
    python3 python3-pytest python3-requests python3-jwcrypto python3-cryptography
    curl
    # fleet stores, benchmarks
    memcached redis-server wrk
    # end-to-end tests and the demo: the OP is npm's oidc-provider, the
    # companion is mod_auth_openidc, the browser is Debian's Chromium
    nodejs libapache2-mod-auth-openidc chromium chromium-driver
)

log() { printf 'install-deps: %s\n' "$*"; }

missing_packages() {
    local pkg status
    for pkg in "${PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
        if [ "$status" != "installed" ]; then
            printf '%s\n' "$pkg"
        fi
    done
}

# Installing apache2 starts Debian's own httpd on port 80 on systems with an
# init system. The tests start their own httpd on loopback ports, so the
# distribution's instance only costs memory: stop it if it runs. Best effort:
# never fail here.
stop_distro_apache() {
    local pidfile=/var/run/apache2/apache2.pid pid
    [ -r "$pidfile" ] || return 0
    pid=$(cat "$pidfile" 2>/dev/null || true)
    case "$pid" in ''|*[!0-9]*) return 0 ;; esac
    kill -0 "$pid" 2>/dev/null || return 0
    log "stopping the distribution's apache2 (pid $pid); the tests run their own"
    if command -v apache2ctl >/dev/null 2>&1; then
        apache2ctl stop >/dev/null 2>&1 || true
    fi
    if kill -0 "$pid" 2>/dev/null && command -v service >/dev/null 2>&1; then
        service apache2 stop >/dev/null 2>&1 || true
    fi
    return 0
}

main() {
    if ! command -v dpkg-query >/dev/null 2>&1; then
        log "dpkg-query not found: this script supports Debian 12 (and derivatives) only" >&2
        exit 1
    fi

    local missing=()
    mapfile -t missing < <(missing_packages)

    if [ "${#missing[@]}" -eq 0 ]; then
        log "all ${#PACKAGES[@]} packages already installed"
    else
        if [ "$(id -u)" -ne 0 ]; then
            log "missing packages: ${missing[*]}" >&2
            log "run this script as root (e.g. sudo bash tools/install-deps.sh) to install them" >&2
            exit 1
        fi
        log "installing: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update
        apt-get install -y "${PACKAGES[@]}"
    fi

    if [ "$(id -u)" -eq 0 ]; then
        stop_distro_apache || true
    fi
}

main "$@"
