#!/usr/bin/env bash
# Checks the CLI's exit codes and outputs for the commands that exist so far.
set -u
PBRX="$TEST_SRCDIR/pbrx/client/pbrx"
fail=0
check() {  # check NAME EXPECTED_RC ACTUAL_RC
  if [[ "$2" != "$3" ]]; then echo "FAIL $1: want exit $2, got $3"; fail=1; fi
}
out=$("$PBRX" version); check version 0 $?
[[ "$out" =~ ^pbrx\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "FAIL version output: '$out'"; fail=1; }
"$PBRX" --help >/dev/null; check help 0 $?
"$PBRX" >/dev/null 2>&1; check no-args 2 $?
err=$("$PBRX" frobnicate 2>&1 >/dev/null); check unknown 2 $?
[[ "$err" == "pbrx: unknown command 'frobnicate' (try 'pbrx --help')" ]] || { echo "FAIL unknown msg: '$err'"; fail=1; }
exit $fail
