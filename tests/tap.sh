# tap.sh -- the TAP helpers of the shell tests (sourced, not run)
# SPDX-License-Identifier: MIT
#
# ok STATUS DESCRIPTION   one test point: passes when STATUS is 0
# skip REASON           one skipped point
# diag TEXT              a comment line per line of TEXT
# skip_all REASON         the whole script is skipped: "1..0 # SKIP REASON", exit 0
# done_testing            the plan line, then exit 1 if any point failed

n=0
failed=0
ok() {
  n=$((n + 1))
  if [ "$1" -eq 0 ]; then
    echo "ok $n - $2"
  else
    echo "not ok $n - $2"
    failed=1
  fi
}
skip() {
  n=$((n + 1))
  echo "ok $n # SKIP $1"
}
diag() {
  echo "$1" | sed 's/^/# /'
}
skip_all() {
  echo "1..0 # SKIP $1"
  exit 0
}
done_testing() {
  echo "1..$n"
  exit $failed
}
