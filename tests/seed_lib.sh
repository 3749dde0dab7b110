# Test caches (sourced; expects T=$TEST_TMPDIR and REPO=the runfiles'
# workspace root, whose data must include //client:pbrx,
# //coordinator:pbrx-coordinator, //executor:pbrx-executor and
# //tests:seed_cache).
#
# The rule: every test builds in a cache of its own, so each step it checks
# ran with the build under test; what may cross test runs is only what is
# slow and external, the Debian bases made with mmdebstrap and the apt
# layers. Those live in a machine-wide seed, /var/tmp/pbrx-test-seed/KEY,
# where KEY hashes the binaries that make them (pbrx, pbrx-coordinator,
# pbrx-executor) and Debian's InRelease files for bookworm, bookworm-updates
# and bookworm-security (mmdebstrap installs from all three): a change of
# that code, a point release or a security update starts a new seed. The newest two seeds are
# kept, older ones deleted.
#
#   seeded_cache DIR [--skip-bases]
#                      DIR becomes a new cache dir (DIR/db) holding the seed
#                      (without the Debian bases: the test builds its own)
#   save_seed DIR      copies DIR/db's bases and apt layers into the seed
#                      (DIR/db must be closed: no process may have it open)
#
# A test that needs Debian's mirror fails with one line starting
# "MIRROR UNREACHABLE" when it cannot reach it: not a pbrx failure.

SEED_ROOT="${PBRX_TEST_SEED_ROOT:-/var/tmp/pbrx-test-seed}"
DEBIAN_RELEASE_URLS=(
  "http://deb.debian.org/debian/dists/bookworm/InRelease"
  "http://deb.debian.org/debian/dists/bookworm-updates/InRelease"
  "http://security.debian.org/debian-security/dists/bookworm-security/InRelease"
)
SEED=""

# require_mirror: fails the test with one line if Debian's mirror does not
# answer; prints one sha256 of the three suites' InRelease files otherwise.
require_mirror() {
  local rc url i=0
  for url in "${DEBIAN_RELEASE_URLS[@]}"; do
    rc=0
    curl -sfL --max-time 30 -o "$T/.inrelease$i" "$url" || rc=$?
    if [[ $rc != 0 ]]; then
      echo "MIRROR UNREACHABLE: $url (curl exit $rc): this test needs Debian's mirror; not a pbrx failure" >&2
      exit 1
    fi
    i=$((i + 1))
  done
  cat "$T"/.inrelease[0-9] | sha256sum | cut -d' ' -f1
}

_seed_key() {
  local release
  release=$(require_mirror) || exit 1
  { sha256sum "$REPO/client/pbrx" "$REPO/coordinator/pbrx-coordinator" "$REPO/executor/pbrx-executor" \
      | cut -d' ' -f1; echo "$release"; } | sha256sum | cut -c1-16
}

_seed_lock() {
  mkdir -p "$SEED_ROOT"
  exec 9>"$SEED_ROOT/.lock"
  flock 9
}
_seed_unlock() { flock -u 9; exec 9>&-; }

seeded_cache() {
  if [[ -z "$SEED" ]]; then
    local key
    key=$(_seed_key) || exit 1
    SEED="$SEED_ROOT/$key"
  fi
  mkdir -p "$1"
  _seed_lock
  if [[ -d "$SEED/db" && "${2:-}" == --skip-bases ]]; then
    "$REPO/tests/seed_cache" --from "$SEED/db" --to "$1/db" --skip-bases >&2 \
      || { _seed_unlock; echo "FAIL: copying the test seed" >&2; exit 1; }
    touch "$SEED"
  elif [[ -d "$SEED/db" ]]; then
    cp -a "$SEED/db" "$1/db"
    touch "$SEED"
  fi
  _seed_unlock
}

save_seed() {
  [[ -n "$SEED" ]] || { echo "save_seed before seeded_cache" >&2; exit 1; }
  _seed_lock
  mkdir -p "$SEED"
  "$REPO/tests/seed_cache" --from "$1/db" --to "$SEED/db" >&2 \
    || { _seed_unlock; echo "FAIL: saving the test seed" >&2; exit 1; }
  touch "$SEED"
  # Bounded: the newest two seeds stay; so does nothing of the old shared
  # cache, whose results older builds made.
  ls -1dt "$SEED_ROOT"/*/ 2>/dev/null | tail -n +3 | xargs -r rm -rf
  rm -rf /var/tmp/pbrx-test-cache
  _seed_unlock
}
