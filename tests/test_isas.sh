#!/bin/sh
# test_isas.sh -- every place that names the CPU ISAs follows lib/isa/isas.def (TAP)
# SPDX-License-Identifier: MIT
#
# The C code expands isas.def itself (dispatch order, kernel tables,
# gllmk-info); what it cannot expand is checked here against its rows:
#   configure.ac   a GLLMK_CHECK_ISA([NAME], [name], ...) probe per ISA but scalar
#   Makefile.am    lib/isa/name/kernels_name.c, under `if GLLMK_HAVE_NAME'
#   lib/core/cpu.c sets every GLLMK_CPU_* bit a row needs
#   lib/isa/name/  the unit defines GLLMK_ISA name
#   gllmk-info     --isas lists the rows in their order; --help names them all
#   README.md      the GLLMK_CPU_ISA values, and --disable-name per ISA but scalar
#   tests/test_objects.sh  inspects each ISA object
#   .ci/run        (when present: not in the tarball) takes its per-ISA
#                  check lanes from gllmk-info --isas

: "${top_srcdir:=$(dirname "$0")/..}"
: "${top_builddir:=.}"
. "$(dirname "$0")/tap.sh"

def="$top_srcdir/lib/isa/isas.def"
# "name NAME arch", one row a line, in order (a row may continue on the next line)
rows=$(sed -n 's/^GLLMK_ISA_ROW(\([a-z0-9_]*\), *\([A-Z0-9_]*\), *\([a-z0-9]*\),.*/\1 \2 \3/p' "$def")
names=$(echo "$rows" | cut -d' ' -f1 | tr '\n' ' ' | sed 's/ $//')
[ -n "$names" ]; ok $? "isas.def has rows: $names"
last=$(echo "$rows" | tail -n 1 | cut -d' ' -f1)
[ "$last" = scalar ]; ok $? "scalar is the last row (the fallback)"

while read -r name NAME arch; do
  case $arch in x86|arm|any) st=0 ;; *) st=1 ;; esac
  ok $st "$name: arch is x86, arm or any ($arch)"
  unit="$top_srcdir/lib/isa/$name/kernels_$name.c"
  grep -q "^#define GLLMK_ISA $name\$" "$unit" 2>/dev/null
  ok $? "$name: lib/isa/$name/kernels_$name.c defines GLLMK_ISA $name"
  grep -q "lib/isa/$name/kernels_$name.c" "$top_srcdir/Makefile.am"
  ok $? "$name: Makefile.am builds lib/isa/$name/kernels_$name.c"
  [ "$name" = scalar ] && continue
  grep -q "^GLLMK_CHECK_ISA(\[$NAME\], \[$name\]," "$top_srcdir/configure.ac"
  ok $? "$name: configure.ac probes it (GLLMK_CHECK_ISA([$NAME], [$name], ...))"
  grep -q "^if GLLMK_HAVE_$NAME\$" "$top_srcdir/Makefile.am"
  ok $? "$name: Makefile.am builds it under 'if GLLMK_HAVE_$NAME'"
  grep -q "lib/isa/$name/" "$top_srcdir/tests/test_objects.sh"
  ok $? "$name: tests/test_objects.sh inspects its object"
  if [ -f "$top_srcdir/README.md" ]; then
    grep -q -- "--disable-$name" "$top_srcdir/README.md"
    ok $? "$name: README.md documents --disable-$name"
  fi
done <<EOF_ROWS
$rows
EOF_ROWS

# every GLLMK_CPU_* bit a row needs is one cpu.c can set
for bit in $(sed -n '/^GLLMK_ISA_ROW/,/)$/p' "$def" | grep -o 'GLLMK_CPU_[A-Z0-9_]*' | sort -u); do
  grep -q "f |= $bit" "$top_srcdir/lib/core/cpu.c"
  ok $? "lib/core/cpu.c sets $bit"
done

if [ -f "$top_srcdir/README.md" ]; then
  line=$(grep '^| `GLLMK_CPU_ISA=' "$top_srcdir/README.md" | head -n 1)
  miss=
  for name in $names; do
    case $line in *"$name"*) ;; *) miss="$miss $name" ;; esac
  done
  [ -z "$miss" ]; ok $? "README.md's GLLMK_CPU_ISA line names every ISA${miss:+ (missing:$miss)}"
else
  skip "no README.md"
fi

info="$top_builddir/tools/gllmk-info"
# a libtool wrapper script; under $EMULATOR let libtool run the real binary
run=$info
[ -n "${EMULATOR:-}" ] && run="$top_builddir/libtool --mode=execute $EMULATOR $info"
if [ -x "$info" ]; then
  got=$($run --isas | cut -d' ' -f1 | tr '\n' ' ' | sed 's/ $//')
  [ "$got" = "$names" ]; ok $? "gllmk-info --isas lists the rows in order ($got)"
  help=$($run --help)
  want=$(echo "$names" | tr ' ' '|')
  case $help in *"GLLMK_CPU_ISA=$want "*) st=0 ;; *) st=1 ;; esac
  ok $st "gllmk-info --help names GLLMK_CPU_ISA=$want"
  # the runnable rows are the runnable ISAs of the ordinary report
  run1=$($run --isas | awk '$4 == "runnable" { print $1 }' | sort | tr '\n' ' ')
  run2=$($run | sed -n 's/^runnable ISAs: *//p' | sed 's/[a-z0-9_]*(no: [^)]*)//g' | tr ' ' '\n' |
         grep . | sort | tr '\n' ' ')
  [ "$run1" = "$run2" ]; ok $? "gllmk-info --isas and the report agree on what runs here ($run1)"
else
  skip "no $info"
fi

if [ -f "$top_srcdir/.ci/run" ]; then
  grep -q 'gllmk-info --isas' "$top_srcdir/.ci/run"
  ok $? ".ci/run takes its per-ISA lanes from gllmk-info --isas"
else
  skip "no .ci/run (a tarball)"
fi
done_testing
