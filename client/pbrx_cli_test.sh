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

# pbrx bindep against this Debian host's real dpkg.
work="$TEST_TMPDIR/bindep"
mkdir -p "$work"
printf 'bash\npbrx-no-such-package-a\ncoreutils [!test] >=1\npbrx-no-such-package-b [test]\n' >"$work/bindep.txt"
out=$(cd "$work" && "$PBRX" bindep); check bindep-missing 1 $?
[[ "$out" == $'Missing packages:\n    pbrx-no-such-package-a' ]] || { echo "FAIL bindep output: '$out'"; fail=1; }
out=$(cd "$work" && "$PBRX" bindep -b test); check bindep-brief 1 $?
[[ "$out" == $'pbrx-no-such-package-a\npbrx-no-such-package-b' ]] || { echo "FAIL bindep -b: '$out'"; fail=1; }
printf 'bash\ncoreutils >=1.0\n' >"$work/ok.txt"
out=$(cd "$work" && "$PBRX" bindep -f ok.txt); check bindep-ok 0 $?
[[ -z "$out" ]] || { echo "FAIL bindep ok output: '$out'"; fail=1; }
printf 'coreutils >=999\n' >"$work/bad.txt"
out=$(cd "$work" && "$PBRX" bindep -f bad.txt); check bindep-badversion 1 $?
[[ "$out" == $'Bad versions of installed packages:\n    coreutils version '*' does not match >=999' ]] || { echo "FAIL badversion: '$out'"; fail=1; }
# Hostile flag values never reach a shell: each is a usage error (exit 2)
# naming the flag, and the command it carries never runs.
proj="$TEST_TMPDIR/proj"
mkdir -p "$proj"
printf '[project]\nname = "p"\nversion = "1"\n' >"$proj/pyproject.toml"
canary="$TEST_TMPDIR/pwned"
err=$("$PBRX" build-images --cache-dir "$TEST_TMPDIR/c" --output "oci:$TEST_TMPDIR/o" \
  --base "debian:bookworm;touch $canary;#" "$proj" 2>&1 >/dev/null); check hostile-base 2 $?
[[ "$err" == "pbrx build-images: --base 'debian:bookworm;touch $canary;#': Debian suite 'bookworm;touch $canary;#' is not a suite name ([a-z][a-z0-9.+-], at most 64)"* ]] \
  || { echo "FAIL hostile base message: '$err'"; fail=1; }
err=$("$PBRX" build-images --cache-dir "$TEST_TMPDIR/c" --output "oci:$TEST_TMPDIR/o" \
  --tag "v1\$(touch $canary)" "$proj" 2>&1 >/dev/null); check hostile-tag 2 $?
[[ "$err" == "pbrx build-images: --tag 'v1\$(touch $canary)': not a valid tag"* ]] \
  || { echo "FAIL hostile tag message: '$err'"; fail=1; }
err=$(PBR_VERSION=$'1.0\nPATH=/tmp' "$PBRX" build-images --cache-dir "$TEST_TMPDIR/c" \
  --output "oci:$TEST_TMPDIR/o" "$proj" 2>&1 >/dev/null); check hostile-pbr-version 2 $?
[[ "$err" == "pbrx build-images: PBR_VERSION '1.0"* ]] || { echo "FAIL hostile PBR_VERSION: '$err'"; fail=1; }
[[ ! -e "$canary" ]] || { echo "FAIL a hostile value ran a command"; fail=1; }
exit $fail
