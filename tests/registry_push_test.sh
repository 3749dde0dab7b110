#!/usr/bin/env bash
# Images into real registries (Debian's docker-registry on loopback), with
# pbrx push-images and build-images --push, checked by skopeo and podman:
#   - the digests pushed are the digests in the local layout; skopeo copies
#     them back byte for byte; podman pulls and runs a script image;
#   - a second push sends zero blob bytes; a second project on the same base
#     uploads only its own layers (the base's are skipped or mounted), both
#     counted by a loopback proxy in front of the registry, not by pbrx;
#   - the proxy injects 503s, 429s and dropped connections: the push
#     completes; a registry that stays down fails naming the image, the blob
#     and the registry's answer, and no tag appears;
#   - a registry behind TLS (a test CA) with htpasswd auth: credentials from
#     REGISTRY_AUTH_FILE or a docker credential helper (credHelpers), the CA
#     from --registry-ca; without them the push fails clearly and the
#     password is never printed.
set -euo pipefail
REPO="$TEST_SRCDIR/pbrx"
T="$TEST_TMPDIR"
PBRX="$REPO/client/pbrx"
source "$REPO/tests/e2e_lib.sh"
source "$REPO/tests/seed_lib.sh"
source "$REPO/tests/registry_lib.sh"
PIDS=()
source "$REPO/tests/podman_lib.sh"
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  podman_cleanup
}
trap cleanup EXIT

# json_sum FILE KEY: the sum of KEY over the report's "pushed" images.
json_sum() { python3 -c 'import json,sys; print(sum(p[sys.argv[2]] for p in json.load(open(sys.argv[1]))["pushed"]))' "$1" "$2"; }

# --- two projects on the same base, built into one layout -----------------
RUN="$(date +%s%N)-$$"
for name in regdemo regdemo2; do
  write_pyproject "$T/$name" "$name"
  mkdir -p "$T/$name/$name"
  printf 'def main():\n    print("%s says hello %s")\n' "$name" "$RUN" >"$T/$name/$name/__init__.py"
done
start_registry plain
PLAIN_PORT=$REG_PORT
start_proxy "$PLAIN_PORT"
P="127.0.0.1:$PROXY_PORT/team"
seeded_cache "$T/cache"
build() {  # build PREFIX PROJECT...: into $T/out, refs on stdout
  "$PBRX" build-images --cache-dir "$T/cache" --output "oci:$T/out" --prefix "$1" --tag v1 --tag v2 "${@:2}" \
    2>"$T/build.err" || { cat "$T/build.err"; fail "build-images --prefix $1"; }
}
build "$P" "$T/regdemo" "$T/regdemo2" >"$T/built"
save_seed "$T/cache"
[[ $(wc -l <"$T/built") == 8 ]] || fail "want 8 refs (4 images x 2 tags): $(cat "$T/built")"
grep -q ":latest " "$T/built" && fail "latest was tagged though --tag was given"
digest_of() { awk -v r="$1" '$1 == r {print $2}' "$T/built"; }

# --- push-images: the layout's digests, seen by skopeo and podman ---------
"$PBRX" push-images --cache-dir "$T/cache" --from "oci:$T/out" --prefix "$P" --tag v1 --json "$T/regdemo" >"$T/push1.json" 2>"$T/push1.err" \
  || { cat "$T/push1.err"; fail "push-images"; }
