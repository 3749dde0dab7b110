#include "common/digest.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"

namespace pbrx::common {
namespace {

constexpr size_t kHashHexLength = 64;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

absl::StatusOr<Digest> Digest::Create(absl::string_view hash, int64_t size) {
  if (hash.size() != kHashHexLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "digest hash must be 64 lowercase hex characters (SHA-256), got ",
        hash.size(), " characters"));
  }
  for (size_t i = 0; i < hash.size(); ++i) {
    if (HexValue(hash[i]) < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("digest hash must be lowercase hex, found '",
                       hash.substr(i, 1), "' at position ", i));
    }
  }
  if (size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("digest size must be >= 0, got ", size));
  }
  return Digest(std::string(hash), size);
}

absl::StatusOr<Digest> Digest::Parse(absl::string_view text) {
  size_t slash = text.find('/');
  if (slash == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("digest must have the form HASH/SIZE, got '", text, "'"));
  }
  absl::string_view size_text = text.substr(slash + 1);
  int64_t size = 0;
  if (size_text.empty() || !absl::ascii_isdigit(size_text[0]) ||
      !absl::SimpleAtoi(size_text, &size)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "digest size must be a non-negative decimal integer, got '", size_text,
        "'"));
  }
  return Create(text.substr(0, slash), size);
}

absl::StatusOr<Digest> Digest::FromProto(
    const build::bazel::remote::execution::v2::Digest& proto) {
  return Create(proto.hash(), proto.size_bytes());
}

Digest Digest::Of(absl::string_view content) {
  return Digest(Sha256::HexOf(content), static_cast<int64_t>(content.size()));
}

Digest Digest::Empty() {
  static const Digest* const kEmpty = new Digest(Of(""));
  return *kEmpty;
}

std::string Digest::ToString() const { return absl::StrCat(hash_, "/", size_); }

build::bazel::remote::execution::v2::Digest Digest::ToProto() const {
  build::bazel::remote::execution::v2::Digest proto;
  proto.set_hash(hash_);
  proto.set_size_bytes(size_);
  return proto;
}

std::string Digest::ToKey() const {
  std::string key(40, '\0');
  for (size_t i = 0; i < 32; ++i) {
    key[i] = static_cast<char>((HexValue(hash_[2 * i]) << 4) |
                               HexValue(hash_[2 * i + 1]));
  }
  uint64_t size = static_cast<uint64_t>(size_);
  for (int i = 0; i < 8; ++i) {
    key[32 + i] = static_cast<char>((size >> (56 - 8 * i)) & 0xff);
  }
  return key;
}

absl::StatusOr<Digest> Digest::FromKey(absl::string_view key) {
  if (key.size() != 40) {
    return absl::InvalidArgumentError(
        absl::StrCat("digest key must be 40 bytes, got ", key.size()));
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hash(64, '0');
  for (size_t i = 0; i < 32; ++i) {
    unsigned char b = static_cast<unsigned char>(key[i]);
    hash[2 * i] = kHex[b >> 4];
    hash[2 * i + 1] = kHex[b & 0xf];
  }
  uint64_t size = 0;
  for (int i = 0; i < 8; ++i) {
    size = (size << 8) | static_cast<unsigned char>(key[32 + i]);
  }
  return Create(hash, static_cast<int64_t>(size));
}

std::ostream& operator<<(std::ostream& os, const Digest& d) {
  return os << d.ToString();
}

}  // namespace pbrx::common
