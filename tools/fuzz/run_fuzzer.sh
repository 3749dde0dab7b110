#!/usr/bin/env bash
# Builds a libFuzzer target with Debian's clang-14 (ASan + UBSan) and runs it
# for a bounded time on a copy of its seed corpus.
#   tools/fuzz/run_fuzzer.sh NAME SECONDS [WORKDIR]
# NAME is bindep or setup_cfg. Exit 0 when the fuzzer found nothing.
set -euo pipefail
name="$1"; seconds="$2"
root="${TEST_SRCDIR:+$TEST_SRCDIR/pbrx}"
root="${root:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
work="${3:-${TEST_TMPDIR:-$(mktemp -d)}/fuzz-$name}"
mkdir -p "$work/corpus"
case "$name" in
  bindep)
    srcs=(tools/fuzz/bindep_fuzzer.cc common/bindep/bindep_file.cc
          common/bindep/debian_version.cc common/bindep/selection.cc) ;;
  setup_cfg)
    srcs=(tools/fuzz/setup_cfg_fuzzer.cc common/project/ini_file.cc
          common/project/python_names.cc common/project/project.cc
          common/beneath.cc common/status_macros.cc) ;;
  *) echo "unknown fuzzer $name" >&2; exit 2 ;;
esac
abs=()
for s in "${srcs[@]}"; do abs+=("$root/$s"); done
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
  -I"$root" "${abs[@]}" "${absl_libs[@]}" -o "$work/fuzzer"
cp -r "$root/tools/fuzz/corpus/$name/." "$work/corpus/"
# -max_total_time bounds the run; -timeout bounds a single input.
"$work/fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  "$work/corpus" 2>&1 | tail -n 25
