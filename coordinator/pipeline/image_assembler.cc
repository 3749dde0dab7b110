#include "coordinator/pipeline/image_assembler.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "coordinator/pipeline/base_config.h"

namespace pbrx::coordinator {

absl::StatusOr<std::vector<BuiltImage>> AssembleImages(
    StepRunner& steps, ImageSink& sink, const std::vector<ImageRequest>& images,
    const std::vector<std::string>& tags, const ImageLabels& labels) {
  std::vector<BuiltImage> built;
  for (const ImageRequest& image : images) {
    common::oci::ImageConfig config;
    config.created = labels.created;
    config.cmd = image.cmd;
    config.env = {absl::StrCat("PATH=", kDefaultPath), "LANG=C.UTF-8"};
    config.working_dir = "/";
    config.labels = {
        {"org.opencontainers.image.title", labels.title},
        {"org.opencontainers.image.version", labels.version},
        {"org.opencontainers.image.base.digest", labels.base_digest},
        {"org.opencontainers.image.base.name", labels.base_name}};
    if (!labels.source.empty())
      config.labels["org.opencontainers.image.source"] = labels.source;
    if (!labels.revision.empty())
      config.labels["org.opencontainers.image.revision"] = labels.revision;
    // As the OCI image spec puts them: in the manifest too.
    config.annotations = {
        {"org.opencontainers.image.base.digest", labels.base_digest},
        {"org.opencontainers.image.base.name", labels.base_name}};
    if (labels.base_config.has_value())
      config = InheritBaseConfig(*labels.base_config, config);
    std::vector<std::string> refs;
    for (const std::string& tg : tags)
      refs.push_back(absl::StrCat(image.name, ":", tg));
    absl::Time start = absl::Now();
    ASSIGN_OR_RETURN(common::oci::ImageDescriptor desc,
                     sink.Put(image.layers, config, refs));
    steps.AddStep(StepReport{"image-assembly", image.name, false,
                             absl::ToDoubleSeconds(absl::Now() - start),
                             desc.manifest.ToString()});
    for (const std::string& ref : refs) {
      built.push_back(BuiltImage{ref, "sha256:" + desc.manifest.hash(),
                                 desc.size, desc.manifest, desc.config});
    }
  }
  return built;
}

}  // namespace pbrx::coordinator
