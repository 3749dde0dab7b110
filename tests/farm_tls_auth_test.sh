#!/usr/bin/env bash
# TLS, identities and roles with real peers. Certificates come from openssl.
# 1. pbrx-cache with --auth-tokens, Bazel 4.2.3 as the client (plaintext on
#    loopback: Debian's Bazel cannot speak gRPC over TLS, its Netty lacks
#    JDK ALPN): no token -> UNAUTHENTICATED; a write token fills the cache
#    and a clean rebuild hits; a read token still hits but its uploads are
#    refused and leave no Action Cache entry; an execute token cannot
#    UpdateActionResult. A daemon that authenticates nobody will not listen
#    beyond loopback; bad TLS files are start-up errors naming the flag.
# 2. The farm: the cache requires mTLS (the coordinator and the executor
#    present certificates), Bazel builds remotely through the coordinator
#    with an execute token, the executor authenticates with its executor
#    token; rogue executors (no token, a wrong-role token) never register.
# 3. A coordinator serving mTLS: an executor registers with its
#    certificate, `pbrx farm status` over grpcs:// lists it; no client
#    certificate, plaintext or a foreign CA are refused; a certificate of
#    the wrong role is refused by name.
set -euo pipefail
source "$TEST_SRCDIR/pbrx/tests/bazel_client_lib.sh"
source "$TEST_SRCDIR/pbrx/tests/farm_lib.sh"
trap 'stop_farm; cleanup' EXIT
PBRX="$TEST_SRCDIR/pbrx/client/pbrx"

# --- certificates and tokens -------------------------------------------------
PKI="$T/pki"
mkdir -p "$PKI"
mkca() {  # mkca NAME: a self-signed CA
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$PKI/$1.key" -out "$PKI/$1.pem" -days 2 -subj "/CN=$1" 2>/dev/null
}
mkcert() {  # mkcert CA NAME: a certificate for 127.0.0.1, server and client
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$PKI/$2.key" -out "$PKI/$2.csr" -subj "/CN=$2" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >"$PKI/$2.ext"
  openssl x509 -req -in "$PKI/$2.csr" -CA "$PKI/$1.pem" -CAkey "$PKI/$1.key" \
    -CAcreateserial -out "$PKI/$2.pem" -days 2 -extfile "$PKI/$2.ext" 2>/dev/null
}
mkca ca
mkca rogue-ca
for n in server coordinator executor-1 ci; do mkcert ca "$n"; done
mkcert rogue-ca rogue
token() { head -c 24 /dev/urandom | base64 | tr -d '/+='; }
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
W=$(token); R=$(token); E=$(token)
cat >"$T/cache-tokens" <<EOF
# the CI that fills the cache
$(sha "$W") write
$(sha "$R") read
$(sha "$E") execute
EOF

WS="$T/ws"
write_base_workspace "$WS"
cat >"$WS/BUILD" <<'B'
[genrule(
    name = n,
    outs = [n + ".txt"],
    cmd = "echo " + n + " > $@",
) for n in ["one", "two", "three"]]
cc_binary(name = "hello", srcs = ["main.cc"])
B
cat >"$WS/main.cc" <<'C'
#include <cstdio>
int main() { std::puts("hello over mTLS"); return 0; }
C

# --- 1. the cache with tokens, Bazel as the client -----------------------
start_cache "$T/data" --auth-tokens="$T/cache-tokens" --metrics-listen=127.0.0.1:0
grep -q "serving on $CACHE_ADDR (plaintext, tokens from $T/cache-tokens)" "$T/cache.err" \
  || { cat "$T/cache.err"; fail "the start line does not say how the cache is secured"; }
RC=(--remote_cache="grpc://$CACHE_ADDR" --remote_timeout=30)

set +e
run_bazel "$T/none.log" build "${RC[@]}" //:one
rc=$?
set -e
[[ $rc != 0 ]] || fail "a build without a token should fail"
grep -q "UNAUTHENTICATED" "$T/none.log" || { cat "$T/none.log"; fail "no UNAUTHENTICATED without a token"; }

run_bazel "$T/w1.log" build "${RC[@]}" --remote_header="authorization=Bearer $W" //:one \
  || { cat "$T/w1.log" "$T/cache.err"; fail "build with the write token"; }
run_bazel "$T/clean1.log" clean
run_bazel "$T/w2.log" build "${RC[@]}" --remote_header="authorization=Bearer $W" //:one \
  || { cat "$T/w2.log"; fail "rebuild with the write token"; }
[[ $(process_count "$T/w2.log" "remote cache hit") == 1 ]] || { cat "$T/w2.log"; fail "want 1 hit with the write token"; }

# read: hits work; its own upload (//:two) is refused, so no entry exists.
run_bazel "$T/clean2.log" clean
run_bazel "$T/r1.log" build "${RC[@]}" --remote_header="authorization=Bearer $R" //:one //:two \
  || { cat "$T/r1.log"; fail "build with the read token"; }
