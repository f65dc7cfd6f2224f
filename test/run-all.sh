#!/usr/bin/env bash
# The project's test command: builds mod_backchannel_logout from scratch and
# runs every test stage. Exits non-zero as soon as one stage fails.
#
# Usage: bash test/run-all.sh [--quick]
#
#   --quick   skip the sanitizer/valgrind stage and fuzzing (for local
#             development; CI always runs everything)
#
# Stages, in order:
#   1. install dependencies         tools/install-deps.sh
#   2. autoreconf -fi
#   3. ./configure --enable-werror
#   4. make -j2
#   5. unit tests                   make check (Check)
#   6. sanitizers + valgrind        test/unit/run-sanitizers.sh   (not with --quick)
#   7. fuzzing, 20 s a target       test/fuzz/run.sh 20           (not with --quick)
#   8. integration tests            /usr/bin/python3 -m pytest -q test/integration
#                                   (test_guard_apps.py runs `npm ci` in
#                                   test/integration/apps/node)
#   9. end-to-end tests             /usr/bin/python3 -m pytest -q test/e2e
#                                   (node-oidc-provider, mod_auth_openidc, the
#                                   demo's --walk, headless Chromium; runs
#                                   `npm ci` in test/e2e/op and test/e2e/browser)
#  10. benchmark smoke run          bash bench/run.sh --smoke, then bench/check_report.py
#                                   (checks the report has numbers; never a speed),
#                                   then bash bench/run.sh --counts: instructions and
#                                   system calls per request (callgrind, strace),
#                                   printed; only checked to be numbers
#  11. Debian package                test/package/run.sh: dpkg-buildpackage in a
#                                   temporary copy, apt-get install of the .deb,
#                                   a2enmod + apache2ctl -t -M in a scratch copy
#                                   of /etc/apache2, purge; the machine's apache2
#                                   is left as it was
set -euo pipefail

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
}

quick=0
for arg in "$@"; do
    case "$arg" in
        --quick) quick=1 ;;
        -h|--help) usage; exit 0 ;;
        *) printf 'run-all.sh: unknown option: %s\n' "$arg" >&2; usage >&2; exit 2 ;;
    esac
done

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

total_stages=11
stage_no=0
stage_name=""
stage_start=0
run_start=$(date +%s)
summary=()

stage() {
    stage_finish
    stage_no=$((stage_no + 1))
    stage_name="$1"
    stage_start=$(date +%s)
    printf '\n==============================================================\n'
    printf '== [%d/%d] %s\n' "$stage_no" "$total_stages" "$stage_name"
    printf '==============================================================\n'
}

# Records the stage that just ended (called when the next one starts).
stage_finish() {
    if [ -n "$stage_name" ]; then
        summary+=("$(printf '  ok    %4ds  [%d] %s' "$(( $(date +%s) - stage_start ))" "$stage_no" "$stage_name")")
        stage_name=""
    fi
}

skip() {
    stage_no=$((stage_no + 1))
    summary+=("$(printf '  skip         [%d] %s (--quick)' "$stage_no" "$1")")
    printf '\n== [%d/%d] %s: skipped (--quick)\n' "$stage_no" "$total_stages" "$1"
}

on_exit() {
    local rc=$?
    if [ "$rc" -ne 0 ]; then
        printf '\n==============================================================\n' >&2
        if [ -n "$stage_name" ]; then
            printf '== FAILED at stage [%d/%d] %s (exit %d)\n' "$stage_no" "$total_stages" "$stage_name" "$rc" >&2
        else
            printf '== FAILED (exit %d)\n' "$rc" >&2
        fi
        printf '==============================================================\n' >&2
    fi
}
trap on_exit EXIT

# A stage script written elsewhere in the tree must exist: a missing one is a
# failure, not a silent skip.
require_script() {
    if [ ! -f "$1" ]; then
        printf 'run-all.sh: %s is missing\n' "$1" >&2
        return 1
    fi
}

stage "install dependencies (tools/install-deps.sh)"
bash tools/install-deps.sh

stage "autoreconf -fi"
autoreconf -fi

stage "./configure --enable-werror"
./configure --enable-werror

stage "make -j2"
make -j2

stage "unit tests (make check)"
if ! make -j2 check; then
    # automake's harness keeps the test output in log files: show it here so
    # a CI log is enough to see what failed.
    for log in test-suite.log test/unit/*.log; do
        [ -f "$log" ] || continue
        printf '\n--- %s ---\n' "$log"
        cat "$log"
    done
    exit 1
fi

if [ "$quick" -eq 1 ]; then
    stage_finish
    skip "sanitizers and valgrind (test/unit/run-sanitizers.sh)"
    skip "fuzzing (test/fuzz/run.sh 20)"
else
    stage "sanitizers and valgrind (test/unit/run-sanitizers.sh)"
    require_script test/unit/run-sanitizers.sh
    bash test/unit/run-sanitizers.sh

    stage "fuzzing (test/fuzz/run.sh 20)"
    require_script test/fuzz/run.sh
    bash test/fuzz/run.sh 20
fi

stage "integration tests (pytest test/integration)"
# Debian's interpreter: the first python3 on PATH may lack pytest.
/usr/bin/python3 -m pytest -q test/integration

stage "end-to-end tests (pytest test/e2e: real OP, mod_auth_openidc, demo, browser)"
/usr/bin/python3 -m pytest -q test/e2e

stage "benchmark smoke run (bench/run.sh --smoke)"
require_script bench/run.sh
require_script bench/check_report.py
# run.sh prints the report's path last; the checker asserts that it holds
# numbers, never how fast anything was
# (its output is shown as it comes and kept in a file; `tee /dev/stderr`
# would reopen, and so truncate, a log file that stderr is redirected to)
smoke_out=$(mktemp /tmp/bcl-bench-smoke.XXXXXX)
bash bench/run.sh --smoke | tee "$smoke_out"
smoke_report=$(tail -n 1 "$smoke_out")
rm -f "$smoke_out"
/usr/bin/python3 bench/check_report.py "$smoke_report"
# deterministic counts per request (a few seconds): the table is printed for
# the log; bench.py fails when a cell is not a positive number, and nothing
# is asserted about the values
bash bench/run.sh --counts

stage "Debian package (test/package/run.sh: build, install, load, purge)"
require_script test/package/run.sh
bash test/package/run.sh
stage_finish

printf '\n==============================================================\n'
printf '== all stages passed in %ds\n' "$(( $(date +%s) - run_start ))"
printf '%s\n' "${summary[@]}"
printf '==============================================================\n'
