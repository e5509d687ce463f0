#!/bin/sh
# test_cuda_static.sh -- static checks of the embedded CUDA kernels (TAP)
# SPDX-License-Identifier: MIT
#
# Without a GPU, what the SASS is can still be checked:
#  - ptxas's report of every kernel on every architecture (kept by the build
#    in cuda/kernels.ptxas) is printed as a table: registers, shared memory,
#    stack frame and spill bytes; any spill, a register count over 255 or
#    static shared memory over 48 KiB fails;
#  - every architecture has every kernel of cuda/kernels.def;
#  - libgllmk.so has no CUDA library among its NEEDED entries (what ldd
#    shows): libcuda.so.1 is dlopen'ed;
#  - with cuobjdump (the PyPI wheel nvidia-cuda-cuobjdump; CUOBJDUMP=PATH, or
#    found in PATH or in python3's nvidia/cu13/bin): the fatbin holds one ELF
#    per architecture of GLLMK_CUDA_ARCHS and no PTX, and every function's
#    LOCAL (spill/local memory) is 0; the GEMM kernels' SASS (cuobjdump -sass;
#    gk_gemm_* and the W [n x k] forms gk_gemm_nt_* of linear) has the
#    tensor-core instructions (f16/bf16: HMMA, fed by LDSM and LDGSTS)
#    or exact FFMA without HMMA (f32) on every architecture, and so has
#    every f16/bf16 flash attention kernel and fused Q4_K prefill GEMM.  GLLMK_REQUIRE_CUOBJDUMP=1 (CI)
#    makes a missing cuobjdump a failure instead of a skip.

: "${top_builddir:=.}"
: "${top_srcdir:=.}"

. "$(dirname "$0")/tap.sh"

fatbin="$top_builddir/cuda/kernels.fatbin"
ptxas="$top_builddir/cuda/kernels.ptxas"
def="$top_srcdir/cuda/kernels.def"
[ -f "$fatbin" ] || skip_all "built without CUDA"
[ -z "${GLLMK_TEST_NO_CUDA:-}" ] || skip_all "GLLMK_TEST_NO_CUDA is set"

archs=${GLLMK_CUDA_ARCHS:-}
[ -n "$archs" ] || archs=$(sed -n 's/^== sm_//p' "$ptxas" | tr '\n' ' ')

# ---- ptxas's resource report
if [ ! -f "$ptxas" ]; then
  ok 1 "cuda/kernels.ptxas exists"
