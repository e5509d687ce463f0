#!/bin/sh
# test_run.sh -- gllmk-run on the llama.cpp oracle models (TAP)
# SPDX-License-Identifier: MIT
#
#  - greedy generation from each model of tests/data/models gives the tokens
#    llama.cpp generated (MANIFEST);
#  - --dump-logits writes (prompt + generated) rows of vocab floats;
#  - sampling with a seed gives the same tokens on 1 and 2 threads;
#  - bad options and a bad model file exit with 2 and 1.

: "${top_srcdir:=$(dirname "$0")/..}"
: "${top_builddir:=.}"

. "$(dirname "$0")/tap.sh"

prog="$top_builddir/tools/gllmk-run"
dir="$top_srcdir/tests/data/models"
[ -x "$prog" ] || { echo "Bail out! $prog is not built"; exit 1; }
# an installed program: a libtool wrapper script; under $EMULATOR let libtool
# run the real binary
if [ -n "${EMULATOR:-}" ]; then
  run="$top_builddir/libtool --mode=execute $EMULATOR $prog"
else
  run="$prog"
fi
tmp=${TMPDIR:-/tmp}/gllmk-run.$$
trap 'rm -f "$tmp" "$tmp.m"' 0 1 2 15

field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

grep -v '^#' "$dir/MANIFEST" >"$tmp.m"
while read -r line; do
  [ -n "$line" ] || continue
  name=$(field "$line" name)
  out=$($run --backend cpu --quiet --model "$dir/$(field "$line" file)" \
        --tokens "$(field "$line" prompt)" --n-predict "$(field "$line" n_gen)" 2>&1)
  [ "$out" = "$(field "$line" generated)" ]
  ok $? "$name: greedy tokens = llama.cpp's ($out)"
done <"$tmp.m"

line=$(grep '^name=llama-f32 ' "$dir/MANIFEST")
model="$dir/$(field "$line" file)"
prompt=$(field "$line" prompt)
$run --backend cpu --quiet --model "$model" --tokens "$prompt" --n-predict 6 \
  --dump-logits "$tmp" >/dev/null 2>&1
size=$(wc -c <"$tmp" 2>/dev/null | tr -d ' ')
[ "$size" = $(( (12 + 6) * 128 * 4 )) ]; ok $? "--dump-logits: 18 rows of 128 floats ($size bytes)"

a=$($run --backend cpu --quiet --model "$model" --tokens "$prompt" --n-predict 12 \
    --temperature 0.9 --top-k 40 --top-p 0.95 --min-p 0.01 --repeat-penalty 1.2 --seed 7 --threads 1)
b=$($run --backend cpu --quiet --model "$model" --tokens "$prompt" --n-predict 12 \
    --temperature 0.9 --top-k 40 --top-p 0.95 --min-p 0.01 --repeat-penalty 1.2 --seed 7 --threads 2 --batch 5)
[ -n "$a" ] && [ "$a" = "$b" ]; ok $? "sampling: the same tokens on 1 and 2 threads, batch 512 and 5 ($a)"

$run --backend cpu --model "$model" --tokens 1,x >/dev/null 2>&1
[ $? -eq 2 ]; ok $? "a bad token list exits with 2"
$run --backend cpu --model "$model" --tokens 1 --top-p nan2 >/dev/null 2>&1
[ $? -eq 2 ]; ok $? "a bad number exits with 2"
$run --backend cpu --model "$dir/MANIFEST" --tokens 1 >/dev/null 2>&1
[ $? -eq 1 ]; ok $? "a file that is not GGUF exits with 1"
$run --backend cpu --model "$model" --tokens 100000 >/dev/null 2>&1
[ $? -eq 1 ]; ok $? "a token outside the vocabulary exits with 1"
done_testing
