#!/usr/bin/env bash
# Builds a libFuzzer target with Debian's clang-14 (ASan + UBSan) and runs it
# for a bounded time on a copy of its seed corpus.
#   tools/fuzz/run_fuzzer.sh NAME SECONDS [WORKDIR]
# NAME: bindep, setup_cfg, pyproject, os_release, wheel, layer, oci,
# reapi_staging. Exit 0 when the fuzzer found nothing. Targets that use the
# REAPI protos compile the generated code of @bazel_protos (bazel-bin when
# run by hand: `bazel build @bazel_protos//:compile_protos` first).
set -euo pipefail
name="$1"; seconds="$2"
root="${TEST_SRCDIR:+$TEST_SRCDIR/pbrx}"
root="${root:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
if [[ -n "${TEST_SRCDIR:-}" ]]; then protos="$TEST_SRCDIR/bazel_protos"
else protos="$root/bazel-bin/external/bazel_protos"; fi
work="${3:-${TEST_TMPDIR:-$(mktemp -d)}/fuzz-$name}"
mkdir -p "$work/corpus"
project=(common/project/ini_file.cc common/project/python_names.cc common/project/project.cc common/project/source_tree.cc
         common/beneath.cc common/status_macros.cc common/toml.cc)
# The generated REAPI and googleapis messages (not the gRPC stubs).
proto_srcs=(build/bazel/remote/execution/v2/remote_execution.pb.cc build/bazel/semver/semver.pb.cc
            google/api/annotations.pb.cc google/api/http.pb.cc google/longrunning/operations.pb.cc
            google/rpc/status.pb.cc google/rpc/error_details.pb.cc)
uses_protos=""
libs=()
case "$name" in
  bindep)
    srcs=(tools/fuzz/bindep_fuzzer.cc common/bindep/bindep_file.cc
          common/bindep/debian_version.cc common/bindep/selection.cc) ;;
  setup_cfg) srcs=(tools/fuzz/setup_cfg_fuzzer.cc "${project[@]}") ;;
  pyproject) srcs=(tools/fuzz/pyproject_fuzzer.cc "${project[@]}") ;;
  os_release) srcs=(tools/fuzz/os_release_fuzzer.cc common/bindep/platform.cc) ;;
  wheel)
    srcs=(tools/fuzz/wheel_fuzzer.cc common/wheel/wheel_installer.cc common/project/python_names.cc common/sha256.cc
          common/beneath.cc common/status_macros.cc)
    libs=(-larchive -lcrypto) ;;
  layer)
    srcs=(tools/fuzz/layer_fuzzer.cc executor/layer_extract.cc executor/sandbox_ids.cc common/beneath.cc
          common/status_macros.cc)
    libs=(-larchive) ;;
  oci)
    srcs=(tools/fuzz/oci_fuzzer.cc common/oci/layout_reader.cc common/project/source_tree.cc
          common/digest.cc common/json_struct.cc common/sha256.cc
          common/beneath.cc common/status_macros.cc)
    uses_protos=1; libs=(-lz -lcrypto) ;;
  reapi_staging)
    srcs=(tools/fuzz/reapi_staging_fuzzer.cc cache/directory_tree.cc cache/in_memory_blob_store.cc
          cache/blob_store.cc common/digest.cc common/sha256.cc
          common/missing_blobs.cc common/beneath.cc common/status_macros.cc)
    uses_protos=1; libs=(-lcrypto) ;;
  *) echo "unknown fuzzer $name" >&2; exit 2 ;;
esac
abs=()
for s in "${srcs[@]}"; do abs+=("$root/$s"); done
includes=(-I"$root")
if [[ -n "$uses_protos" ]]; then
  # Compiled once per work dir without sanitizer coverage (generated code).
  mkdir -p "$work/protos"
  for s in "${proto_srcs[@]}"; do
    o="$work/protos/$(echo "$s" | tr / _).o"
    [[ -f "$o" ]] || clang++-14 -std=c++17 -O1 -fsanitize=address -I"$protos" -c "$protos/$s" -o "$o"
    abs+=("$o")
  done
  includes+=(-I"$protos")
  libs+=(-lprotobuf)
fi
absl_libs=(-labsl_strings -labsl_strings_internal -labsl_str_format_internal -labsl_status
           -labsl_statusor -labsl_cord -labsl_cord_internal -labsl_cordz_info
           -labsl_cordz_functions -labsl_cordz_handle -labsl_raw_hash_set -labsl_hash
           -labsl_city -labsl_low_level_hash -labsl_int128 -labsl_throw_delegate
           -labsl_raw_logging_internal -labsl_base -labsl_spinlock_wait
           -labsl_synchronization -labsl_time -labsl_time_zone -labsl_stacktrace
           -labsl_symbolize -labsl_malloc_internal -labsl_debugging_internal
           -labsl_demangle_internal -labsl_graphcycles_internal -labsl_strerror
           -labsl_bad_optional_access -labsl_bad_variant_access -labsl_exponential_biased
           -labsl_log_severity)
clang++-14 -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  "${includes[@]}" "${abs[@]}" "${libs[@]}" "${absl_libs[@]}" -o "$work/fuzzer"
cp -r "$root/tools/fuzz/corpus/$name/." "$work/corpus/"
# -max_total_time bounds the run; -timeout bounds a single input.
"$work/fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  "$work/corpus" 2>&1 | tail -n 25
