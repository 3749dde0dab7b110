#include "common/bindep/debian_version.h"

#include "absl/strings/str_cat.h"
#include "common/bindep/bindep_file.h"

namespace pbrx::common::bindep {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// dpkg's character order for the non-digit parts.
int Order(int c) {
  if (c == 0 || IsDigit(static_cast<char>(c))) return 0;  // end of a part
  if (c == '~') return -1;
  if (IsAlpha(static_cast<char>(c))) return c;
  return c + 256;
}

int CompareFragment(absl::string_view a, absl::string_view b) {
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    int first_diff = 0;
    while ((i < a.size() && !IsDigit(a[i])) ||
           (j < b.size() && !IsDigit(b[j]))) {
      int ac = i < a.size() ? Order(static_cast<unsigned char>(a[i])) : 0;
      int bc = j < b.size() ? Order(static_cast<unsigned char>(b[j])) : 0;
      if (ac != bc) return ac - bc;
      ++i;
      ++j;
    }
    while (i < a.size() && a[i] == '0') ++i;
    while (j < b.size() && b[j] == '0') ++j;
    while (i < a.size() && IsDigit(a[i]) && j < b.size() && IsDigit(b[j])) {
      if (first_diff == 0) first_diff = a[i] - b[j];
      ++i;
      ++j;
    }
    if (i < a.size() && IsDigit(a[i])) return 1;
    if (j < b.size() && IsDigit(b[j])) return -1;
    if (first_diff != 0) return first_diff;
  }
  return 0;
}

int CompareNumbers(absl::string_view a, absl::string_view b) {
  while (!a.empty() && a.front() == '0') a.remove_prefix(1);
  while (!b.empty() && b.front() == '0') b.remove_prefix(1);
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return a.compare(b);
}

}  // namespace

absl::StatusOr<DebianVersion> ParseDebianVersion(absl::string_view text) {
  // Reuse the bindep grammar: a one-rule file "xx >=VERSION".
  absl::StatusOr<BindepFile> f =
      ParseBindepFile(absl::StrCat("xx >=", text, "\n"), "version");
  if (!f.ok() || f->rules.size() != 1 || f->rules[0].versions.size() != 1 ||
      f->rules[0].versions[0].version != text) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a Debian version"));
  }
  DebianVersion v;
  absl::string_view rest = text;
  size_t colon = rest.find(':');
  if (colon != absl::string_view::npos && colon > 0) {
    bool digits = true;
    for (char c : rest.substr(0, colon)) digits = digits && IsDigit(c);
    if (digits) {
      v.epoch = std::string(rest.substr(0, colon));
      rest.remove_prefix(colon + 1);
    }
  }
  if (v.epoch.empty()) v.epoch = "0";
  size_t hyphen = rest.rfind('-');
  if (hyphen != absl::string_view::npos) {
    v.upstream = std::string(rest.substr(0, hyphen));
    v.revision = std::string(rest.substr(hyphen + 1));
  } else {
    v.upstream = std::string(rest);
  }
  return v;
}

int CompareDebianVersions(absl::string_view a, absl::string_view b, bool* ok) {
  absl::StatusOr<DebianVersion> va = ParseDebianVersion(a);
  absl::StatusOr<DebianVersion> vb = ParseDebianVersion(b);
  if (ok != nullptr) *ok = va.ok() && vb.ok();
  if (!va.ok() || !vb.ok()) return a.compare(b);
  if (int d = CompareNumbers(va->epoch, vb->epoch)) return d;
  if (int d = CompareFragment(va->upstream, vb->upstream)) return d;
  return CompareFragment(va->revision, vb->revision);
}

bool SatisfiesConstraint(absl::string_view installed, absl::string_view op,
                         absl::string_view constraint) {
  if (op == "==") return installed == constraint;
  if (op == "!=") return installed != constraint;
  int d = CompareDebianVersions(installed, constraint);
  if (op == "<") return d < 0;
  if (op == "<=") return d <= 0;
  if (op == ">") return d > 0;
  if (op == ">=") return d >= 0;
  return false;
}

}  // namespace pbrx::common::bindep
