#!/bin/sh
# Builds and runs the libFuzzer targets of the core.
#
#   test/fuzz/run.sh [SECONDS]
#
# SECONDS is the time given to EACH target (default 20). The targets: token, json,
# form, jwks, cookie, keysource, journal, and the network stores' inputs: resp
# (redis replies), mcproto (memcached answers) and netrec (the record values
# they return, bcl_netrec_decode), and admin (the admin endpoint's JSON body
# and token file, bcl_admin_req.c). Each target is built from src/core/*.c plus
# test/fuzz/fuzz_common.c and test/fuzz/fuzz_<target>.c with
#   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
# and run on a copy of test/fuzz/corpus/<target>/ (the committed seeds are
# never modified) with -max_len=20000. LeakSanitizer is on: each input gets a
# fresh pool, destroyed after it, so memory the core leaks shows up.
#
# Exit status: 0 when every target ran its time without a crash, leak,
# sanitizer report or timeout; 1 otherwise (and on build failure).
#
# Environment:
#   CC             compiler (default clang; needs libFuzzer: clang 14 works,
#                  LeakSanitizer needs Debian's libclang-rt-14-dev)
#   FUZZ_WORK      work directory (default: a new mktemp -d under /tmp); holds
#                  the binaries, the grown corpora, logs and crash artifacts
#   FUZZ_TARGETS   targets to run (default "token json form jwks cookie keysource journal
#                  resp mcproto netrec admin")
#   FUZZ_JOBS      targets run at the same time (default: the CPU count, at
#                  most 2)
#   FUZZ_ARGS      extra libFuzzer flags, e.g. "-jobs=4 -workers=4"
#   FUZZ_CORE_DIR  where the core's sources are (default src/core; e.g. a
#                  patched copy, to try a fix)
#   FUZZ_WERROR    1 (default): the warnings are errors, as in CI's
#                  configure --enable-werror; 0: they are only printed
#
# Warnings: the project's list, read from configure.ac's BCL_WARN and
# BCL_WARN_OFF lines, each kept when $CC takes it (as configure does).
#
# Reproduce a crash: $FUZZ_WORK/fuzz_<target> $FUZZ_WORK/artifacts/<target>/crash-...
# Regenerate seeds and embedded keys: /usr/bin/python3 test/fuzz/gen_corpus.py
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
SECS=${1:-20}
CC=${CC:-clang}
TARGETS=${FUZZ_TARGETS:-"token json form jwks cookie keysource journal resp mcproto netrec admin"}
WORK=${FUZZ_WORK:-$(mktemp -d /tmp/bcl-fuzz.XXXXXX)}
CORE=${FUZZ_CORE_DIR:-$TOP/src/core}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

case "$SECS" in
    ''|*[!0-9]*) echo "usage: $0 [SECONDS]  (per target)" >&2; exit 2 ;;
esac

mkdir -p "$WORK/obj" || exit 1
PKGS="apr-1 apr-util-1 cjose jansson openssl libcurl"
PKG_CFLAGS=$(pkg-config --cflags $PKGS) || { echo "pkg-config failed for: $PKGS" >&2; exit 1; }
PKG_LIBS=$(pkg-config --libs $PKGS) || exit 1

# configure.ac's warning flags that $CC takes (BCL_CHECK_CFLAG's test:
# clang only warns about an unknown warning option, hence -Werror).
flag_ok() {
    echo 'int bcl_flag_probe;' | $CC -Werror "$1" -x c -c -o /dev/null - 2>/dev/null
}
WARN=""
for f in $(sed -n 's/^BCL_WARN(\[\(-W[^]]*\)\]).*/\1/p' "$TOP/configure.ac"); do
    flag_ok "$f" && WARN="$WARN $f"
done
for f in $(sed -n 's/^BCL_WARN_OFF(\[\([^]]*\)\]).*/\1/p' "$TOP/configure.ac"); do
    flag_ok "-W$f" && WARN="$WARN -Wno-$f"
