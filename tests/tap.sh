# tap.sh -- the TAP helpers of the shell tests (sourced, not run)
# SPDX-License-Identifier: MIT
#
# ok STATUS DESCRIPTION   one test point: passes when STATUS is 0
# skip REASON           one skipped point
# diag TEXT              a comment line per line of TEXT
# skip_all REASON         the whole script is skipped: "1..0 # SKIP REASON", exit 0
# tool_missing REASON     a tool the test needs is missing: one skipped point, or a
#                         failed one when GLLMK_TEST_REQUIRE_TOOLS=1 (.ci/run, which
#                         installs every tool)
# tool_missing_all REASON the same for the whole script: skip_all, or one failed
#                         point and exit 1
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
tool_missing() {
  if [ "${GLLMK_TEST_REQUIRE_TOOLS:-}" = 1 ]; then
    ok 1 "$1 (GLLMK_TEST_REQUIRE_TOOLS=1: a missing tool fails)"
  else
    skip "$1"
  fi
}
tool_missing_all() {
  if [ "${GLLMK_TEST_REQUIRE_TOOLS:-}" = 1 ]; then
    tool_missing "$1"
    done_testing
  fi
  skip_all "$1"
}
done_testing() {
  echo "1..$n"
  exit $failed
}
