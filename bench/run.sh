#!/usr/bin/env bash
# mod_backchannel_logout benchmarks: one command for all of them.
#
# Usage: bash bench/run.sh [--smoke] [bench.py options]     (--help: all options)
#
#   (no option)  the full run, about 10 minutes: guard overhead (prefork and
#                event, direct and proxied, 0/10k/100k/1M bindings + 100k
#                revocations), memcache/redis rows when the module has them,
#                instructions per request under callgrind, receiver
#                throughput (RS256, ES256, HS256 vs mod_reflector), memory.
#                Writes bench/results/<timestamp>.md and .json and copies
#                the report into docs/BENCHMARKS.md.
#   --smoke      the same steps with tiny fills, 1-second runs, the event MPM
#                and 16 receiver connections only (under a minute): proves
#                the scripts work, for CI. Does not touch docs/.
#   --counts     only the deterministic counts (a few seconds): user-space
#                instructions (callgrind) and system calls (strace) per
#                request for a static file, the guard (response-header and
#                env modes), the trivial POST and the RS256 receiver, each
#                with the difference against its unguarded twin; prints
#                the table (CI runs it; see docs/BENCHMARKS.md).
#   --scrape     a status scrape's cost (Prometheus and JSON) with 10 and
#                with 1,000,000 records: instructions and system calls per
#                scrape (callgrind, strace, after a journal replay) and time
#                and httpd CPU per scrape (wrk); a few minutes, mostly the
#                fill. Not in CI.
#   --burst      the guard's p50/p99/p99.9 latency during a burst of RS256
#                logouts, with BCLStore shm and shm file= (journal on disk),
#                the logouts' latency and the fdatasync count, and a run
#                under strace: fdatasync calls made while the store's lock
#                is held (--burst-compaction N: the lock holds of journal
#                compactions while N bindings are made); a few minutes.
#                Not in CI.
#
# Needs: the module built (this script runs `make` when it is missing or
# older than its sources), /usr/sbin/apache2, wrk, openssl, Debian's
# /usr/bin/python3 with python3-cryptography, python3-jwcrypto and
# python3-requests; valgrind for the callgrind phase, --counts and --scrape,
# strace for --counts and --scrape; memcached and
# redis-server for those rows. Run it on a
# quiet machine; it starts its own httpd instances on free loopback ports.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

for arg in "$@"; do
    case "$arg" in
        -h|--help)
            sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
            exec /usr/bin/python3 bench/bench.py --help ;;
    esac
done

missing=()
for tool in /usr/sbin/apache2 wrk openssl /usr/bin/python3; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
    printf 'bench/run.sh: missing: %s (bash tools/install-deps.sh installs them)\n' "${missing[*]}" >&2
    exit 2
fi

module=.libs/mod_backchannel_logout.so
if [ ! -f Makefile ]; then
    printf 'bench/run.sh: not configured; run: autoreconf -fi && ./configure && make -j2\n' >&2
    exit 2
fi
# the module as the project builds it; make does nothing when it is current
make -j2 >/dev/null
if [ ! -f "$module" ]; then
    printf 'bench/run.sh: %s was not built\n' "$module" >&2
    exit 2
fi

exec /usr/bin/python3 bench/bench.py "$@"
