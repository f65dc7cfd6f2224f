#!/usr/bin/env bash
# The demo of mod_backchannel_logout with a real OpenID Provider.
#
# Usage: bash tools/demo.sh [--walk] [--port N] [--user NAME]
#        bash tools/demo.sh --receiver [--keep]
#
# On a fresh Debian 12 machine (as root for the first run) it installs what
# it needs (tools/install-deps.sh), builds the module, installs
# node-oidc-provider (`npm ci` in test/e2e/op), then starts on 127.0.0.1:
# the OP, two small demo apps with their own session cookies, and httpd with
# mod_backchannel_logout in front of them. It prints the URL to open in a
# browser and waits; Ctrl-C stops everything.
#
#   --walk       walks the same flow with HTTP requests (sign in, use the app,
#                sign out at the OP, come back: the session is gone), prints
#                each step and exits non-zero if one fails. With CI set in
#                the environment this is the default (nothing would press
#                Ctrl-C there).
#   --receiver   the older receiver-only walk: tokens signed by the script
#                itself, no OP (tools/demo_receiver.py; --keep leaves httpd up).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -f tools/install-deps.sh ]; then
    echo "== installing dependencies (tools/install-deps.sh)"
    bash tools/install-deps.sh
fi

MODULE="${BCL_MODULE:-.libs/mod_backchannel_logout.so}"
if [ -z "${BCL_MODULE:-}" ]; then
    if [ ! -f Makefile ]; then
        echo "== building the module (autoreconf, configure, make)"
        autoreconf -fi
        ./configure
    fi
    echo "== make"
    make -j2 >/dev/null
fi
if [ ! -f "$MODULE" ]; then
    echo "demo.sh: $MODULE was not built" >&2
    exit 1
fi

PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

if [ "${1:-}" = "--receiver" ]; then
    shift
    exec "$PY" tools/demo_receiver.py "$@"
fi

# demo.py runs `npm ci` in test/e2e/op when node_modules is missing or stale.
exec "$PY" tools/demo.py "$@"
