#!/bin/sh
# test_example.sh -- the decoder-layer example runs and passes its own
# checks (TAP)
# SPDX-License-Identifier: MIT
#
# doc/examples/decoder_layer runs one transformer decoder layer through the
# public API and compares every fused op with its composition of plain ops,
# and the Q4_K kernels with the f32 GEMM on the dequantized weights; it
# exits 0 when every comparison passes.  Its output becomes "# " comment
# lines.  A program that is missing (not built) fails the test.

: "${top_builddir:=.}"

. "$(dirname "$0")/tap.sh"

prog="$top_builddir/doc/examples/decoder_layer"

echo "1..1"
if [ ! -x "$prog" ]; then
  diag "$prog is not built"
  ok 1 "decoder layer example"
  exit 1
fi
# -no-install: a real binary, which $EMULATOR (e.g. qemu-x86_64) can run
out=$(${EMULATOR:-} "$prog" 2>&1)
status=$?
diag "$out"
[ "$status" -eq 0 ] || diag "exit status $status"
ok "$status" "decoder layer example"
exit $failed
