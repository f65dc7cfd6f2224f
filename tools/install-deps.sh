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
    # real app backends of the guard's tests: PHP's own sessions under php-fpm
    php8.2-fpm
    # fleet stores, benchmarks
    memcached redis-server wrk strace
    # end-to-end tests and the demo: the OP is npm's oidc-provider, the
    # companion is mod_auth_openidc, the browser is Debian's Chromium
    nodejs libapache2-mod-auth-openidc chromium chromium-driver
    # the guard against real app stacks (test_guard_apps.py): Flask/Werkzeug
    # and PHP's own sessions on php-fpm; express comes from npm
    python3-flask php8.2-fpm
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

# node-oidc-provider 9 (the end-to-end tests' OP and the demo's) needs
# Node.js 20.12 or later (it uses crypto.hash), and `npm`. Debian 12's own
# nodejs is 18 and comes without npm, so when node is missing or older, the
# NodeSource repository for Node.js 22 LTS is added (their documented manual
# setup: a signed-by keyring and one sources.list.d file) and nodejs
# installed from it. BCL_SKIP_NODESOURCE=1 skips this; the end-to-end tests
# then fail with a message saying which Node.js they need.
NODE_MIN_MAJOR=20
NODE_MIN_MINOR=12

node_is_recent() {
    local v major minor
    command -v node >/dev/null 2>&1 || return 1
    command -v npm >/dev/null 2>&1 || return 1
    v=$(node -p 'process.versions.node' 2>/dev/null) || return 1
    major=${v%%.*}
    minor=${v#*.}
    minor=${minor%%.*}
    case "$major$minor" in ''|*[!0-9]*) return 1 ;; esac
    [ "$major" -gt "$NODE_MIN_MAJOR" ] ||
        { [ "$major" -eq "$NODE_MIN_MAJOR" ] && [ "$minor" -ge "$NODE_MIN_MINOR" ]; }
}

ensure_recent_node() {
    if node_is_recent; then
        return 0
    fi
    if [ "${BCL_SKIP_NODESOURCE:-0}" = "1" ]; then
        log "Node.js >= $NODE_MIN_MAJOR.$NODE_MIN_MINOR with npm not found; BCL_SKIP_NODESOURCE=1: not installing it" >&2
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        log "Node.js >= $NODE_MIN_MAJOR.$NODE_MIN_MINOR with npm is needed for the end-to-end tests and the demo" >&2
        log "run this script as root to install Node.js 22 LTS from NodeSource" >&2
        exit 1
    fi
    log "Node.js >= $NODE_MIN_MAJOR.$NODE_MIN_MINOR with npm not found (Debian 12 ships 18): adding NodeSource's Node.js 22.x repository"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y ca-certificates curl gnupg
    install -d -m 755 /etc/apt/keyrings
    curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key |
        gpg --dearmor --yes -o /etc/apt/keyrings/nodesource.gpg
    chmod 644 /etc/apt/keyrings/nodesource.gpg
    echo "deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_22.x nodistro main" \
        > /etc/apt/sources.list.d/nodesource.list
    apt-get update
    apt-get install -y nodejs
    if ! node_is_recent; then
        log "Node.js is still older than $NODE_MIN_MAJOR.$NODE_MIN_MINOR (or npm is missing) after installing from NodeSource" >&2
        exit 1
    fi
    log "Node.js $(node -p 'process.versions.node') installed"
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

    ensure_recent_node

    if [ "$(id -u)" -eq 0 ]; then
        stop_distro_apache || true
    fi
}

main "$@"
