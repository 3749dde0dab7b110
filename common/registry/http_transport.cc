#include "common/registry/http_transport.h"

namespace pbrx::common::registry {

std::string HttpResponse::Header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return "";
}

}  // namespace pbrx::common::registry
