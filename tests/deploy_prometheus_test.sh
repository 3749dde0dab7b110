#!/usr/bin/env bash
# deploy/prometheus: the rules load (promtool check rules), their unit tests
# pass (promtool test rules), and a rule broken on purpose fails them, so
# the unit tests can fail.
set -euo pipefail
REPO="$TEST_SRCDIR/pbrx"
T="$TEST_TMPDIR"
source "$REPO/tests/e2e_lib.sh"

cp -L "$REPO/deploy/prometheus/"*.yml "$T/"
promtool check rules "$T/pbrx-rules.yml" >"$T/check.out" 2>&1 || { cat "$T/check.out"; fail "promtool check rules"; }
grep -q "SUCCESS: 14 rules found" "$T/check.out" || { cat "$T/check.out"; fail "want 14 rules"; }
promtool check config "$T/prometheus.yml" >"$T/config.out" 2>&1 || { cat "$T/config.out"; fail "promtool check config"; }
(cd "$T" && promtool test rules pbrx-rules.test.yml) >"$T/test.out" 2>&1 || { cat "$T/test.out"; fail "promtool test rules"; }
grep -q SUCCESS "$T/test.out" || fail "no SUCCESS from promtool test rules"

# Mutants: a threshold and a recording rule changed: the tests catch both.
mkdir -p "$T/m1" "$T/m2"
sed 's/pbrx:step_failure_ratio:rate15m > 0.2/pbrx:step_failure_ratio:rate15m > 0.5/' "$T/pbrx-rules.yml" >"$T/m1/pbrx-rules.yml"
sed 's/outcome=~"cache_hit|joined"/outcome="cache_hit"/' "$T/pbrx-rules.yml" >"$T/m2/pbrx-rules.yml"
for m in m1 m2; do
  ! cmp -s "$T/$m/pbrx-rules.yml" "$T/pbrx-rules.yml" || fail "mutant $m changed nothing"
  cp "$T/pbrx-rules.test.yml" "$T/$m/"
  if (cd "$T/$m" && promtool test rules pbrx-rules.test.yml) >/dev/null 2>&1; then
    fail "mutant $m passes the rules' unit tests"
  fi
done
echo PASS
