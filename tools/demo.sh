#!/usr/bin/env bash
# Demo of mod_backchannel_logout: installs build dependencies (if the
# project's installer is there), builds the module if it is not built yet,
# then runs tools/demo_receiver.py (a real httpd on 127.0.0.1; pass --keep to
# leave it running and get a ready-made curl command).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -f tools/install-deps.sh ]; then
    echo "== installing dependencies (tools/install-deps.sh)"
    bash tools/install-deps.sh
fi

MODULE="${BCL_MODULE:-.libs/mod_backchannel_logout.so}"
if [ ! -f "$MODULE" ]; then
    echo "== building the module"
    autoreconf -fi
    ./configure
    make -j2
fi

PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
exec "$PY" tools/demo_receiver.py "$@"
