# Helpers for registry tests (sourced after e2e_lib.sh; expects T, REPO and
# a PIDS array the caller's EXIT trap kills): Debian's docker-registry on
# loopback and tests/registry_proxy.py in front of it.

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_registry NAME [YAML...]: docker-registry on a free loopback port
# (REG_PORT), storage under $T/NAME, the extra YAML lines in its config.
start_registry() {
  local name="$1"; shift
  REG_PORT=$(free_port)
  mkdir -p "$T/$name"
  {
    printf 'version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\n' "$T/$name/data"
    printf 'http:\n  addr: 127.0.0.1:%s\n' "$REG_PORT"
    for line in "$@"; do printf '%s\n' "$line"; done
  } >"$T/$name/config.yml"
  docker-registry serve "$T/$name/config.yml" >"$T/$name/log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do
    curl -sk -o /dev/null "http://127.0.0.1:$REG_PORT/v2/" && return 0
    curl -sk -o /dev/null "https://127.0.0.1:$REG_PORT/v2/" && return 0
    sleep 0.1
  done
  cat "$T/$name/log"; fail "registry $name did not start"
}

# start_proxy UPSTREAM_PORT: the fault-injecting, counting proxy in front of
# a registry; sets PROXY_PORT.
start_proxy() {
  rm -f "$T/proxy.port"
  "$REPO/tests/registry_proxy.py" "$1" "$T/proxy.port" &
  PIDS+=($!)
  for _ in $(seq 1 100); do [[ -s "$T/proxy.port" ]] && break; sleep 0.1; done
  [[ -s "$T/proxy.port" ]] || fail "the registry proxy did not start"
  PROXY_PORT=$(cat "$T/proxy.port")
}

proxy() {  # proxy PATH [BODY]: the proxy's control endpoints
  if [[ $# -gt 1 ]]; then curl -sf -X POST --data "$2" "http://127.0.0.1:$PROXY_PORT/_proxy/$1"
  else curl -sf "http://127.0.0.1:$PROXY_PORT/_proxy/$1"; fi
}
# proxy_stat KEY: one number of the proxy's stats.
proxy_stat() { proxy stats | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
blob_bytes() { proxy_stat blob_bytes; }
