#include "client/debian_release.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/base/debian_base.h"
#include "common/sha256.h"

namespace pbrx::client {
namespace {

constexpr size_t kMaxRemembered = 1000;

// The state file's key of a suite and mirror.
std::string KeyOf(const std::string& suite, const std::string& mirror) {
  return common::Sha256::HexOf(absl::StrCat(suite, "\n", mirror));
}

bool IsHex64(absl::string_view s) {
  return s.size() == 64 &&
         s.find_first_not_of("0123456789abcdef") == absl::string_view::npos;
}

// Lines "KEY DIGEST" of the state file, oldest first (malformed ones
// skipped; a missing file is empty).
std::vector<std::pair<std::string, std::string>> Load(const std::string& path) {
  std::vector<std::pair<std::string, std::string>> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line) && out.size() < 10 * kMaxRemembered) {
    std::vector<std::string> f = absl::StrSplit(line, ' ');
    if (f.size() == 2 && IsHex64(f[0]) && IsHex64(f[1]))
      out.emplace_back(f[0], f[1]);
  }
  return out;
}

// Remembers `digest` for `key` (a hint for offline builds: a failure to
// save it loses nothing).
void Remember(const std::string& path, const std::string& key,
              const std::string& digest) {
  std::vector<std::pair<std::string, std::string>> entries = Load(path);
  std::vector<std::pair<std::string, std::string>> kept;
  for (auto& e : entries)
    if (e.first != key) kept.push_back(std::move(e));
  kept.emplace_back(key, digest);
  size_t first =
      kept.size() > kMaxRemembered ? kept.size() - kMaxRemembered : 0;
  std::string text;
  for (size_t i = first; i < kept.size(); ++i)
    absl::StrAppend(&text, kept[i].first, " ", kept[i].second, "\n");
  const std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out) {
      std::remove(tmp.c_str());
      return;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) std::remove(tmp.c_str());
}

}  // namespace

std::string InReleaseState(absl::string_view inrelease) {
  // The SHA256 section's lines for the package indexes a base installs
  // from; the rest (Date, Valid-Until, the signature) changes at every
  // re-signing without any package changing.
  std::vector<std::string> entries;
  bool in_sha256 = false;
  for (absl::string_view line : absl::StrSplit(inrelease, '\n')) {
    absl::ConsumeSuffix(&line, "\r");
    if (!line.empty() && line[0] != ' ') {
      in_sha256 = line == "SHA256:";
      continue;
    }
    if (!in_sha256) continue;
    for (absl::string_view index :
         {" main/binary-amd64/Packages", " main/binary-all/Packages"}) {
      if (absl::EndsWith(line, index))
        entries.emplace_back(absl::StripLeadingAsciiWhitespace(line));
    }
  }
  if (entries.empty()) return std::string(inrelease);
  std::sort(entries.begin(), entries.end());
  return absl::StrJoin(entries, "\n");
}

absl::StatusOr<DebianRelease> ResolveDebianRelease(
    common::registry::HttpTransport& http, const std::string& suite,
    const std::string& mirror, const std::string& state_file) {
  const std::string key = KeyOf(suite, mirror);
  const std::string where = mirror.empty() ? "Debian's mirror" : mirror;
  std::string lines;
  absl::Status unreachable;
  for (const common::base::ReleaseSource& source :
       common::base::DebianReleaseSources(suite, mirror)) {
    common::registry::HttpRequest req;
    req.method = "GET";
    req.url = source.url;
    req.max_response_bytes = kMaxInReleaseBytes;
    absl::StatusOr<common::registry::HttpResponse> r = http.Send(req);
    if (r.ok() && r->status == 200) {
      absl::StrAppend(&lines, source.url, " ",
                      common::Sha256::HexOf(InReleaseState(r->body)), "\n");
      continue;
    }
    if (r.ok() && r->status == 404) {
      if (!source.required) {
        absl::StrAppend(&lines, source.url, " absent\n");
        continue;
      }
      return absl::NotFoundError(absl::StrCat(
          "debian:", suite, ": ", source.url, " answered HTTP 404 (is '", suite,
          "' a suite of ", where, "?)"));
    }
    if (r.ok() && r->status < 500) {
      return absl::FailedPreconditionError(absl::StrCat(
          "debian:", suite, ": ", source.url, " answered HTTP ", r->status));
    }
    unreachable = r.ok()
                      ? absl::UnavailableError(absl::StrCat("HTTP ", r->status))
                      : r.status();
    break;
  }
  if (unreachable.ok()) {
    DebianRelease out;
    out.digest = common::Sha256::HexOf(lines);
    Remember(state_file, key, out.digest);
    return out;
  }
  // Offline: the last state of the archive this cache dir saw.
  std::string known;
  for (const auto& [k, digest] : Load(state_file))
    if (k == key) known = digest;
  if (!known.empty()) {
    DebianRelease out;
    out.digest = known;
    out.warning =
        absl::StrCat("cannot reach ", where, " (", unreachable.message(),
                     "); using the last known state of debian:", suite,
                     " (sha256:", known.substr(0, 12), "...)");
    return out;
  }
  // Never seen (e.g. a client outside the network of the farm's
  // executors): keyed by the suite alone, as it was before.
  DebianRelease out;
  out.warning = absl::StrCat(
      "cannot reach ", where, " (", unreachable.message(),
      ") and no earlier state of debian:", suite,
      " is known: the base is keyed by its suite alone (a point release "
      "will not rebuild it)");
  return out;
}

}  // namespace pbrx::client