else
  table=$(awk '
    /^== sm_/ { arch = substr($2, 4); archs[++na] = arch; next }
    /Compiling entry function/ { k = $0; sub(/.*function .\047?/, "", k); sub(/\047.*/, "", k);
                                 cur = k; if (!(k in seen)) { seen[k] = 1; order[++nk] = k } next }
    /bytes stack frame/ { st[cur, arch] = $1; sp[cur, arch] = $5 + $9; next }
    /Used [0-9]+ registers/ { r = $0; sub(/.*Used /, "", r); sub(/ registers.*/, "", r); reg[cur, arch] = r;
                              s = 0; if ($0 ~ /bytes smem/) { s = $0; sub(/ bytes smem.*/, "", s); sub(/.*, /, "", s) }
                              sm[cur, arch] = s; have[cur, arch] = 1; next }
    END {
      printf "%-34s", "kernel (regs/smem/stack/spill)"; for (a = 1; a <= na; a++) printf " %16s", "sm_" archs[a]; printf "\n"
      bad = 0
      for (i = 1; i <= nk; i++) {
        k = order[i]; printf "%-34s", k
        for (a = 1; a <= na; a++) {
          x = archs[a]
          if (!have[k, x]) { printf " %16s", "MISSING"; bad++; continue }
          printf " %16s", reg[k, x] "/" sm[k, x] "/" st[k, x] "/" sp[k, x]
          if (sp[k, x] + 0 > 0 || reg[k, x] + 0 > 255 || sm[k, x] + 0 > 49152) bad++
        }
        printf "\n"
      }
      printf "BAD %d KERNELS %d\n", bad, nk
    }' "$ptxas")
  diag "$(echo "$table" | grep -v '^BAD ')"
  bad=$(echo "$table" | sed -n 's/^BAD \([0-9]*\) .*/\1/p')
  nk=$(echo "$table" | sed -n 's/^BAD [0-9]* KERNELS \([0-9]*\)/\1/p')
  ok "$bad" "no spills, registers <= 255, static shared <= 48 KiB, every kernel on every architecture"
  want=$(grep -c '^GK_KERNEL(' "$def")
  [ "$nk" = "$want" ]
  ok $? "ptxas compiled $nk kernels, cuda/kernels.def lists $want"
fi

# ---- no CUDA library is linked: the driver is dlopen'ed
so="$top_builddir/.libs/libgllmk.so"
if [ -f "$so" ]; then
  needed=$(${OBJDUMP:-objdump} -p "$so" 2>/dev/null | awk '/NEEDED/ { print $2 }' | tr '\n' ' ')
  diag "libgllmk.so NEEDED: $needed"
  case "$needed" in
    *cuda* | *cublas* | *nvrtc*) ok 1 "libgllmk.so links no CUDA library" ;;
    "") ok 1 "objdump -p lists the NEEDED libraries of libgllmk.so" ;;
    *) ok 0 "libgllmk.so links no CUDA library" ;;
  esac
  strings -a "$so" 2>/dev/null | grep -q 'libcuda\.so\.1'
  ok $? "libgllmk.so names libcuda.so.1 for dlopen"
else
  skip "no shared libgllmk.so"
fi

# ---- the fatbin, with cuobjdump
cuobjdump=${CUOBJDUMP:-}
[ -n "$cuobjdump" ] || cuobjdump=$(command -v cuobjdump 2>/dev/null)
if [ -z "$cuobjdump" ]; then
  d=$(python3 -c 'import nvidia, os; print(os.path.join(list(nvidia.__path__)[0], "cu13", "bin"))' 2>/dev/null)
  [ -n "$d" ] && [ -x "$d/cuobjdump" ] && cuobjdump="$d/cuobjdump"
fi
if [ -z "$cuobjdump" ]; then
  if [ "${GLLMK_REQUIRE_CUOBJDUMP:-0}" = 1 ]; then
    ok 1 "cuobjdump found (GLLMK_REQUIRE_CUOBJDUMP=1)"
  else
    skip "no cuobjdump (pip install nvidia-cuda-cuobjdump): fatbin contents not checked"
  fi
  done_testing
fi
diag "cuobjdump: $cuobjdump"
elfs=$("$cuobjdump" --list-elf "$fatbin" 2>&1)
diag "$elfs"
missing=
for a in $archs; do
  echo "$elfs" | grep -q "\.sm_$a\.cubin" || missing="$missing sm_$a"