python3 - "$T/push1.json" "$T/built" <<'PY' || fail "push-images report"
import json, sys
r = json.load(open(sys.argv[1]))
built = dict(l.split() for l in open(sys.argv[2]))
refs = [ref for p in r["pushed"] for ref in p["refs"]]
want = [f"{n}:v1@{built[n + ':v1']}" for n in (r["pushed"][0]["name"], r["pushed"][1]["name"])]
assert refs == want, (refs, want)
assert [p["name"].rsplit("/", 1)[1] for p in r["pushed"]] == ["regdemo-base", "regdemo"], r
assert r["pushed"][0]["blobs_uploaded"] >= 3 and r["pushed"][1]["blobs_mounted"] >= 3, r
assert r["errors"] == [], r
PY
sent=$(blob_bytes)
claimed=$(json_sum "$T/push1.json" bytes_uploaded)
[[ "$sent" == "$claimed" && "$sent" -gt 1000000 ]] || fail "the proxy saw $sent blob bytes, pbrx says $claimed"
want=$(digest_of "$P/regdemo:v1")
got=$(skopeo inspect --tls-verify=false "docker://127.0.0.1:$PLAIN_PORT/team/regdemo:v1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')
[[ "$got" == "$want" ]] || fail "skopeo sees $got, the layout has $want"
skopeo copy -q --src-tls-verify=false "docker://127.0.0.1:$PLAIN_PORT/team/regdemo:v1" "oci:$T/back:regdemo" >/dev/null
back=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$T/back/index.json")
[[ "$back" == "$want" ]] || fail "skopeo copied back $back, want $want"
cmp "$T/back/blobs/sha256/${want#sha256:}" "$T/out/blobs/sha256/${want#sha256:}" || fail "manifest bytes differ"

podman_ pull -q --tls-verify=false "127.0.0.1:$PLAIN_PORT/team/regdemo:v1" >"$T/podman.pull" 2>"$T/podman.err" \
  || { cat "$T/podman.err"; fail "podman pull"; }
out=$(podman_ run --rm --network none "127.0.0.1:$PLAIN_PORT/team/regdemo:v1" 2>"$T/podman.err") \
  || { cat "$T/podman.err"; fail "podman run"; }
[[ "$out" == "regdemo says hello $RUN" ]] || fail "podman run printed: $out"
echo "pushed, inspected, copied back and run: $want"

# The images' SBOM and provenance went with them, by digest, byte for byte;
# docker-registry 2.8 has no referrers API, so they are listed by the
# referrers tag schema: an index under the tag sha256-<image digest hex>.
python3 - "$T/push1.json" <<'PY' || fail "push-images report of referrers"
import json, sys
for p in json.load(open(sys.argv[1]))["pushed"]:
    assert p["referrers"] == 2 and p["referrers_listed_by"] == "tag", p
PY
read -r sbom prov < <(python3 "$REPO/tests/attestation_check.py" "$T/out" "$P/regdemo:v1" --pypi regdemo --deb libc6 --print-digests) \
  || fail "attestations in the layout"
skopeo inspect --raw --tls-verify=false "docker://127.0.0.1:$PLAIN_PORT/team/regdemo:sha256-${want#sha256:}" >"$T/referrers.json" \
  || fail "no referrers tag sha256-${want#sha256:}"
python3 - "$T/referrers.json" "$sbom" "$prov" <<'PY' || fail "referrers index: $(cat "$T/referrers.json")"
import json, sys
idx = json.load(open(sys.argv[1]))
assert idx["mediaType"] == "application/vnd.oci.image.index.v1+json", idx
got = sorted((m["digest"], m["artifactType"]) for m in idx["manifests"])
want = sorted([(sys.argv[2], "application/spdx+json"), (sys.argv[3], "application/vnd.in-toto+json")])
assert got == want, (got, want)
PY
for d in "$sbom" "$prov"; do
  skopeo inspect --raw --tls-verify=false "docker://127.0.0.1:$PLAIN_PORT/team/regdemo@$d" >"$T/artifact.json" \
    || fail "artifact $d is not in the registry"
  cmp "$T/artifact.json" "$T/out/blobs/sha256/${d#sha256:}" || fail "artifact $d differs from the layout's"
  layer=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][0]["digest"])' "$T/artifact.json")
  curl -sf "http://127.0.0.1:$PLAIN_PORT/v2/team/regdemo/blobs/$layer" | cmp - "$T/out/blobs/sha256/${layer#sha256:}" \
    || fail "the document $layer of $d differs from the layout's"
done
echo "SBOM $sbom and provenance $prov listed under sha256-${want#sha256:}"

# --- a second push sends no blob bytes; a sibling project only its own ----
before=$(blob_bytes)
"$PBRX" push-images --cache-dir "$T/cache" --from "oci:$T/out" --prefix "$P" --tag v1 --json "$T/regdemo" >"$T/push2.json" 2>"$T/push2.err" \
  || { cat "$T/push2.err"; fail "second push"; }
[[ "$(blob_bytes)" == "$before" ]] || fail "the second push sent $(( $(blob_bytes) - before )) blob bytes"
[[ "$(json_sum "$T/push2.json" blobs_uploaded)" == 0 ]] || fail "second push uploaded blobs: $(cat "$T/push2.json")"
base_layer=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["layers"][0]["size"])' \
  "$T/out/blobs/sha256/$(digest_of "$P/regdemo2:v1" | cut -d: -f2)")
"$PBRX" push-images --cache-dir "$T/cache" --from "oci:$T/out" --prefix "$P" --tag v1 --tag v2 --json "$T/regdemo2" >"$T/push3.json" 2>"$T/push3.err" \
  || { cat "$T/push3.err"; fail "push of the second project"; }
