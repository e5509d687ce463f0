#!/bin/sh
# test_objects.sh -- the core and scalar objects hold no AVX code; the ISA
# objects do hold their vector registers (TAP); on AArch64, the same for
# sdot and SVE
# SPDX-License-Identifier: MIT
#
# The library must load and run on any x86-64 CPU, so everything but the
# per-ISA objects is compiled for the baseline.  With $OBJDUMP (set by
# `make check`; "no" when configure found none) disassemble:
#   - the core objects (lib/core, lib/quant) and the scalar ISA object: no ymm/zmm
#     register, no AVX-512 mask ({%kN}) and no VEX/EVEX (v-prefixed)
#     instruction at all;
#   - the avx2 object: ymm registers and no zmm/mask (it is built with AVX2
#     flags only); the avxvnni object the same, with the VEX vpdpbusd;
#     the avx512 object: zmm registers and no VNNI instruction
#     (AVX-512 CPUs without VNNI run it); the vnni object: vpdpbusd.
# Objects that are not there (ISA not configured, not a libtool build) are
# skipped; so is the whole test without objdump, unless
# GLLMK_TEST_REQUIRE_TOOLS=1 (CI) makes that a failure.

: "${top_builddir:=.}"
OBJDUMP=${OBJDUMP:-objdump}

. "$(dirname "$0")/tap.sh"

if [ "x$OBJDUMP" = xno ] || ! command -v "$OBJDUMP" >/dev/null 2>&1; then
  tool_missing_all "no objdump (OBJDUMP=$OBJDUMP)"
fi

