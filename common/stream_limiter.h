// StreamLimiter: a bound on the long-lived RPCs (streams that wait: uploads
// and downloads, Execute, WaitExecution, Work, Build) a daemon serves at
// once, in all and per peer host. Each holds one of the sync server's
// threads while it waits; refusing the excess with RESOURCE_EXHAUSTED
// before it waits keeps threads free for everything else (the thread
// quota of common/daemon.h is larger than this bound).
#ifndef PBRX_COMMON_STREAM_LIMITER_H_
#define PBRX_COMMON_STREAM_LIMITER_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace pbrx::common {

// The host of a gRPC peer string: "ipv4:10.0.0.1:5555" -> "10.0.0.1",
// "ipv6:[::1]:5555" -> "[::1]"; anything else whole.
std::string PeerHost(absl::string_view peer);

class StreamLimiter {
 public:
  StreamLimiter(int64_t max_total, int64_t max_per_peer)
      : max_total_(max_total), max_per_peer_(max_per_peer) {}

  // Held while a stream is served; releases its place when destroyed.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& o) noexcept : owner_(o.owner_), host_(std::move(o.host_)) {
      o.owner_ = nullptr;
    }
    Slot& operator=(Slot&& o) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { Release(); }

   private:
    friend class StreamLimiter;
    Slot(StreamLimiter* owner, std::string host)
        : owner_(owner), host_(std::move(host)) {}
    void Release();
    StreamLimiter* owner_ = nullptr;
    std::string host_;
  };

  // A place for one stream of `peer` (a gRPC peer string), or
  // RESOURCE_EXHAUSTED naming `method` and the limit reached:
  // "METHOD: 12 streams already open on this server (--max-threads
  // leaves room for 12)" or "METHOD: 2 streams already open from
  // 127.0.0.1 (--max-streams-per-peer 2)".
  absl::StatusOr<Slot> Acquire(absl::string_view peer,
                               absl::string_view method);

  int64_t open() const;

  // Acquire on `limiter`, or an empty Slot when it is null (services built
  // without a bound, in unit tests).
  static absl::StatusOr<Slot> AcquireFrom(StreamLimiter* limiter,
                                          absl::string_view peer,
                                          absl::string_view method) {
    if (limiter == nullptr) return Slot();
    return limiter->Acquire(peer, method);
  }

 private:
  void Release(const std::string& host);

  const int64_t max_total_;
  const int64_t max_per_peer_;
  mutable absl::Mutex mu_;
  int64_t total_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, int64_t> per_host_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pbrx::common

#endif  // PBRX_COMMON_STREAM_LIMITER_H_
