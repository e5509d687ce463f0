#!/bin/sh
# test_man.sh -- the manual pages render cleanly and cover the whole API (TAP)
# SPDX-License-Identifier: MIT
#
#  - every page of doc/man renders with `groff -ww -z' (all warnings on) and
#    prints nothing: no warning, no error (skipped without groff, a failure
#    with GLLMK_TEST_REQUIRE_TOOLS=1);
#  - every GLLMK_API function of include/gllmk/*.h is named in some page, and
#    every function a section-3 page names in its NAME section exists;
#  - the tools' pages document every option their --help prints.

: "${top_srcdir:=$(dirname "$0")/..}"
: "${top_builddir:=.}"

. "$(dirname "$0")/tap.sh"

mandir="$top_srcdir/doc/man"
pages=$(cd "$mandir" && ls gllmk*.[13] 2>/dev/null)
[ -n "$pages" ] || { echo "Bail out! no pages in $mandir"; exit 1; }

tmp=${TMPDIR:-/tmp}/gllmk-man.$$
trap 'rm -f "$tmp" "$tmp.api" "$tmp.named"' 0 1 2 15

have_groff=1
if ! command -v groff >/dev/null 2>&1; then
  have_groff=0
  tool_missing "no groff: the pages are not rendered"
fi
for p in $pages; do
  if [ "$have_groff" = 1 ]; then
    pre=""
    # a page whose first line is '\" t needs the tbl preprocessor
    head -n 1 "$mandir/$p" | grep -q "^'\\\\\" t" && pre="-t"
    groff $pre -ww -z -man -Tutf8 "$mandir/$p" >"$tmp" 2>&1
    rc=$?
    [ "$rc" -eq 0 ] && ! [ -s "$tmp" ]
    ok $? "$p renders with groff -ww and no diagnostic"
    [ -s "$tmp" ] && diag "$(head -n 10 "$tmp")"
  fi
  grep -q '^\.TH ' "$mandir/$p"; ok $? "$p has a .TH title line"
done

# every public function is in the NAME section of exactly one section-3 page
# (make install gives it a page of its own that sources that one)
api=$(cat "$top_srcdir"/include/gllmk/*.h | tr '\n' ' ' | sed 's/;/;\n/g' |
      grep 'GLLMK_API' | sed -n 's/.*[ *]\(gllmk_[a-z0-9_]*\) *(.*/\1/p' | sort -u)
for p in $pages; do
  case $p in *.3) sed -n '/^\.SH NAME/,/^\.SH [^N]/p' "$mandir/$p" | grep -o 'gllmk_[a-z0-9_]*' ;; esac
done | sort >"$tmp"
missing=""
napi=0
for f in $api; do
  napi=$((napi + 1))
  grep -qx "$f" "$tmp" || missing="$missing $f"
done
[ "$napi" -gt 200 ]; ok $? "found the API in the headers ($napi functions)"
[ -z "$missing" ]; ok $? "every API function is in the NAME section of a manual page"
[ -n "$missing" ] && diag "not named:$missing"
dup=$(uniq -d "$tmp" | tr '\n' ' ')
[ -z "$dup" ]; ok $? "no function is named by two pages"
[ -n "$dup" ] && diag "named twice: $dup"

# the names `make install' turns into .so pages are real functions
echo "$api" >"$tmp.api"
bad=""
for p in $pages; do
  case $p in *.3) ;; *) continue ;; esac
  sed -n '/^\.SH NAME/,/^\.SH [^N]/p' "$mandir/$p" | grep -o 'gllmk_[a-z0-9_]*' >"$tmp.named"
  while read -r f; do
    [ "$f.3" = "$p" ] && continue
    grep -qx "$f" "$tmp.api" || bad="$bad $p:$f"
  done <"$tmp.named"
done
[ -z "$bad" ]; ok $? "every function named in a NAME section exists"
[ -n "$bad" ] && diag "not in the headers:$bad"

# the options of the tools
for tool in gllmk-info gllmk-bench gllmk-run; do
  prog="$top_builddir/tools/$tool"
  if ! [ -x "$prog" ]; then
    skip "$tool: not built"
    continue
  fi
  # the program is a libtool wrapper script: let libtool run it under $EMULATOR
  if [ -n "${EMULATOR:-}" ]; then
    run="$top_builddir/libtool --mode=execute $EMULATOR"
  else
    run=""
  fi
  opts=$($run "$prog" --help 2>/dev/null | grep -o -- '--[a-z][a-z0-9-]*' | sort -u)
  und=""
  for o in $opts; do
    pat=$(echo "$o" | sed 's/-/\\\\-/g')
    grep -q -- "$pat" "$mandir/$tool.1" || grep -q -- "$o" "$mandir/$tool.1" || und="$und $o"
  done
  [ -n "$opts" ] && [ -z "$und" ]; ok $? "$tool.1 documents every option of $tool --help"
  [ -n "$und" ] && diag "undocumented:$und"
done

done_testing