sent=$(( $(blob_bytes) - before ))
[[ "$sent" == "$(json_sum "$T/push3.json" bytes_uploaded)" ]] || fail "proxy saw $sent bytes, pbrx says $(json_sum "$T/push3.json" bytes_uploaded)"
[[ "$sent" -lt "$base_layer" ]] || fail "the second project sent $sent bytes, the base layer is $base_layer"
reused=$(( $(json_sum "$T/push3.json" blobs_skipped) + $(json_sum "$T/push3.json" blobs_mounted) ))
[[ "$reused" -ge 4 ]] || fail "the shared base layers were not skipped or mounted: $(cat "$T/push3.json")"
echo "second push: 0 bytes; sibling project: $sent bytes (base layer $base_layer)"

# --- faults: 503s, 429s, dropped connections; a registry that stays down --
build "127.0.0.1:$PROXY_PORT/faulty" "$T/regdemo" >/dev/null
proxy faults '["503", "429", "drop", "503", "drop", "500", "429", "drop"]' >/dev/null
"$PBRX" build-images --cache-dir "$T/cache" --output "oci:$T/out" --prefix "127.0.0.1:$PROXY_PORT/faulty" \
  --tag v1 --tag v2 --push "$T/regdemo" >"$T/faulty.out" 2>"$T/faulty.err" || { cat "$T/faulty.err"; fail "push through faults"; }
served=$(proxy_stat faults_served)
[[ "$served" == 8 ]] || fail "the proxy served $served of 8 faults"
grep -qx "127.0.0.1:$PROXY_PORT/faulty/regdemo:v2@$(digest_of "$P/regdemo:v2")" "$T/faulty.out" \
  || fail "no pushed line for faulty/regdemo:v2 in: $(cat "$T/faulty.out")"
build "127.0.0.1:$PROXY_PORT/down" "$T/regdemo" >/dev/null
proxy faults '"down"' >/dev/null
rc=0
"$PBRX" push-images --cache-dir "$T/cache" --from "oci:$T/out" --prefix "127.0.0.1:$PROXY_PORT/down" --tag v1 "$T/regdemo" >"$T/down.out" 2>"$T/down.err" || rc=$?
proxy faults '[]' >/dev/null
[[ $rc == 1 ]] || fail "push to a registry that stays down: exit $rc"
grep -q "^pbrx push-images: pushing 127.0.0.1:$PROXY_PORT/down/regdemo-base:v1: checking blob sha256:[0-9a-f]\{64\} in 127.0.0.1:$PROXY_PORT/down/regdemo-base: HTTP 503 (gave up after 5 attempts)$" "$T/down.err" \
  || fail "unclear error: $(cat "$T/down.err")"
[[ ! -s "$T/down.out" ]] || fail "a failed push printed refs: $(cat "$T/down.out")"
curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PLAIN_PORT/v2/down/regdemo/manifests/v1" | grep -qx 404 \
  || fail "a tag appeared after a failed push"
echo "faults: 8 injected, push completed; registry down: exit 1, no tag"

# --- TLS with a test CA and htpasswd auth --------------------------------
PKI="$T/pki"
mkdir -p "$PKI"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$PKI/ca.key" -out "$PKI/ca.pem" -days 2 -subj "/CN=test-ca" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$PKI/server.key" -out "$PKI/server.csr" -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$PKI/server.ext"
openssl x509 -req -in "$PKI/server.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -CAcreateserial \
  -out "$PKI/server.pem" -days 2 -extfile "$PKI/server.ext" 2>/dev/null
PASSWORD="pw-$RUN"
htpasswd -Bbn ci "$PASSWORD" >"$T/htpasswd"
start_registry secure \
  "  tls:" "    certificate: $PKI/server.pem" "    key: $PKI/server.key" \
  "auth:" "  htpasswd:" "    realm: pbrx-test" "    path: $T/htpasswd"
