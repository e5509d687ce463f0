#!/bin/sh
# test_via_backend.sh -- the operator tests again, every call through the CPU
# backend's op tables (TAP)
# SPDX-License-Identifier: MIT
#
# With GLLMK_TEST_BACKEND=cpu, TU_CALL (tests/testutil.h) calls each op as
# ops->op(be, ...) on a CPU backend with a reserved workspace instead of
# gllmk_<op>_<dtype>(...): the generated table wrappers, the workspace each
# op draws from and the validation are then checked by the same tests.  Only
# the best ISA runs (the per-ISA kernels are the plain runs' business).

: "${top_builddir:=.}"

. "$(dirname "$0")/tap.sh"

# the table wrappers and the workspace do not depend on the CPU: the native
# run checks them; under an emulator (qemu lanes of CI) they would only cost time
[ -z "${EMULATOR:-}" ] || skip_all "under an emulator ($EMULATOR): the native run checks the backend tables"

progs="test_blas1 test_blas23 test_activation test_norm test_rope test_embedding \
test_attention test_fused test_badinput test_threads test_qmatmul test_qops test_l3ops"
isa=$(${EMULATOR:-} "$top_builddir/tools/gllmk-info" 2>/dev/null | sed -n 's/^active ISA: *\([a-z0-9]*\).*/\1/p' | head -1)
for p in $progs; do
  prog="$top_builddir/tests/$p"
  if [ ! -x "$prog" ]; then
    diag "$prog is not built"
    ok 1 "$p through the cpu backend"
    continue
  fi
  out=$(GLLMK_TEST_BACKEND=cpu GLLMK_TEST_ISAS="$isa" ${EMULATOR:-} "$prog" 2>&1)
  status=$?
  if [ "$status" -ne 0 ]; then
    diag "$(echo "$out" | grep -v '^ok ' | tail -40)"
  fi
  ok "$status" "$p through the cpu backend tables (isa ${isa:-all})"
done
done_testing
