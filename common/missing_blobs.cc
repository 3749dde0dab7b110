#include "common/missing_blobs.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/rpc/error_details.pb.h"

namespace pbrx::common {

absl::Status MissingBlobsError(absl::Span<const Digest> missing,
                               absl::string_view context) {
  google::rpc::PreconditionFailure failure;
  std::string listed;
  constexpr size_t kListed = 5;
  for (size_t i = 0; i < missing.size(); ++i) {
    auto* v = failure.add_violations();
    v->set_type("MISSING");
    v->set_subject(
        absl::StrCat("blobs/", missing[i].hash(), "/", missing[i].size()));
    if (i < kListed) absl::StrAppend(&listed, " ", missing[i].ToString());
  }
  if (missing.size() > kListed) absl::StrAppend(&listed, " ...");
  absl::Status status = absl::FailedPreconditionError(absl::StrCat(
      context, ": ", missing.size(), " blob(s) missing from the CAS:", listed));
  status.SetPayload(kPreconditionFailureTypeUrl,
                    absl::Cord(failure.SerializeAsString()));
  return status;
}

std::vector<Digest> MissingBlobsOf(const absl::Status& status) {
  std::vector<Digest> out;
  absl::optional<absl::Cord> payload =
      status.GetPayload(kPreconditionFailureTypeUrl);
  if (!payload.has_value()) return out;
  google::rpc::PreconditionFailure failure;
  if (!failure.ParseFromString(std::string(*payload))) return out;
  for (const auto& v : failure.violations()) {
    absl::string_view subject = v.subject();
    if (v.type() != "MISSING" || !absl::ConsumePrefix(&subject, "blobs/"))
      continue;
    absl::StatusOr<Digest> d = Digest::Parse(subject);
    if (d.ok()) out.push_back(*d);
  }
  return out;
}

}  // namespace pbrx::common
