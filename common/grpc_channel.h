// Every gRPC client channel pbrx opens (the CLI to the farm, the
// coordinator and executors to the cache, executors to the coordinator) is
// made here, so what a channel is (URL forms, TLS, the bearer token,
// message size limits, keepalive) is decided in one place.
#ifndef PBRX_COMMON_GRPC_CHANNEL_H_
#define PBRX_COMMON_GRPC_CHANNEL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/tls.h"
#include "grpcpp/channel.h"

namespace pbrx::common {

// The largest message a farm build streams: its final event carries the
// whole report (about 35 KB per project).
inline constexpr int kMaxBuildEventBytes = 256 << 20;

struct ChannelOptions {
  // Largest message either way. REAPI batches and Directory messages stay
  // under 4 MiB; a farm build's final report can be far larger.
  int max_receive_bytes = 5 << 20;
  int max_send_bytes = 5 << 20;
  // HTTP/2 pings on an idle connection (zero: none), so a peer that
  // vanished is noticed.
  absl::Duration keepalive = absl::Seconds(30);
  // For grpcs:// URLs (a grpc:// URL with any of these set is refused).
  ClientTls tls;
  // Sent as "authorization: Bearer TOKEN" on every call ("" = none).
  std::string token;
};

// Turns "grpc://HOST:PORT", "grpcs://HOST:PORT" or "HOST:PORT" (a trailing
// '/' allowed) into a channel target. INVALID_ARGUMENT "URL: expected
// grpc://HOST:PORT or grpcs://HOST:PORT" for other schemes, a missing port
// or a path.
absl::StatusOr<std::string> ChannelTarget(const std::string& url);

// Whether `url` asks for TLS (grpcs://).
bool IsTlsUrl(const std::string& url);

// A channel to `url` (connected lazily). INVALID_ARGUMENT as above, for
// TLS files given with a plaintext URL, and for bad TLS files (naming the
// flag); a token with characters a header cannot carry.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const std::string& url, const ChannelOptions& options = {});

// Sets `*token` to the bearer token in the --token-file `file` (its first
// line, whitespace trimmed); "" = no file, `*token` untouched.
// INVALID_ARGUMENT naming --token-file when unreadable, empty or holding
// characters other than visible ASCII.
absl::Status LoadTokenFile(const std::string& file, std::string* token);

}  // namespace pbrx::common

#endif  // PBRX_COMMON_GRPC_CHANNEL_H_
