#!/bin/sh
# test_example.sh -- the examples run and pass their own checks (TAP)
# SPDX-License-Identifier: MIT
#
# doc/examples/decoder_layer runs one transformer decoder layer through the
# public API and compares every fused op with its composition of plain ops,
# and the Q4_K kernels with the f32 GEMM on the dequantized weights; it
# exits 0 when every comparison passes.  doc/examples/generate loads a GGUF
# model of tests/data/models, prefills its prompt and decodes greedily: the
# tokens must be the ones llama.cpp generated (the MANIFEST).  Output
# becomes "# " comment lines.  A program that is missing (not built) fails
# the test.

: "${top_srcdir:=$(dirname "$0")/..}"
: "${top_builddir:=.}"

. "$(dirname "$0")/tap.sh"

echo "1..2"
prog="$top_builddir/doc/examples/decoder_layer"
if [ ! -x "$prog" ]; then
  diag "$prog is not built"
  ok 1 "decoder layer example"
else
  # -no-install: a real binary, which $EMULATOR (e.g. qemu-x86_64) can run
  out=$(${EMULATOR:-} "$prog" 2>&1)
  status=$?
  diag "$out"
  [ "$status" -eq 0 ] || diag "exit status $status"
  ok "$status" "decoder layer example"
fi

prog="$top_builddir/doc/examples/generate"
line=$(grep '^name=qwen2-q4_k_m ' "$top_srcdir/tests/data/models/MANIFEST")
field() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
if [ ! -x "$prog" ] || [ -z "$line" ]; then
  diag "$prog is not built or the MANIFEST has no qwen2-q4_k_m"
  ok 1 "generate example"
else
  out=$(${EMULATOR:-} "$prog" "$top_srcdir/tests/data/models/$(field file)" "$(field prompt)" \
        "$(field n_gen)" 2>&1)
  status=$?
  diag "$out"
  [ "$status" -eq 0 ] && [ "$(echo "$out" | tail -n 1)" = "$(field generated)" ]
  ok $? "generate example: qwen2 Q4_K_M, greedy = llama.cpp's tokens"
fi
exit $failed
