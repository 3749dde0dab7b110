#include "coordinator/build_report.h"

#include "absl/strings/str_cat.h"
#include "common/json_writer.h"

namespace pbrx::coordinator {

std::string BuildReportJson(
    const std::vector<std::string>& dirs,
    const std::vector<absl::StatusOr<ProjectBuild>>& builds) {
  common::JsonWriter w;
  w.BeginObject()
      .Key("schema")
      .String("pbrx.build/v2")
      .Key("projects")
      .BeginArray();
  for (size_t i = 0; i < dirs.size(); ++i) {
    const std::string& dir = dirs[i];
    const auto& build = builds[i];
    if (!build.ok()) {
      w.BeginObject().Key("dir").String(dir).Key("error").String(
          build.status().message());
      w.EndObject();
      continue;
    }
    w.BeginObject().Key("dir").String(dir).Key("name").String(build->name);
    w.Key("version").String(build->version);
    w.Key("base").BeginObject().Key("name").String(build->base_name);
    w.Key("digest").String(build->base_digest).EndObject();
    w.Key("images").BeginArray();
    for (const auto& img : build->images) {
      w.BeginObject().Key("ref").String(img.ref).Key("digest").String(
          img.manifest_digest);
      w.Key("size").Int(img.size);
      if (img.sbom != common::Digest::Empty())
        w.Key("sbom").String("sha256:" + img.sbom.hash());
      if (img.provenance != common::Digest::Empty())
        w.Key("provenance").String("sha256:" + img.provenance.hash());
      w.EndObject();
    }
    w.EndArray().Key("steps").BeginArray();
    for (const auto& s : build->steps) {
      w.BeginObject().Key("kind").String(s.kind).Key("name").String(s.name);
      w.Key("cached").Bool(s.cached);
      if (s.joined) w.Key("joined").Bool(true);
      w.Key("seconds").Double(s.seconds);
      if (s.failed) w.Key("failed").Bool(true);
      w.Key("key").String(s.action);
      if (!s.cached && !s.joined && s.kind != "image-assembly") {
        // Why this step was not a hit: everything its cache key is made of.
        w.Key("key_inputs").BeginObject().Key("argv").StringArray(s.argv);
        w.Key("platform").BeginObject();
        for (const auto& [k, v] : s.platform) w.Key(k).String(v);
        w.EndObject();
        if (!s.input_root.empty()) w.Key("input_root").String(s.input_root);
        w.EndObject();
      }
      w.EndObject();
    }
    w.EndArray().EndObject();
  }
  w.EndArray().EndObject();
  return w.str();
}

std::string StepEventJson(const std::string& dir, const StepReport& s) {
  common::JsonWriter w(/*pretty=*/false);
  w.BeginObject().Key("event").String("step").Key("dir").String(dir);
  w.Key("kind").String(s.kind).Key("name").String(s.name);
  w.Key("cached").Bool(s.cached).Key("joined").Bool(s.joined);
  w.Key("failed").Bool(s.failed);
  w.Key("seconds").Double(s.seconds).EndObject();
  return w.str() + "\n";
}

std::string ProjectEventJson(const std::string& dir,
                             const absl::StatusOr<ProjectBuild>& build) {
  common::JsonWriter w(/*pretty=*/false);
  w.BeginObject().Key("event").String("project").Key("dir").String(dir);
  if (!build.ok()) {
    w.Key("error").String(build.status().message());
  } else {
    w.Key("name").String(build->name).Key("version").String(build->version);
    w.Key("images").Int(static_cast<int64_t>(build->images.size()));
  }
  w.EndObject();
  return w.str() + "\n";
}

std::pair<int, int> StepCounts(const ProjectBuild& build) {
  int cached = 0, run = 0;
  for (const auto& s : build.steps) {
    if (s.kind == "image-assembly") continue;
    if (s.joined) continue;
    (s.cached ? cached : run)++;
  }
  return {cached, run};
}

}  // namespace pbrx::coordinator