[[ $(process_count "$T/r1.log" "remote cache hit") == 1 ]] || { cat "$T/r1.log"; fail "want 1 hit with the read token"; }
# Bazel says only "Writing to Remote Cache: N errors during bulk transfer";
# the cache counts what it refused.
grep -q "Writing to Remote Cache" "$T/r1.log" || { cat "$T/r1.log"; fail "the read token's upload was not refused"; }
denied() {  # denied METHOD: the cache's PERMISSION_DENIED count for METHOD
  curl -sf --noproxy '*' "http://$CACHE_METRICS_ADDR/metrics" \
    | awk -v m="$1" 'index($0, "pbrx_cache_requests_total{code=\"PERMISSION_DENIED\",method=\"" m "\"}") == 1 {n = int($2)} END {print n + 0}'
}
(( $(denied Write) + $(denied BatchUpdateBlobs) >= 1 )) || fail "the cache refused no CAS write of the read token"
ac_denied_before=$(denied UpdateActionResult)
cas_denied=$(( $(denied Write) + $(denied BatchUpdateBlobs) ))
run_bazel "$T/clean3.log" clean
run_bazel "$T/w3.log" build "${RC[@]}" --remote_header="authorization=Bearer $W" //:two \
  || { cat "$T/w3.log"; fail "build //:two with the write token"; }
[[ $(process_count "$T/w3.log" "remote cache hit") == 0 ]] || { cat "$T/w3.log"; fail "the read token's upload left an entry"; }

# execute: may write the CAS, never the Action Cache.
run_bazel "$T/e1.log" build "${RC[@]}" --remote_header="authorization=Bearer $E" //:three \
  || { cat "$T/e1.log"; fail "build with the execute token"; }
grep -q "Writing to Remote Cache" "$T/e1.log" || { cat "$T/e1.log"; fail "the execute token's upload was not refused"; }
(( $(denied UpdateActionResult) > ac_denied_before )) \
  || fail "no UpdateActionResult of the execute token was refused ($ac_denied_before -> $(denied UpdateActionResult))"
(( $(denied Write) + $(denied BatchUpdateBlobs) == cas_denied )) || fail "the execute token's CAS writes were refused"
stop_cache TERM
# Nothing authenticates and the address is not loopback: refused at start.
set +e
"$CACHE_BIN" --listen=0.0.0.0:0 --data-dir="$T/open" >"$T/open.out" 2>"$T/open.err"
rc=$?
set -e
[[ $rc == 2 ]] || fail "want exit 2 for an unauthenticated non-loopback listen, got $rc"
grep -q "is not loopback and nothing authenticates callers" "$T/open.err" || { cat "$T/open.err"; fail "no clear message"; }
# Bad TLS files are start-up errors naming the flag.
set +e
"$CACHE_BIN" --data-dir="$T/bad" --tls-cert="$PKI/server.pem" --tls-key="$PKI/ci.key" >/dev/null 2>"$T/bad.err"
rc=$?
set -e
[[ $rc == 2 ]] || fail "want exit 2 for a key of another certificate, got $rc"
grep -q -- "--tls-key $PKI/ci.key: does not belong to the certificate in $PKI/server.pem" "$T/bad.err" \
  || { cat "$T/bad.err"; fail "no clear message for a mismatched key"; }

# --- 2. the farm: mTLS to the cache, tokens to the coordinator -----------
X=$(token); BAD=$(token)
# The cache knows the coordinator by its certificate and the executor by
# its token (the one it sends to both: an unknown token is refused even
# beside a known certificate).
printf 'cn:coordinator write\n%s executor\n' "$(sha "$X")" >"$T/farm-cache-principals"
printf '%s executor\n%s execute\n%s read\n' "$(sha "$X")" "$(sha "$E")" "$(sha "$BAD")" >"$T/coord-tokens"
printf '%s\n' "$X" >"$T/executor.token"
printf '%s\n' "$BAD" >"$T/read.token"
start_cache "$T/data2" --tls-cert="$PKI/server.pem" --tls-key="$PKI/server.key" \
  --tls-client-ca="$PKI/ca.pem" --auth-tokens="$T/farm-cache-principals"
grep -q "serving on $CACHE_ADDR (mTLS, tokens from" "$T/cache.err" || { cat "$T/cache.err"; fail "cache start line"; }
start_coordinator "$CACHE_ADDR" --metrics-listen=127.0.0.1:0 --cache="grpcs://$CACHE_ADDR" \
  --tls-ca="$PKI/ca.pem" --cache-tls-cert="$PKI/coordinator.pem" \
  --cache-tls-key="$PKI/coordinator.key" --auth-tokens="$T/coord-tokens"
grep -q "serving on $COORD_ADDR (plaintext, tokens from" "$T/coord.err" || { cat "$T/coord.err"; fail "coordinator start line"; }
EXEC_TLS=(--cache="grpcs://$CACHE_ADDR" --tls-ca="$PKI/ca.pem"
  --tls-cert="$PKI/executor-1.pem" --tls-key="$PKI/executor-1.key")
