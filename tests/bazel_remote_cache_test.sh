#!/usr/bin/env bash
# Bazel 4.2.3 as a real REAPI client of pbrx-cache: build, clean, rebuild
# with every action a remote cache hit; kill -9 the cache, restart it on the
# same data dir, clean and rebuild: still all hits; outputs identical.
set -euo pipefail
source "$TEST_SRCDIR/pbrx/tests/bazel_client_lib.sh"

WS="$T/ws"
write_base_workspace "$WS"
cat >"$WS/BUILD" <<'B'
genrule(
    name = "gen_header",
    outs = ["generated.h"],
    cmd = "echo '#define GREETING \"hello from pbrx-cache\"' > $@",
)
cc_library(name = "lib", srcs = ["lib.cc"], hdrs = ["lib.h", "generated.h"])
cc_binary(name = "hello", srcs = ["main.cc"], deps = [":lib"])
B
cat >"$WS/lib.h" <<'C'
const char* Greeting();
C
cat >"$WS/lib.cc" <<'C'
#include "lib.h"
#include "generated.h"
const char* Greeting() { return GREETING; }
C
cat >"$WS/main.cc" <<'C'
#include <cstdio>
#include "lib.h"
int main() { std::puts(Greeting()); return 0; }
C

start_cache "$T/data"
REMOTE=(--remote_cache="grpc://$CACHE_ADDR" --spawn_strategy=local --remote_timeout=60)

run_bazel "$T/b1.log" build "${REMOTE[@]}" //:hello || { cat "$T/b1.log"; fail "first build"; }
[[ "$("$WS/bazel-bin/hello")" == "hello from pbrx-cache" ]] || fail "binary output"
cp "$WS/bazel-bin/hello" "$T/hello.first"
executed=$(process_count "$T/b1.log" local)
(( executed >= 4 )) || { cat "$T/b1.log"; fail "expected >= 4 local actions, got $executed"; }
echo "first build: $executed actions executed locally"

check_all_hits() {  # check_all_hits LOG NAME
  local total hits internal
  total=$(process_total "$1"); hits=$(process_count "$1" "remote cache hit")
  internal=$(process_count "$1" internal)
  echo "$2: $total processes, $hits remote cache hits, $internal internal"
  (( hits == executed )) || { cat "$1"; fail "$2: $hits hits, want $executed"; }
  (( total == hits + internal )) || { cat "$1"; fail "$2: some actions ran"; }
  cmp "$WS/bazel-bin/hello" "$T/hello.first" || fail "$2: binary differs"
}

run_bazel "$T/clean.log" clean || fail "clean"
run_bazel "$T/b2.log" build "${REMOTE[@]}" //:hello || { cat "$T/b2.log"; fail "second build"; }
check_all_hits "$T/b2.log" "after clean"

stop_cache KILL
start_cache "$T/data"
REMOTE=(--remote_cache="grpc://$CACHE_ADDR" --spawn_strategy=local --remote_timeout=60)
run_bazel "$T/clean2.log" clean || fail "clean"
run_bazel "$T/b3.log" build "${REMOTE[@]}" //:hello || { cat "$T/b3.log"; fail "third build"; }
check_all_hits "$T/b3.log" "after kill -9 and restart"
echo PASS