S="127.0.0.1:$REG_PORT/secure"
build "$S" "$T/regdemo" >/dev/null
printf '{"auths": {"127.0.0.1:%s": {"auth": "%s"}}}\n' "$REG_PORT" "$(printf 'ci:%s' "$PASSWORD" | base64 -w0)" >"$T/auth.json"
printf '{"auths": {"127.0.0.1:%s": {"auth": "%s"}}}\n' "$REG_PORT" "$(printf 'ci:wrong-%s' "$PASSWORD" | base64 -w0)" >"$T/bad-auth.json"
secure_push() {  # secure_push NAME [FLAGS...]: exit code in rc, output in $T/NAME.*
  rc=0
  "$PBRX" push-images --cache-dir "$T/cache" --from "oci:$T/out" --prefix "$S" --tag v1 "${@:2}" "$T/regdemo" >"$T/$1.out" 2>"$T/$1.err" || rc=$?
  if grep -q -- "$PASSWORD" "$T/$1.out" "$T/$1.err"; then fail "$1: the password was printed"; fi
}
REGISTRY_AUTH_FILE="$T/auth.json" secure_push no-ca
[[ $rc == 1 ]] && grep -q "SSL certificate problem.*(a private CA is given with --registry-ca FILE)" "$T/no-ca.err" \
  || fail "untrusted certificate: exit $rc, $(cat "$T/no-ca.err")"
REGISTRY_AUTH_FILE="$T/nonexistent.json" HOME="$T/nohome" XDG_RUNTIME_DIR="$T/nort" secure_push no-creds --registry-ca "$PKI/ca.pem"
[[ $rc == 1 ]] && grep -q "registry 127.0.0.1:$REG_PORT asks for credentials (Basic) and none were found for it" "$T/no-creds.err" \
  || fail "no credentials: exit $rc, $(cat "$T/no-creds.err")"
REGISTRY_AUTH_FILE="$T/bad-auth.json" secure_push bad-creds --registry-ca "$PKI/ca.pem"
[[ $rc == 1 ]] && grep -q "registry 127.0.0.1:$REG_PORT refused the credentials of user 'ci' (HTTP 401)" "$T/bad-creds.err" || fail "wrong password: exit $rc, $(cat "$T/bad-creds.err")"
REGISTRY_AUTH_FILE="$T/auth.json" secure_push good --registry-ca "$PKI/ca.pem"
[[ $rc == 0 ]] || fail "push over TLS with auth: exit $rc, $(cat "$T/good.err")"
# A docker credential helper named by credHelpers (DOCKER_CONFIG), asked
# with the registry on stdin; a helper that is not installed is named.
mkdir -p "$T/bin" "$T/dockercfg" "$T/dockercfg2"
cat >"$T/bin/docker-credential-pbrxtest" <<EOF
#!/bin/sh
[ "\$1" = get ] || exit 2
read -r server
echo "\$server" >>"$T/helper.asked"
if [ "\$server" = "127.0.0.1:$REG_PORT" ]; then
  printf '{"ServerURL":"%s","Username":"ci","Secret":"%s"}\n' "\$server" "$PASSWORD"
else
  echo "credentials not found in native keychain"; exit 1
fi
EOF
chmod +x "$T/bin/docker-credential-pbrxtest"
printf '{"credHelpers": {"127.0.0.1:%s": "pbrxtest"}}\n' "$REG_PORT" >"$T/dockercfg/config.json"
printf '{"credsStore": "absent"}\n' >"$T/dockercfg2/config.json"
PATH="$T/bin:$PATH" DOCKER_CONFIG="$T/dockercfg" REGISTRY_AUTH_FILE="$T/nonexistent.json" XDG_RUNTIME_DIR="$T/nort" \
  secure_push helper --registry-ca "$PKI/ca.pem"
[[ $rc == 0 ]] || fail "push with a credential helper: exit $rc, $(cat "$T/helper.err")"
[[ "$(cat "$T/helper.asked")" == "127.0.0.1:$REG_PORT" ]] || fail "the helper was asked: $(cat "$T/helper.asked")"
DOCKER_CONFIG="$T/dockercfg2" REGISTRY_AUTH_FILE="$T/nonexistent.json" XDG_RUNTIME_DIR="$T/nort" \
  secure_push no-helper --registry-ca "$PKI/ca.pem"
[[ $rc == 1 ]] && grep -q "credential helper docker-credential-absent is not installed (127.0.0.1:$REG_PORT names it)" "$T/no-helper.err" \
  || fail "a missing helper: exit $rc, $(cat "$T/no-helper.err")"
mkdir -p "$T/certs" && cp "$PKI/ca.pem" "$T/certs/ca.crt"
got=$(skopeo inspect --cert-dir "$T/certs" --creds "ci:$PASSWORD" "docker://$S/regdemo:v1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')
[[ "$got" == "$(digest_of "$P/regdemo:v1")" ]] || fail "over TLS skopeo sees $got"
echo "TLS + htpasswd: pushed $got"
echo PASS