start_executor executor-1 "$COORD_ADDR" "$CACHE_ADDR" "${EXEC_TLS[@]}" --token-file="$T/executor.token"
wait_executors 1
# Rogue executors: no token; a token of the wrong role.
start_executor no-token "$COORD_ADDR" "$CACHE_ADDR" "${EXEC_TLS[@]}"
start_executor wrong-role "$COORD_ADDR" "$CACHE_ADDR" "${EXEC_TLS[@]}" --token-file="$T/read.token"
for _ in $(seq 1 100); do
  grep -q "Worker.Work is not allowed for role 'read'" "$T/exec-wrong-role.log" \
    && grep -q "UNAUTHENTICATED\|no credentials" "$T/exec-no-token.log" && break
  sleep 0.1
done
grep -q "Worker.Work is not allowed for role 'read'" "$T/exec-wrong-role.log" \
  || { cat "$T/exec-wrong-role.log"; fail "the wrong-role executor was not refused by name"; }
grep -q "no credentials" "$T/exec-no-token.log" || { cat "$T/exec-no-token.log"; fail "the executor without a token was not refused"; }
[[ "$(metric pbrx_coordinator_executors_connected)" == 1 ]] || fail "a rogue executor is connected"

REMOTE=(--remote_executor="grpc://$COORD_ADDR" --remote_header="authorization=Bearer $E"
  --remote_timeout=120 --spawn_strategy=remote)
run_bazel "$T/clean4.log" clean
run_bazel "$T/farm.log" build "${REMOTE[@]}" //:hello \
  || { cat "$T/farm.log" "$T/coord.err" "$T/exec-executor-1.log"; fail "remote build"; }
(( $(process_count "$T/farm.log" remote) >= 2 )) || { cat "$T/farm.log"; fail "want remote actions"; }
[[ "$("$WS/bazel-bin/hello")" == "hello over mTLS" ]] || fail "the remotely built binary"
stop_farm
stop_cache TERM

# --- 3. a coordinator serving mTLS ----------------------------------------
start_cache "$T/data3"
printf 'cn:executor-1 executor\ncn:ci read\n' >"$T/coord-principals"
start_coordinator "$CACHE_ADDR" --metrics-listen=127.0.0.1:0 \
  --tls-cert="$PKI/coordinator.pem" --tls-key="$PKI/coordinator.key" \
  --tls-client-ca="$PKI/ca.pem" --auth-tokens="$T/coord-principals"
start_executor executor-1 "$COORD_ADDR" "$CACHE_ADDR" --coordinator="grpcs://$COORD_ADDR" \
  --tls-ca="$PKI/ca.pem" --tls-cert="$PKI/executor-1.pem" --tls-key="$PKI/executor-1.key"
wait_executors 1
start_executor rogue "$COORD_ADDR" "$CACHE_ADDR" --coordinator="grpcs://$COORD_ADDR" \
  --tls-ca="$PKI/ca.pem" --tls-cert="$PKI/rogue.pem" --tls-key="$PKI/rogue.key"
start_executor wrong-cert "$COORD_ADDR" "$CACHE_ADDR" --coordinator="grpcs://$COORD_ADDR" \
  --tls-ca="$PKI/ca.pem" --tls-cert="$PKI/ci.pem" --tls-key="$PKI/ci.key"
for _ in $(seq 1 100); do
  grep -q "Worker.Work is not allowed for role 'read'" "$T/exec-wrong-cert.log" && break
  sleep 0.1
done
grep -q "Worker.Work is not allowed for role 'read'" "$T/exec-wrong-cert.log" \
  || { cat "$T/exec-wrong-cert.log"; fail "the wrong-role certificate was not refused by name"; }

"$PBRX" farm status --farm "grpcs://$COORD_ADDR" --tls-ca "$PKI/ca.pem" \
  --tls-cert "$PKI/ci.pem" --tls-key "$PKI/ci.key" >"$T/status.out" 2>&1 \
  || { cat "$T/status.out"; fail "farm status over mTLS"; }
grep -q "executor-1" "$T/status.out" || { cat "$T/status.out"; fail "executor-1 not listed"; }
if grep -qE "rogue|wrong-cert" "$T/status.out"; then cat "$T/status.out"; fail "a rogue executor registered"; fi
status_rc() {  # status_rc ARGS...: pbrx farm status's exit code
  set +e
  "$PBRX" farm status "$@" >"$T/st.out" 2>&1
  local rc=$?
  set -e
  echo "$rc"
}
[[ $(status_rc --farm "grpcs://$COORD_ADDR" --tls-ca "$PKI/ca.pem") == 3 ]] \
  || { cat "$T/st.out"; fail "farm status without a client certificate should exit 3"; }
[[ $(status_rc --farm "grpc://$COORD_ADDR") == 3 ]] || { cat "$T/st.out"; fail "plaintext to a TLS port should exit 3"; }
[[ $(status_rc --farm "grpcs://$COORD_ADDR" --tls-ca "$PKI/rogue-ca.pem" --tls-cert "$PKI/ci.pem" --tls-key "$PKI/ci.key") == 3 ]] \
  || { cat "$T/st.out"; fail "a foreign CA should exit 3"; }
[[ $(status_rc --farm "grpc://$COORD_ADDR" --tls-ca "$PKI/ca.pem") == 2 ]] \
  || { cat "$T/st.out"; fail "TLS files with a grpc:// URL are a usage error"; }
echo PASS
