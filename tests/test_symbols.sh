#!/bin/sh
# test_symbols.sh -- libgllmk.so exports every public function and nothing
# else (TAP)
# SPDX-License-Identifier: MIT
#
#  - every name of tests/table_a_symbols.txt (the 96 Table A functions) and
#    every GLLMK_API function declared in include/gllmk/*.h is a defined
#    dynamic symbol of $top_builddir/.libs/libgllmk.so;
#  - every exported symbol is gllmk_ followed by a letter or digit (the
#    internal gllmk__* names and any non-gllmk symbol stay hidden);
#  - every exported symbol has the version node $GLLMK_SYMVER (lib/gllmk.map).
# Skipped when nm or the shared library is missing (without nm, a failure
# when GLLMK_TEST_REQUIRE_TOOLS=1, as in CI).

: "${top_srcdir:=$(dirname "$0")/..}"
: "${top_builddir:=.}"
NM=${NM:-nm}

. "$(dirname "$0")/tap.sh"

so="$top_builddir/.libs/libgllmk.so"
list="$top_srcdir/tests/table_a_symbols.txt"

if ! command -v "$NM" >/dev/null 2>&1; then
  tool_missing_all "no nm (NM=$NM)"
fi
if [ ! -f "$so" ]; then
  skip_all "$so not built (static build?)"
fi
if [ ! -f "$list" ]; then
  echo "Bail out! $list is missing"
  exit 1
fi

tmp=${TMPDIR:-/tmp}/gllmk-symbols.$$
trap 'rm -f "$tmp" "$tmp.ver"' 0 1 2 15
# "ADDR TYPE NAME[@VERSION]"; absolute (A) entries are version nodes, not symbols
if ! "$NM" -D --defined-only "$so" >"$tmp.raw" 2>/dev/null; then
  echo "Bail out! $NM -D --defined-only $so failed"
  exit 1
fi
awk 'NF >= 3 && $2 != "A" { sub(/@.*/, "", $3); print $3 }' "$tmp.raw" | sort -u >"$tmp"
# the version node of each exported symbol ("" for an unversioned one)
awk 'NF >= 3 && $2 != "A" { v = ""; if (match($3, /@+/)) v = substr($3, RSTART + RLENGTH);
                            print v }' "$tmp.raw" | sort -u >"$tmp.ver"
rm -f "$tmp.raw"

count=$(wc -l <"$tmp" | tr -d ' ')
echo "# $count exported symbols"

total=$(grep -c . "$list")
[ "$total" -eq 96 ]; ok $? "table_a_symbols.txt lists 96 functions ($total)"

while read -r sym; do
  [ -n "$sym" ] || continue
  grep -qx "$sym" "$tmp"; ok $? "exported: $sym"
done <"$list"

# every GLLMK_API function of the public headers (other than Table A)
api=$(cat "$top_srcdir"/include/gllmk/*.h | tr '\n' ' ' | sed 's/;/;\n/g' |
      grep 'GLLMK_API' | sed -n 's/.*[ *]\(gllmk_[a-z0-9_]*\) *(.*/\1/p' | sort -u)
napi=0
for sym in $api; do
  grep -qx "$sym" "$list" && continue
  napi=$((napi + 1))
  grep -qx "$sym" "$tmp"; ok $? "exported: $sym"
done
[ "$napi" -gt 10 ]; ok $? "found the runtime/backend API in the headers ($napi functions)"

bad=$(grep -v '^gllmk_[a-z0-9]' "$tmp" | head -n 20)
if [ -n "$bad" ]; then
  echo "$bad" | sed 's/^/# unexpected export: /'
  ok 1 "every exported symbol is gllmk_[a-z0-9]..."
else
  ok 0 "every exported symbol is gllmk_[a-z0-9]..."
fi
internal=$(grep -c '^gllmk__' "$tmp")
[ "$internal" -eq 0 ]; ok $? "no internal gllmk__ symbol is exported ($internal)"

# GLLMK_SYMVER (from Makefile.am): the version node lib/gllmk.map gives every
# symbol, empty where the linker takes no version script
if [ -n "${GLLMK_SYMVER:-}" ]; then
  vers=$(tr '\n' ' ' <"$tmp.ver")
  [ "$vers" = "$GLLMK_SYMVER " ]; ok $? "every exported symbol has the version node $GLLMK_SYMVER (nodes: $vers)"
else
  skip "no symbol version script (linker without --version-script)"
fi

done_testing
