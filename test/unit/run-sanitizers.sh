#!/bin/sh
# Runs the core's unit tests (test/unit/test_core) under AddressSanitizer +
# UndefinedBehaviorSanitizer and under valgrind.
#
#   test/unit/run-sanitizers.sh [asan|valgrind|all]     (default: all)
#
# The sources (git-tracked and untracked, not ignored) are copied to a work
# directory and built there out of tree, so the working tree and any build
# in it are left alone (an in-tree configured tree cannot host an
# out-of-tree build anyway):
#   asan:      ../configure CC=clang CFLAGS='-g -O1 -fsanitize=address,undefined
#                -fno-omit-frame-pointer -fno-sanitize-recover=all' && make check
#              (LeakSanitizer on; each test runs in a forked child, so a leak,
#              a sanitizer report or an abort fails that test)
#   valgrind:  a plain -g -O1 build, then
#              CK_FORK=no libtool --mode=execute valgrind --leak-check=full
#                --error-exitcode=1 test/unit/test_core
#              (takes a few minutes: RSA keys are made under valgrind)
#
# Exit status: 0 when every selected run passed, 1 otherwise.
# Environment: BCL_SAN_WORK (work directory, default a new one under /tmp),
#              MAKEFLAGS (e.g. -j4).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
WHAT=${1:-all}
WORK=${BCL_SAN_WORK:-$(mktemp -d /tmp/bcl-san.XXXXXX)}
JOBS=${MAKEFLAGS:--j2}

case "$WHAT" in
    asan|valgrind|all) ;;
    *) echo "usage: $0 [asan|valgrind|all]" >&2; exit 2 ;;
esac

log() { printf '== %s\n' "$*"; }

log "copying sources to $WORK/src"
mkdir -p "$WORK/src" || exit 1
if git -C "$TOP" rev-parse >/dev/null 2>&1; then
    (cd "$TOP" && git ls-files -z --cached --others --exclude-standard) |
        (cd "$TOP" && xargs -0 sh -c 'for f; do [ -f "$f" ] && printf "%s\0" "$f"; done' sh) |
        (cd "$TOP" && tar --null -T - -cf -) | tar -xf - -C "$WORK/src" || exit 1
else
    cp -a "$TOP"/. "$WORK/src"/ || exit 1
fi
# Build products and configuration of an in-tree build must not come along.
(cd "$WORK/src" && mkdir -p m4 && rm -f config.status config.log Makefile libtool config.h stamp-h1 &&
    find . \( -name '*.o' -o -name '*.lo' -o -name '*.la' -o -name '.libs' -o -name '.deps' -o -name '.dirstamp' \) \
        -prune -exec rm -rf {} +) || exit 1

log "autoreconf"
(cd "$WORK/src" && autoreconf -fi >"$WORK/autoreconf.log" 2>&1) || {
    echo "autoreconf failed, see $WORK/autoreconf.log" >&2; exit 1; }

status=0
summary=""

run_asan() {
    b="$WORK/src/build-asan"
    mkdir -p "$b"
    log "ASan+UBSan: configure and make check in $b"
    if ! (cd "$b" && ../configure CC=clang \
            CFLAGS='-g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' \
            >"$WORK/asan-configure.log" 2>&1); then
        echo "configure failed, see $WORK/asan-configure.log" >&2
        return 1
    fi
    (cd "$b" && ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
        UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-60} \
        make $JOBS check >"$WORK/asan-check.log" 2>&1)
    rc=$?
    [ -f "$b/test/unit/test_core.log" ] && cat "$b/test/unit/test_core.log" >>"$WORK/asan-check.log"
    grep -E '^[0-9]+%: Checks|:[EFS]:|SUMMARY: (Address|UndefinedBehavior|Leak)Sanitizer|runtime error:' \
        "$WORK/asan-check.log" | sort -u | head -40
    return $rc
}

run_valgrind() {
    b="$WORK/src/build-valgrind"
    mkdir -p "$b"
    log "valgrind: plain build in $b"
    if ! (cd "$b" && ../configure CFLAGS='-g -O1' >"$WORK/valgrind-configure.log" 2>&1 &&
            make $JOBS libbclcore.la test/unit/test_core >"$WORK/valgrind-build.log" 2>&1); then
        echo "build failed, see $WORK/valgrind-*.log" >&2
        return 1
    fi
    log "valgrind: CK_FORK=no libtool --mode=execute valgrind --leak-check=full --error-exitcode=1 test/unit/test_core"
    (cd "$b" && CK_FORK=no ./libtool --mode=execute valgrind --leak-check=full --error-exitcode=1 \
        test/unit/test_core >"$WORK/valgrind.log" 2>&1)
    rc=$?
    grep -E '^[0-9]+%: Checks|:[EFS]:|ERROR SUMMARY|definitely lost|indirectly lost' "$WORK/valgrind.log" | head -40
    if [ $rc -ne 0 ]; then
        echo "-- first valgrind reports (full log: $WORK/valgrind.log)"
        grep -E -A12 '^==[0-9]+== (Invalid|Conditional|Use of|Mismatched|[0-9,]+ bytes in [0-9,]+ blocks are definitely)' \
            "$WORK/valgrind.log" | head -60
    fi
    return $rc
}

if [ "$WHAT" = asan ] || [ "$WHAT" = all ]; then
    if run_asan; then summary="${summary}ok    asan+ubsan make check
"; else status=1; summary="${summary}FAIL  asan+ubsan make check (log: $WORK/asan-check.log)
"; fi
fi
if [ "$WHAT" = valgrind ] || [ "$WHAT" = all ]; then
    if run_valgrind; then summary="${summary}ok    valgrind test_core
"; else status=1; summary="${summary}FAIL  valgrind test_core (log: $WORK/valgrind.log)
"; fi
fi

log "summary (work dir $WORK)"
printf '%s' "$summary"
exit $status
