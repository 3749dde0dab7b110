#include "common/grpc_status.h"

#include <string>

#include "google/protobuf/any.pb.h"
#include "google/rpc/status.pb.h"

namespace pbrx::common {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  std::string message(status.message());
  google::rpc::Status rich;
  bool has_details = false;
  status.ForEachPayload(
      [&](absl::string_view type_url, const absl::Cord& payload) {
        google::protobuf::Any* any = rich.add_details();
        any->set_type_url(std::string(type_url));
        any->set_value(std::string(payload));
        has_details = true;
      });
  auto code = static_cast<grpc::StatusCode>(static_cast<int>(status.code()));
  if (!has_details) return grpc::Status(code, message);
  rich.set_code(static_cast<int>(status.code()));
  rich.set_message(message);
  return grpc::Status(code, message, rich.SerializeAsString());
}

google::rpc::Status ToRpcStatus(const absl::Status& status) {
  google::rpc::Status out;
  out.set_code(static_cast<int>(status.code()));
  out.set_message(std::string(status.message()));
  status.ForEachPayload(
      [&](absl::string_view type_url, const absl::Cord& payload) {
        google::protobuf::Any* any = out.add_details();
        any->set_type_url(std::string(type_url));
        any->set_value(std::string(payload));
      });
  return out;
}

absl::Status FromRpcStatus(const google::rpc::Status& status) {
  if (status.code() == 0) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.code()),
                   status.message());
  for (const auto& any : status.details()) {
    out.SetPayload(any.type_url(), absl::Cord(any.value()));
  }
  return out;
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(
      static_cast<absl::StatusCode>(static_cast<int>(status.error_code())),
      status.error_message());
  if (!status.error_details().empty()) {
    google::rpc::Status rich;
    if (rich.ParseFromString(status.error_details())) {
      for (const auto& any : rich.details()) {
        out.SetPayload(any.type_url(), absl::Cord(any.value()));
      }
    }
  }
  return out;
}

}  // namespace pbrx::common
