// Incremental SHA-256 (OpenSSL EVP underneath). Used to verify blobs while
// they stream, so no caller ever needs a whole blob in memory to hash it.
#ifndef PBRX_COMMON_SHA256_H_
#define PBRX_COMMON_SHA256_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"

namespace pbrx::common {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(absl::string_view data);
  // Returns the lowercase hex digest. The hasher must not be used afterwards.
  std::string FinishHex();

  // One-shot convenience.
  static std::string HexOf(absl::string_view data);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace pbrx::common

#endif  // PBRX_COMMON_SHA256_H_
