#include "coordinator/pipeline/image_assembler.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "coordinator/pipeline/base_config.h"

namespace pbrx::coordinator {

absl::StatusOr<std::vector<BuiltImage>> AssembleImages(
    StepRunner& steps, ImageSink& sink, const std::vector<ImageRequest>& images,
    const std::vector<std::string>& tags, const ImageLabels& labels,
    const std::optional<ImageFacts>& attestations) {
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
    BuiltImage b{"", "sha256:" + desc.manifest.hash(), desc.size, desc.manifest,
                 desc.config};
    if (attestations.has_value()) {
      ImageFacts facts = *attestations;
      facts.image = image.name;
      facts.manifest = desc.manifest;
      facts.python = image.python;
      ASSIGN_OR_RETURN(b.sbom, sink.PutReferrer(desc.manifest, kSpdxMediaType,
                                                SpdxDocument(facts)));
      ASSIGN_OR_RETURN(b.provenance,
                       sink.PutReferrer(desc.manifest, kInTotoMediaType,
                                        SlsaProvenance(facts)));
    }
    steps.AddStep(StepReport{"image-assembly", image.name, false,
                             absl::ToDoubleSeconds(absl::Now() - start),
                             desc.manifest.ToString()});
    for (const std::string& ref : refs) {
      b.ref = ref;
      built.push_back(b);
    }
  }
  return built;
}

}  // namespace pbrx::coordinator