done
[ -z "$missing" ]
ok $? "one ELF (SASS) per architecture: $archs${missing:+ (missing:$missing)}"
nelf=$(echo "$elfs" | grep -c "\.cubin")
set -- $archs
[ "$nelf" -eq $# ]
ok $? "no other ELF ($nelf in the fatbin)"
"$cuobjdump" --list-ptx "$fatbin" 2>&1 | grep -q '\.ptx'
[ $? -ne 0 ]
ok $? "no PTX in the fatbin (no JIT)"
usage=$("$cuobjdump" --dump-resource-usage "$fatbin" 2>&1)
local_fns=$(echo "$usage" | awk '/Function/ { f = $2 } /LOCAL:[1-9]/ { print f }')
[ -z "$local_fns" ]
ok $? "no function uses local memory (spills or local arrays)${local_fns:+: $local_fns}"

# ---- the SASS: cuobjdump -sass runs nvdisasm (PyPI nvidia-cuda-nvdisasm),
# which the wheels put beside cuobjdump
PATH="$(dirname "$cuobjdump"):$PATH"
export PATH
if ! command -v nvdisasm >/dev/null 2>&1; then
  if [ "${GLLMK_REQUIRE_CUOBJDUMP:-0}" = 1 ]; then
    ok 1 "nvdisasm found for cuobjdump -sass (GLLMK_REQUIRE_CUOBJDUMP=1)"
  else
    skip "no nvdisasm (pip install nvidia-cuda-nvdisasm): the SASS is not checked"
  fi
  done_testing
fi

# ---- GEMM (cuda/gemm.cu, gk_gemm_* and gk_gemm_nt_*, the NT forms that
# linear runs): the f16/bf16 kernels run on the tensor cores --
# HMMA (mma.sync), fed by LDSM (ldmatrix) from shared memory that LDGSTS
# (cp.async) fills; the f32 kernels are exact FFMA, no HMMA (no TF32) --
# on every architecture of the fatbin
gemm=$("$cuobjdump" -sass "$fatbin" 2>&1 | awk '
  /^arch = sm_/ { arch = substr($3, 4); next }
  /Function : / { f = $3; if (f ~ /^gk_gemm_/) { key = arch " " f; fns[key] = 1 } else key = ""; next }
  key != "" && /HMMA/ { hmma[key]++ }
  key != "" && /LDSM/ { ldsm[key]++ }
  key != "" && /LDGSTS/ { ldgsts[key]++ }
  key != "" && /FFMA/ { ffma[key]++ }
  END {
    for (k in fns) {
      split(k, a, " "); tc = a[2] !~ /_f32$/
      bad = tc ? (hmma[k] + 0 == 0 || ldsm[k] + 0 == 0 || ldgsts[k] + 0 == 0) : (hmma[k] + 0 > 0 || ffma[k] + 0 == 0)
      printf "%s sm_%s HMMA %d LDSM %d LDGSTS %d FFMA %d%s\n", a[2], a[1], hmma[k], ldsm[k], ldgsts[k], ffma[k],
             bad ? " BAD" : ""
    }
  }' | sort)
diag "$gemm"
ngemm=$(grep -c '^GK_KERNEL(gk_gemm_' "$def")
set -- $archs
[ -n "$gemm" ] && [ "$(echo "$gemm" | grep -c .)" -eq $((ngemm * $#)) ]
ok $? "SASS of every GEMM kernel ($ngemm) on every architecture ($archs)"
! echo "$gemm" | grep -q 'BAD$'
ok $? "f16/bf16 GEMM kernels: HMMA, LDSM and LDGSTS in the SASS; f32 GEMM kernels: FFMA, no HMMA"
# ---- tensor-core kernels: HMMA in their SASS on every architecture
# (the f16/bf16 flash attention kernels of cuda/attention.cu, and the
# fused Q4_K prefill GEMM of cuda/qmatmul.cu)
tc_re='^(gk_flash_attn_(f16|bf16)_d[0-9]+|gk_qgemm_q4k_(64|128)_(f16|bf16))$'
tc=$("$cuobjdump" -sass "$fatbin" 2>/dev/null | awk -v re="$tc_re" '
  /code for sm_/ { a = $NF; next }
  /Function : / { f = $3; if (f ~ re) n[a " " f] += 0; next }
  /HMMA/ { if (f ~ re) n[a " " f]++ }
  END { bad = ""; for (k in n) { tot++; if (n[k] == 0) bad = bad " " k }
        printf "%d%s\n", tot, bad }')
ntc=${tc%% *}
case $tc in *" "*) nohmma=${tc#* } ;; *) nohmma= ;; esac
diag "tensor-core kernels checked: $ntc (kernel x architecture)"
[ "${ntc:-0}" -gt 0 ] && [ -z "$nohmma" ]
ok $? "HMMA in every f16/bf16 flash attention and fused Q4_K GEMM kernel${nohmma:+ (none in:$nohmma)}"
done_testing
