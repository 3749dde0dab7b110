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

# --- The CLI people expect: help, honest booleans, suggestions, settings ---
expect() {  # expect NAME CONDITION-RESULT MESSAGE
  [[ "$2" == 0 ]] || { echo "FAIL $1: $3"; fail=1; }
}
out=$("$PBRX" build-images --help); check bi-help 0 $?
[[ "$out" == *"usage: pbrx build-images [FLAGS] [DIR...]"* && "$out" == *"  -j, --jobs=N"* \
   && "$out" == *"  --prefix=P"*"[\$PBRX_PREFIX]"* && "$out" == *"examples:"* ]]; expect bi-help-text $? "build-images --help lacks flags or examples"
[[ "$("$PBRX" help build-images)" == "$out" ]]; expect help-cmd $? "pbrx help build-images differs from --help"
for c in push-images plan "farm status"; do
  # shellcheck disable=SC2086
  h=$("$PBRX" $c --help); check "$c-help" 0 $?
  [[ "$h" == "usage: pbrx $c "* && "$h" == *"--json"* ]]; expect "$c-help-text" $? "$c --help: '$h'"
done
err=$("$PBRX" build-images --prefx reg/ 2>&1 >/dev/null); check misspelt 2 $?
[[ "$err" == $'pbrx build-images: unknown flag --prefx (did you mean --prefix?)\n(see \'pbrx build-images --help\')' ]]; expect misspelt-msg $? "'$err'"
err=$("$PBRX" build-images -j0 . 2>&1 >/dev/null); check jobs-zero 2 $?
[[ "$err" == "pbrx build-images: --jobs: expected a number from 1 to 1024, got '0'"* ]]; expect jobs-msg $? "'$err'"
err=$("$PBRX" plan --json=maybe . 2>&1 >/dev/null); check bad-bool 2 $?
[[ "$err" == "pbrx plan: --json: expected true or false, got 'maybe'"* ]]; expect bad-bool-msg $? "'$err'"
err=$("$PBRX" biuld-images 2>&1); check typo-command 2 $?
[[ "$err" == "pbrx: unknown command 'biuld-images' (did you mean 'build-images'?)" ]]; expect typo-command-msg $? "'$err'"

