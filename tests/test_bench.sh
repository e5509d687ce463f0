#!/bin/sh
# test_bench.sh -- gllmk-bench runs its cases and checks them (TAP)
# SPDX-License-Identifier: MIT
#
# A smoke test of the program, not a measurement (times mean nothing here):
#  - --help, --list and a bad option (exit 2);
#  - the CPU section: --quick on a few float cases and on the quantized
#    kernels of one format, with the roofline given (--peak-gflops,
#    --bw-gbs) and the peers off: every check OK, exit 0;
#  - the CUDA section (--backend=cuda --quick) on the GEMV and quantized rows
#    through the driver GLLMK_CUDA_DRIVER names (make check: the emulated one
#    of tests/cudaemu, which runs the kernels on the CPU): every row checked
#    against the CPU backend and OK.  Skipped without the CUDA backend.

: "${top_srcdir:=$(dirname "$0")/..}"
: "${top_builddir:=.}"

. "$(dirname "$0")/tap.sh"

prog="$top_builddir/tools/gllmk-bench"
[ -x "$prog" ] || { echo "Bail out! $prog is not built"; exit 1; }
# a libtool wrapper script; under $EMULATOR let libtool run the real binary
if [ -n "${EMULATOR:-}" ]; then
  run="$top_builddir/libtool --mode=execute $EMULATOR $prog"
else
  run="$prog"
fi
# a sanitizer build (.ci/run's build-asan): the program leaves ggml and
# cuBLAS loaded and its tables allocated at exit on purpose; report leaks of
# the library's tests, not of this tool
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
export ASAN_OPTIONS
tmp=${TMPDIR:-/tmp}/gllmk-bench.$$
trap 'rm -f "$tmp" "$tmp.csv"' 0 1 2 15

$run --help >"$tmp" 2>&1
[ $? -eq 0 ] && grep -q -- '--backend=NAME' "$tmp"; ok $? "--help exits with 0 and lists the options"
$run --bogus >/dev/null 2>&1
[ $? -eq 2 ]; ok $? "an unknown option exits with 2"
cnt=$($run --list --op=blas1,gemv,gemm,activation,norm,rope,embedding,attention,fused 2>/dev/null | wc -l)
[ "$cnt" -gt 50 ]; ok $? "--list: the float cases ($cnt)"
cnt=$($run --list --op=quant 2>/dev/null | wc -l)
[ "$cnt" -gt 60 ]; ok $? "--list --op=quant: the quantized formats x parts ($cnt)"

quick="--quick -q --samples=1 --min-time=0.001 --peak-gflops=1 --bw-gbs=1 --no-openblas --no-ggml"
# shellcheck disable=SC2086
$run $quick --op=vec_dot,gemv,rms_norm,fused_ffn --csv="$tmp.csv" >"$tmp" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q ' 0 checks failed' "$tmp"; ok $? "CPU section, float cases: every check OK (exit $rc)"
[ $rc -eq 0 ] || diag "$(tail -n 20 "$tmp")"
rows=$(($(wc -l <"$tmp.csv") - 1))
[ "$rows" -gt 10 ] && ! grep -q 'MISMATCH\|ERROR' "$tmp.csv"; ok $? "CPU section: --csv has the rows ($rows)"
# shellcheck disable=SC2086
$run $quick --op=quant --qtype=q4_K,iq4_nl >"$tmp" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q ' 0 checks failed' "$tmp"; ok $? "CPU section, quantized kernels: every check OK (exit $rc)"
[ $rc -eq 0 ] || diag "$(tail -n 20 "$tmp")"

if [ -z "${GLLMK_CUDA_DRIVER:-}" ]; then
  skip "CUDA section: no CUDA backend in this build (GLLMK_CUDA_DRIVER unset)"
elif [ -n "${GLLMK_TEST_NO_CUDA:-}" ]; then
  skip "CUDA section: GLLMK_TEST_NO_CUDA is set"
else
  $run --backend=cuda --quick -q --samples=1 --min-time=0.001 --op=gemv,quant >"$tmp" 2>&1
  rc=$?
  cnt=$(grep -c ' OK ' "$tmp")
  [ $rc -eq 0 ] && grep -q ' 0 checks failed (0 mismatches, 0 errors), 0 unsupported' "$tmp" &&
    [ "$cnt" -ge 29 ]
  ok $? "CUDA section (GLLMK_CUDA_DRIVER=$GLLMK_CUDA_DRIVER): the gemv and quant rows, OK against the CPU backend ($cnt, exit $rc)"
  [ $rc -eq 0 ] || diag "$(tail -n 20 "$tmp")"
fi
done_testing
