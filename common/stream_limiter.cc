#include "common/stream_limiter.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace pbrx::common {

std::string PeerHost(absl::string_view peer) {
  for (absl::string_view scheme : {"ipv4:", "ipv6:"}) {
    if (absl::StartsWith(peer, scheme)) {
      absl::string_view rest = peer.substr(scheme.size());
      size_t colon = rest.rfind(':');
      return std::string(
          colon == absl::string_view::npos ? rest : rest.substr(0, colon));
    }
  }
  return std::string(peer);
}

StreamLimiter::Slot& StreamLimiter::Slot::operator=(Slot&& o) noexcept {
  if (this != &o) {
    Release();
    owner_ = o.owner_;
    host_ = std::move(o.host_);
    o.owner_ = nullptr;
  }
  return *this;
}

void StreamLimiter::Slot::Release() {
  if (owner_ != nullptr) owner_->Release(host_);
  owner_ = nullptr;
}

absl::StatusOr<StreamLimiter::Slot> StreamLimiter::Acquire(
    absl::string_view peer, absl::string_view method) {
  std::string host = PeerHost(peer);
  absl::MutexLock lock(&mu_);
  if (total_ >= max_total_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        method, ": ", total_,
        " streams already open on this server (--max-threads leaves room "
        "for ",
        max_total_, ")"));
  }
  int64_t& mine = per_host_[host];
  if (mine >= max_per_peer_) {
    return absl::ResourceExhaustedError(
        absl::StrCat(method, ": ", mine, " streams already open from ", host,
                     " (--max-streams-per-peer ", max_per_peer_, ")"));
  }
  ++mine;
  ++total_;
  return Slot(this, std::move(host));
}

void StreamLimiter::Release(const std::string& host) {
  absl::MutexLock lock(&mu_);
  --total_;
  auto it = per_host_.find(host);
  if (it != per_host_.end() && --it->second <= 0) per_host_.erase(it);
}

int64_t StreamLimiter::open() const {
  absl::MutexLock lock(&mu_);
  return total_;
}

}  // namespace pbrx::common