done
[ -n "$WARN" ] || { echo "no warning flags read from $TOP/configure.ac" >&2; exit 1; }
[ "${FUZZ_WERROR:-1}" = 0 ] || WARN="$WARN -Werror"

echo "== building in $WORK (warnings:$WARN)"
objs=""
for src in "$CORE"/*.c "$HERE/fuzz_common.c"; do
    obj="$WORK/obj/$(basename "$src" .c).o"
    $CC -g -O1 $SAN -fsanitize=fuzzer-no-link -std=gnu11 $WARN \
        -I"$CORE" -I"$HERE" $PKG_CFLAGS -c "$src" -o "$obj" || { echo "build failed: $src" >&2; exit 1; }
    objs="$objs $obj"
done
for t in $TARGETS; do
    $CC -g -O1 $SAN -fsanitize=fuzzer -std=gnu11 $WARN \
        -I"$CORE" -I"$HERE" $PKG_CFLAGS "$HERE/fuzz_$t.c" $objs \
        -o "$WORK/fuzz_$t" $PKG_LIBS || { echo "build failed: fuzz_$t" >&2; exit 1; }
done

# One target: its log in $WORK/<t>.log, its verdict line in $WORK/<t>.result.
run_target() {
    t=$1
    corpus="$WORK/corpus/$t"
    arts="$WORK/artifacts/$t"
    mkdir -p "$corpus" "$arts"
    if [ -d "$HERE/corpus/$t" ]; then
        cp -p "$HERE/corpus/$t"/* "$corpus"/ 2>/dev/null
    fi
    seeds=$(ls "$corpus" | wc -l)
    echo "== fuzz_$t: ${SECS}s, $seeds seeds"
    # shellcheck disable=SC2086
    "$WORK/fuzz_$t" -max_total_time="$SECS" -max_len=20000 -timeout=10 -rss_limit_mb=4096 \
        -print_final_stats=1 -artifact_prefix="$arts/" ${FUZZ_ARGS:-} "$corpus" \
        >"$WORK/$t.log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/$t.log" | tail -1)
    final=$(ls "$corpus" | wc -l)
    found=$(ls "$arts" | wc -l)
    if [ $rc -ne 0 ] || [ "$found" -ne 0 ] || grep -q -E '^==[0-9]+==ERROR|runtime error:' "$WORK/$t.log"; then
        echo "FAIL  fuzz_$t: exit $rc, ${execs:-?} runs, artifacts: $(ls "$arts" | tr '\n' ' ')" >"$WORK/$t.result"
    else
        echo "ok    fuzz_$t: ${execs:-?} runs, corpus $seeds -> $final" >"$WORK/$t.result"
    fi
}

# FUZZ_JOBS targets at a time (default: one per CPU, at most 2), each for
# its full SECONDS: the same fuzzing per target, in less wall time.
JOBS=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
case "$JOBS" in ''|*[!0-9]*|0) JOBS=1 ;; esac
[ "$JOBS" -le 2 ] || JOBS=2
batch=0
for t in $TARGETS; do
    run_target "$t" &
    batch=$((batch + 1))
    if [ "$batch" -ge "$JOBS" ]; then
        wait
        batch=0
    fi
done
wait

status=0
summary=""
for t in $TARGETS; do
    line=$(cat "$WORK/$t.result" 2>/dev/null || echo "FAIL  fuzz_$t: no result")
    case "$line" in
        FAIL*)
            status=1
            echo "---- last lines of $WORK/$t.log"
            grep -E -A30 '^==[0-9]+==ERROR|runtime error:|deadly signal|Test unit written' "$WORK/$t.log" | head -60
            ;;
    esac
    echo "$line"
    summary="$summary$line
"
done

echo "== summary (work dir $WORK)"
printf '%s' "$summary"
exit $status
