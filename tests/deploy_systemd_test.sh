#!/usr/bin/env bash
# deploy/systemd through tools/install: the binaries, docs, units and
# settings land where the units expect them (under a staging root, with a
# non-default prefix); `systemd-analyze verify` accepts the three units
# against that root (their ExecStart binaries exist there); each daemon
# accepts its settings file (`--config FILE --help` applies the file
# first); a second install keeps an operator's edited settings; a unit
# with a typo is caught, so the verify step can fail.
set -euo pipefail
REPO="$TEST_SRCDIR/pbrx"
T="$TEST_TMPDIR"
source "$REPO/tests/e2e_lib.sh"

mkdir -p "$T/bin/client" "$T/bin/cache" "$T/bin/coordinator" "$T/bin/executor"
for b in client/pbrx cache/pbrx-cache coordinator/pbrx-coordinator executor/pbrx-executor; do
  cp -L "$REPO/$b" "$T/bin/$b"
done
# tools/install works from a checkout: a copy of the files it reads.
mkdir -p "$T/src/tools" "$T/src/deploy/systemd" "$T/src/docs"
cp -L "$REPO/tools/install" "$T/src/tools/"
cp -L "$REPO/README.md" "$T/src/"
cp -L "$REPO/docs/"*.md "$T/src/docs/"
cp -L "$REPO/deploy/systemd/"* "$T/src/deploy/systemd/"
ROOT="$T/root"
"$T/src/tools/install" --prefix /opt/pbrx --destdir "$ROOT" --bin-dir "$T/bin" >"$T/install.out" 2>&1 \
  || { cat "$T/install.out"; fail "tools/install"; }
for b in pbrx pbrx-cache pbrx-coordinator pbrx-executor; do
  [[ -x "$ROOT/opt/pbrx/bin/$b" ]] || fail "$b not installed"
done
"$ROOT/opt/pbrx/bin/pbrx" version | grep -q '^pbrx [0-9]' || fail "the installed pbrx does not run"
[[ -f "$ROOT/opt/pbrx/share/doc/pbrx/operations.md" ]] || fail "docs not installed"
for f in man/man1/pbrx.1 man/man1/pbrx-build-images.1 bash-completion/completions/pbrx \
         zsh/site-functions/_pbrx fish/vendor_completions.d/pbrx.fish; do
  [[ -s "$ROOT/opt/pbrx/share/$f" ]] || fail "$f not installed"
done
page=$(MANWIDTH=100 man -l "$ROOT/opt/pbrx/share/man/man1/pbrx.1" 2>/dev/null)
grep -q "build-images" <<<"$page" || fail "pbrx(1) does not list build-images"
for d in cache coordinator executor; do
  unit="$ROOT/etc/systemd/system/pbrx-$d.service"
  grep -q "^ExecStart=/opt/pbrx/bin/pbrx-$d --config=/etc/pbrx/$d.toml$" "$unit" || fail "pbrx-$d.service: ExecStart does not name the prefix"
  [[ -f "$ROOT/etc/pbrx/$d.toml" ]] || fail "$d.toml not installed"
  "$ROOT/opt/pbrx/bin/pbrx-$d" --config "$ROOT/etc/pbrx/$d.toml" --help >/dev/null 2>"$T/$d.err" \
    || { cat "$T/$d.err"; fail "pbrx-$d refuses its settings file"; }
done
grep -q '^Delegate=yes$' "$ROOT/etc/systemd/system/pbrx-executor.service" || fail "the executor's cgroups are not delegated"
grep -q '^DynamicUser=yes$' "$ROOT/etc/systemd/system/pbrx-cache.service" || fail "the cache runs as root"

# The root is the staging tree plus what any system has: systemd's own
# units (sysinit.target, ...) and /bin/kill (ExecReload).
mkdir -p "$ROOT/usr/lib/systemd" "$ROOT/bin"
cp -r /lib/systemd/system "$ROOT/usr/lib/systemd/"
cp /bin/kill "$ROOT/bin/"
systemd-analyze verify --man=no --root="$ROOT" \
  "$ROOT/etc/systemd/system/pbrx-cache.service" \
  "$ROOT/etc/systemd/system/pbrx-coordinator.service" \
  "$ROOT/etc/systemd/system/pbrx-executor.service" >"$T/verify.out" 2>&1 \
  || { cat "$T/verify.out"; fail "systemd-analyze verify"; }
# Anything it printed is a finding: the units must verify silently.
[[ ! -s "$T/verify.out" ]] || { cat "$T/verify.out"; fail "systemd-analyze verify has findings"; }

# Mutants: a misspelt directive, and a binary that is not there; each is
# reported by name.
units="$ROOT/etc/systemd/system"
sed 's/^ProtectSystem=strict/ProtectSytem=strict/' "$units/pbrx-cache.service" >"$units/pbrx-typo.service"
sed 's|/opt/pbrx/bin/pbrx-cache|/opt/pbrx/bin/pbrx-cahce|' "$units/pbrx-cache.service" >"$units/pbrx-nobin.service"
systemd-analyze verify --man=no --root="$ROOT" "$units/pbrx-typo.service" >"$T/typo.out" 2>&1 || true
grep -q "pbrx-typo.service:27: Unknown key 'ProtectSytem' in section \[Service\]" "$T/typo.out" || { cat "$T/typo.out"; fail "verify misses a misspelt directive"; }
systemd-analyze verify --man=no --root="$ROOT" "$units/pbrx-nobin.service" >"$T/nobin.out" 2>&1 || true
grep -q "pbrx-cahce is not executable" "$T/nobin.out" || { cat "$T/nobin.out"; fail "verify misses a missing binary"; }
rm "$units/pbrx-typo.service" "$units/pbrx-nobin.service"

# An operator's settings survive a second install.
echo 'slots = 7' >>"$ROOT/etc/pbrx/executor.toml"
"$T/src/tools/install" --prefix /opt/pbrx --destdir "$ROOT" --bin-dir "$T/bin" >"$T/install2.out" 2>&1 || fail "second install"
grep -q '^slots = 7$' "$ROOT/etc/pbrx/executor.toml" || fail "the second install overwrote executor.toml"
grep -q "keeping $ROOT/etc/pbrx/executor.toml" "$T/install2.out" || fail "the second install did not say it kept the settings"
echo PASS