# Honest booleans and where values come from: flag > PBRX_* > user file >
# system file (the system one cannot be faked here; the user one can).
app="$TEST_TMPDIR/-app"  # a directory whose name starts with '-': after --
mkdir -p "$app"
printf '[project]\nname = "cliapp"\nversion = "1.0"\n[project.scripts]\ncliapp = "cliapp:main"\n' >"$app/pyproject.toml"
cd "$TEST_TMPDIR"
out=$("$PBRX" plan --json=false -- -app); check json-false 0 $?
[[ "$out" == cliapp* ]]; expect json-false-text $? "--json=false printed '$out'"
out=$("$PBRX" plan --json -- -app); check json-true 0 $?
[[ "$out" == "{"* ]]; expect json-true-json $? "--json printed '$out'"
cfg="$TEST_TMPDIR/xdg"
mkdir -p "$cfg/pbrx"
printf '# team defaults\n[plan]\nprefix = "file.example/team"\ntag = ["t1", "t2"]\n[build-images]\njobs = 3\n' >"$cfg/pbrx/pbrx.toml"
images() { python3 -c 'import json,sys; print(" ".join(r for p in json.load(sys.stdin)["projects"] for i in p["images"] for r in i["refs"]))'; }
refs=$(XDG_CONFIG_HOME="$cfg" "$PBRX" plan --json -- -app | images)
[[ "$refs" == "file.example/team/cliapp-base:t1 file.example/team/cliapp-base:t2 file.example/team/cliapp:t1 file.example/team/cliapp:t2" ]]; expect settings-file $? "refs from the settings file: '$refs'"
refs=$(XDG_CONFIG_HOME="$cfg" PBRX_PREFIX=env.example "$PBRX" plan --json -- -app | images)
[[ "$refs" == "env.example/cliapp-base:t1 env.example/cliapp-base:t2 env.example/cliapp:t1 env.example/cliapp:t2" ]]; expect env-over-file $? "'$refs'"
refs=$(XDG_CONFIG_HOME="$cfg" PBRX_PREFIX=env.example "$PBRX" plan --json --prefix flag.example --tag t9 -- -app | images)
[[ "$refs" == "flag.example/cliapp-base:t9 flag.example/cliapp:t9" ]]; expect flag-over-env $? "'$refs'"
# A project's [tool.pbrx] beats the settings file, not a variable or flag.
tooled="$TEST_TMPDIR/tooled"
mkdir -p "$tooled"
printf '[project]\nname = "tooled"\nversion = "1.0"\n[tool.pbrx]\nprefix = "proj.example/t"\ntags = ["p1"]\nextra-packages = ["libpq5"]\n' >"$tooled/pyproject.toml"
refs=$(XDG_CONFIG_HOME="$cfg" "$PBRX" plan --json "$tooled" | images)
[[ "$refs" == "proj.example/t/tooled-base:p1" ]]; expect project-over-file $? "'$refs'"
pkgs=$(XDG_CONFIG_HOME="$cfg" "$PBRX" plan --json "$tooled" | python3 -c 'import json,sys; print(json.load(sys.stdin)["projects"][0]["distro_packages"]["runtime"])')
[[ "$pkgs" == "['libpq5']" ]]; expect project-extra-packages $? "'$pkgs'"
refs=$(XDG_CONFIG_HOME="$cfg" PBRX_PREFIX=env.example "$PBRX" plan --json "$tooled" | images)
[[ "$refs" == "env.example/tooled-base:p1" ]]; expect env-over-project $? "'$refs'"
refs=$(XDG_CONFIG_HOME="$cfg" "$PBRX" plan --json --tag f1 "$tooled" | images)
[[ "$refs" == "proj.example/t/tooled-base:f1" ]]; expect flag-over-project $? "'$refs'"
printf '[project]\nname = "tooled"\nversion = "1.0"\n[tool.pbrx]\nprefx = "x"\n' >"$tooled/pyproject.toml"
err=$("$PBRX" plan "$tooled" 2>&1 >/dev/null); check bad-tool-pbrx 1 $?
[[ "$err" == "pbrx plan: "*"pyproject.toml:5: [tool.pbrx] unknown key 'prefx' (prefix, tags, extra-packages)" ]]; expect bad-tool-pbrx-msg $? "'$err'"
out=$(XDG_CONFIG_HOME="$cfg" PBRX_JOBS=5 "$PBRX" config --json build-images); check config 0 $?
python3 - "$cfg" "$out" <<'PY' || { echo "FAIL pbrx config --json: $out"; fail=1; }
import json, sys
c = json.loads(sys.argv[2])
assert c["schema"] == "pbrx.config/v1" and c["command"] == "build-images", c
s = {x["flag"]: x for x in c["settings"]}
assert s["jobs"]["values"] == ["5"] and s["jobs"]["source"] == "$PBRX_JOBS", s["jobs"]
assert s["base"]["values"] == ["debian:bookworm"] and s["base"]["source"] == "default", s["base"]
assert c["settings_files"][-1] == sys.argv[1] + "/pbrx/pbrx.toml", c["settings_files"]
PY
out=$(XDG_CONFIG_HOME="$cfg" "$PBRX" config plan); check config-text 0 $?
[[ "$out" == *"--prefix"*"file.example/team"*"$cfg/pbrx/pbrx.toml:3"* ]]; expect config-source $? "'$out'"
printf '[plan]\nprefx = "x/"\n' >"$cfg/pbrx/pbrx.toml"
err=$(XDG_CONFIG_HOME="$cfg" "$PBRX" plan -- -app 2>&1 >/dev/null); check bad-settings 2 $?
[[ "$err" == "pbrx plan: $cfg/pbrx/pbrx.toml:2: unknown key 'prefx' (no flag --prefx)"* ]]; expect bad-settings-msg $? "'$err'"

