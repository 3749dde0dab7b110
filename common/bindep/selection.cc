#include "common/bindep/selection.h"

#include <optional>
#include <set>

#include "absl/strings/match.h"

namespace pbrx::common::bindep {
namespace {

using Profiles = absl::flat_hash_set<std::string>;

bool IsPlatform(const Profile& p) {
  return absl::StartsWith(p.name, "platform:");
}

bool GroupMatches(const std::vector<Profile>& group, const Profiles& active) {
  for (const Profile& p : group) {
    bool on = active.contains(p.name);
    if (p.positive != on) return false;
  }
  return true;
}

// nullopt: no vote; true: yes; false: no.
std::optional<bool> Vote(const std::vector<const SelectorItem*>& half,
                         const Profiles& active) {
  if (half.empty()) return std::nullopt;
  bool positive = false, match = false, group_seen = false, group_match = false;
  for (const SelectorItem* item : half) {
    if (item->is_group) {
      group_seen = true;
      if (GroupMatches(item->group, active)) group_match = true;
      continue;
    }
    const Profile& p = item->profile;
    if (p.positive) {
      positive = true;
      if (active.contains(p.name)) match = true;
    } else if (active.contains(p.name)) {
      return false;  // a matching negative always wins
    }
  }
  if (match || group_match) return true;
  return !positive && !group_seen;
}

}  // namespace

std::vector<Rule> ActiveRules(const BindepFile& file,
                              const Profiles& profiles) {
  std::vector<Rule> out;
  for (const Rule& rule : file.rules) {
    std::vector<const SelectorItem*> platform, user;
    for (const SelectorItem& item : rule.selector) {
      if (!item.is_group && IsPlatform(item.profile)) {
        platform.push_back(&item);
      } else {
        user.push_back(&item);
      }
    }
    std::optional<bool> p = Vote(platform, profiles);
    std::optional<bool> u = Vote(user, profiles);
    if (p.value_or(true) && u.value_or(true)) out.push_back(rule);
  }
  return out;
}

std::vector<std::string> ConfigurationProfiles(const BindepFile& file) {
  std::set<std::string> names;
  for (const Rule& rule : file.rules) {
    for (const SelectorItem& item : rule.selector) {
      if (item.is_group) {
        for (const Profile& p : item.group) {
          if (!IsPlatform(p)) names.insert(p.name);
        }
      } else if (!IsPlatform(item.profile)) {
        names.insert(item.profile.name);
      }
    }
  }
  return std::vector<std::string>(names.begin(), names.end());
}

}  // namespace pbrx::common::bindep