core=$(ls "$top_builddir"/lib/core/.libs/libgllmk_la-*.o "$top_builddir"/lib/quant/.libs/*.o 2>/dev/null)
scalar=$(ls "$top_builddir"/lib/isa/scalar/.libs/*kernels_scalar*.o 2>/dev/null)
avx2=$(ls "$top_builddir"/lib/isa/avx2/.libs/*.o 2>/dev/null)
avx512=$(ls "$top_builddir"/lib/isa/avx512/.libs/*.o 2>/dev/null)
vnni=$(ls "$top_builddir"/lib/isa/vnni/.libs/*.o 2>/dev/null)
avxvnni=$(ls "$top_builddir"/lib/isa/avxvnni/.libs/*.o 2>/dev/null)

if [ -z "$core$scalar" ]; then
  skip_all "no libtool objects under $top_builddir/lib (static or non-libtool build?)"
fi

first=$(echo $core $scalar | cut -d' ' -f1)

# mnemonic and operands of every instruction (AArch64 objdump separates
# them by a tab, x86 by spaces)
insns() {
  "$OBJDUMP" -d --no-show-raw-insn "$1" |
    awk -F'\t' 'NF >= 2 && $1 ~ /^ *[0-9a-f]+:$/ { s = $2; for (i = 3; i <= NF; i++) s = s " " $i; print s }'
}

# AArch64: Advanced SIMD is baseline, so the core and scalar objects may use
# it; what they must not hold is the dot-product or SVE instructions of the
# later tiers.  The neon object has no sdot/udot (armv8.0 CPUs run it), the
# dotprod object has them.
if "$OBJDUMP" -f "$first" 2>/dev/null | grep -q 'aarch64'; then
  neon=$(ls "$top_builddir"/lib/isa/neon/.libs/*.o 2>/dev/null)
  dotprod=$(ls "$top_builddir"/lib/isa/dotprod/.libs/*.o 2>/dev/null)
  sve=$(ls "$top_builddir"/lib/isa/sve/.libs/*.o 2>/dev/null)
  sve_re='[[:space:],{]z[0-9]+\.|[[:space:],]p[0-9]+/[mz]|^while|^ptrue'
  for o in $core $scalar $neon; do
    name=${o#"$top_builddir"/}
    bad=$(insns "$o" | grep -E "^[su]dot|$sve_re" | head -n 5)
    [ -n "$bad" ] && diag "$bad"
    [ -z "$bad" ]; ok $? "$name: no sdot/udot or SVE instruction"
  done
  for o in $dotprod; do
    name=${o#"$top_builddir"/}
    bad=$(insns "$o" | grep -E "$sve_re" | head -n 5)
    [ -n "$bad" ] && diag "$bad"
    [ -z "$bad" ]; ok $? "$name: no SVE instruction"
  done
  if [ -n "$neon" ]; then
    cnt=$(insns "$neon" | grep -c -E "^(fmla|tbl)")
    [ "$cnt" -gt 0 ]; ok $? "neon object uses Advanced SIMD (fmla/tbl: $cnt)"
  else
    skip "neon object not built"
  fi
  if [ -n "$dotprod" ]; then
    cnt=$(insns "$dotprod" | grep -c -E '^sdot')
    [ "$cnt" -gt 0 ]; ok $? "dotprod object uses sdot ($cnt)"
  else
    skip "dotprod object not built"
  fi
  if [ -n "$sve" ]; then
    cnt=$(insns "$sve" | grep -c -E '^while(lo|lt)')
    [ "$cnt" -gt 0 ]; ok $? "sve object uses whilelo/whilelt predicates ($cnt)"
    cnt=$(insns "$sve" | grep -c -E '^(fmla|sdot)[[:space:]]+z')
    [ "$cnt" -gt 0 ]; ok $? "sve object uses fmla/sdot on Z registers ($cnt)"
  else
    skip "sve object not built"
  fi
  done_testing
fi

if ! "$OBJDUMP" -f "$first" 2>/dev/null | grep -q 'x86-64'; then
  skip_all "neither an x86-64 nor an AArch64 build"
fi

for o in $core $scalar; do
  name=${o#"$top_builddir"/}
  if ! "$OBJDUMP" -d "$o" >/dev/null 2>&1; then
    ok 1 "$name: $OBJDUMP -d works"
    continue
  fi
  bad=$(insns "$o" | grep -E '%[yz]mm[0-9]|\{%?k[0-7]\}' | head -n 5)
  if [ -n "$bad" ]; then
    diag "$bad"
    ok 1 "$name: no ymm/zmm registers or AVX-512 masks"
  else
    ok 0 "$name: no ymm/zmm registers or AVX-512 masks"
  fi
  bad=$(insns "$o" | grep -E '^v[a-z0-9]+' | head -n 5)
  if [ -n "$bad" ]; then
    diag "$bad"
    ok 1 "$name: no VEX/EVEX-encoded (AVX) instruction"
  else
    ok 0 "$name: no VEX/EVEX-encoded (AVX) instruction"
  fi
done
[ -n "$scalar" ] || skip "no scalar ISA object found"

if [ -n "$avx2" ]; then
  for o in $avx2; do
    name=${o#"$top_builddir"/}
    c=$(insns "$o" | grep -c '%ymm')
    [ "$c" -gt 0 ]; ok $? "$name: uses ymm registers ($c instructions)"
    c=$(insns "$o" | grep -cE '%zmm[0-9]|\{%?k[0-7]\}')
    [ "$c" -eq 0 ]; ok $? "$name: no zmm registers or AVX-512 masks ($c instructions)"
  done
else
  skip "avx2 object not built"
fi

# avxvnni: AVX2 registers only (CPUs without AVX-512 run it), with the
# VEX-encoded vpdpbusd (objdump marks it {vex})
if [ -n "$avxvnni" ]; then
  for o in $avxvnni; do
    name=${o#"$top_builddir"/}
    c=$(insns "$o" | grep -c '%ymm')
    [ "$c" -gt 0 ]; ok $? "$name: uses ymm registers ($c instructions)"
    c=$(insns "$o" | grep -cE '%zmm[0-9]|\{%?k[0-7]\}')
    [ "$c" -eq 0 ]; ok $? "$name: no zmm registers or AVX-512 masks ($c instructions)"
    c=$(insns "$o" | grep -cE '^(\{vex\} )?vpdpbusd.*%ymm')
    [ "$c" -gt 0 ]; ok $? "$name: uses the VEX vpdpbusd ($c instructions)"
  done
else
  skip "avxvnni object not built"
fi

if [ -n "$avx512" ]; then
  for o in $avx512; do
    name=${o#"$top_builddir"/}
    c=$(insns "$o" | grep -c '%zmm')
    [ "$c" -gt 0 ]; ok $? "$name: uses zmm registers ($c instructions)"
    c=$(insns "$o" | grep -cE '^vpdp(bu|ws)s?d')
    [ "$c" -eq 0 ]; ok $? "$name: no VNNI instruction ($c)"
  done
else
  skip "avx512 object not built"
fi

if [ -n "$vnni" ]; then
  for o in $vnni; do
    name=${o#"$top_builddir"/}
    c=$(insns "$o" | grep -cE '^vpdpbusd')
    [ "$c" -gt 0 ]; ok $? "$name: uses vpdpbusd ($c instructions)"
  done
else
  skip "vnni object not built"
fi

done_testing