# Completions, run by the shells themselves.
"$PBRX" completion bash >"$TEST_TMPDIR/pbrx.bash"; check completion-bash 0 $?
got=$(bash -c 'source "$1"; COMP_WORDS=(pbrx build-images --pre); COMP_CWORD=2; _pbrx; echo "${COMPREPLY[*]}"
  COMP_WORDS=(pbrx farm st); COMP_CWORD=2; _pbrx; echo "${COMPREPLY[*]}"
  COMP_WORDS=(pbrx pu); COMP_CWORD=1; _pbrx; echo "${COMPREPLY[*]}"' _ "$TEST_TMPDIR/pbrx.bash")
[[ "$got" == $'--prefix\nstatus\npush-images' ]]; expect bash-completion $? "'$got'"
"$PBRX" completion fish >"$TEST_TMPDIR/pbrx.fish"; check completion-fish 0 $?
got=$(HOME="$TEST_TMPDIR" fish --no-config -c 'source $argv[1]; complete -C "pbrx build-images --cache-d"; complete -C "pbrx farm status --js"' "$TEST_TMPDIR/pbrx.fish")
[[ "$got" == $'--cache-dir\tthe local step cache and state'*$'\n--json\tprint the status as JSON' ]]; expect fish-completion $? "'$got'"
"$PBRX" completion zsh >"$TEST_TMPDIR/_pbrx"; check completion-zsh 0 $?
got=$(HOME="$TEST_TMPDIR" zsh -f -c 'autoload -U compinit; compinit -u -d "$2"; source "$1"; print -r -- $_comps[pbrx]' _ "$TEST_TMPDIR/_pbrx" "$TEST_TMPDIR/zcompdump")
[[ "$got" == _pbrx ]]; expect zsh-completion $? "zsh did not register _pbrx: '$got'"
# zsh completing as a user types: TAB in an interactive zsh (zpty).
zsh_tab() {  # zsh_tab LINE: the line after TAB
  HOME="$TEST_TMPDIR" timeout 30 zsh -f "$TEST_SRCDIR/pbrx/client/zsh_complete.zsh" "$TEST_TMPDIR/zfpath" "$1" \
    | grep -a '^BUF:' | tr -d '\r' | sed 's/^BUF://'
}
mkdir -p "$TEST_TMPDIR/zfpath" && cp "$TEST_TMPDIR/_pbrx" "$TEST_TMPDIR/zfpath/_pbrx"
got=$(zsh_tab "pbrx build-im"); [[ "$got" == "pbrx build-images" ]]; expect zsh-tab-command $? "'$got'"
got=$(zsh_tab "pbrx fa"); [[ "$got" == "pbrx farm" ]]; expect zsh-tab-group $? "'$got'"
got=$(zsh_tab "pbrx farm st"); [[ "$got" == "pbrx farm status" ]]; expect zsh-tab-subcommand $? "'$got'"
got=$(zsh_tab "pbrx build-images --cache-d"); [[ "$got" == "pbrx build-images --cache-dir" ]]; expect zsh-tab-flag $? "'$got'"
# A repeatable flag is offered again; a flag given once (-j) is not.
got=$(zsh_tab "pbrx build-images --constraint a --constr"); [[ "$got" == "pbrx build-images --constraint a --constraint" ]]; expect zsh-tab-repeat $? "'$got'"
got=$(zsh_tab "pbrx build-images -j 4 --jo"); [[ "$got" == "pbrx build-images -j 4 --jo" ]]; expect zsh-tab-once $? "'$got'"
"$PBRX" completion tcsh >/dev/null 2>&1; check completion-unknown 2 $?

# Man pages: every command's, rendered without a warning, naming its flags.
"$PBRX" man "$TEST_TMPDIR/man" || { echo "FAIL pbrx man"; fail=1; }
for page in pbrx pbrx-build-images pbrx-push-images pbrx-plan pbrx-bindep pbrx-farm-status; do
  [[ -f "$TEST_TMPDIR/man/$page.1" ]] || { echo "FAIL no $page.1"; fail=1; continue; }
  warnings=$(groff -man -Tutf8 -ww -z "$TEST_TMPDIR/man/$page.1" 2>&1)
  [[ -z "$warnings" ]]; expect "$page-warnings" $? "$warnings"
done
text=$(MANWIDTH=100 man -l "$TEST_TMPDIR/man/pbrx-build-images.1" 2>/dev/null | col -b)
[[ "$text" == *"--prefix=P"* && "$text" == *"PBRX_PREFIX"* && "$text" == *"EXAMPLES"* ]]; expect man-text $? "pbrx-build-images(1) lacks flags: ${text:0:300}"
exit $fail
