#include "client/man_pages.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace pbrx::client {
namespace {

// Text safe in roff: backslashes and dashes escaped, no line starting
// with a control character.
std::string Roff(absl::string_view text) {
  std::string s = absl::StrReplaceAll(text, {{"\\", "\\e"}, {"-", "\\-"}});
  std::string out;
  for (absl::string_view line : absl::StrSplit(s, '\n')) {
    if (!line.empty() && (line[0] == '.' || line[0] == '\'')) out += "\\&";
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

// The same within a line (names, values).
std::string Inline(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"\\", "\\e"}, {"-", "\\-"}});
}

std::string Header(const std::string& name, const std::string& version) {
  return absl::StrCat(".TH ", absl::AsciiStrToUpper(name), " 1 \"\" \"pbrx ",
                      version, "\" \"pbrx manual\"\n");
}

std::string Page(const CommandDoc& c, const std::string& version) {
  const std::string dashed = absl::StrReplaceAll(c.name, {{" ", "-"}});
  std::string out = Header("pbrx-" + dashed, version);
  absl::StrAppend(&out, ".SH NAME\npbrx\\-", Inline(dashed), " \\- ",
                  Roff(c.summary));
  absl::StrAppend(&out, ".SH SYNOPSIS\n.B pbrx ", Roff(c.name));
  if (c.flags != nullptr) out += Roff(c.flags->synopsis());
  if (c.flags == nullptr) return out;
  if (!c.flags->description().empty()) {
    out += ".SH DESCRIPTION\n";
    bool first = true;
    for (absl::string_view para :
         absl::StrSplit(c.flags->description(), '\n', absl::SkipEmpty())) {
      if (!first) out += ".PP\n";
      out += Roff(para);
      first = false;
    }
  }
  out += ".SH OPTIONS\n";
  std::vector<std::string> env;
  for (const common::FlagParser::Info& f : c.flags->Describe()) {
    out += ".TP\n";
    if (f.short_name != 0)
      absl::StrAppend(&out, "\\fB\\-", std::string(1, f.short_name), "\\fR, ");
    absl::StrAppend(&out, "\\fB\\-\\-", Inline(f.name), "\\fR");
    if (!f.value_name.empty())
      absl::StrAppend(&out, "=\\fI", Inline(f.value_name), "\\fR");
    out += "\n";
    std::string help = f.help;
    if (f.is_list) help += " May be repeated.";
    if (!f.default_text.empty())
      absl::StrAppend(&help, " Default: ", f.default_text, ".");
    out += Roff(help);
    if (!f.environment.empty())
      env.push_back(absl::StrCat(f.environment, "\t--", f.name));
  }
  if (!env.empty()) {
    out +=
        ".SH ENVIRONMENT\nA variable sets its flag when the command line "
        "does not.\n";
    for (const std::string& e : env) {
      std::vector<std::string> parts = absl::StrSplit(e, '\t');
      absl::StrAppend(&out, ".TP\n.B ", parts[0], "\n", Roff(parts[1]));
    }
  }
  if (!c.flags->examples().empty()) {
    out += ".SH EXAMPLES\n";
    for (const auto& [command, what] : c.flags->examples()) {
      absl::StrAppend(&out, ".TP\n.B ", Roff(command), Roff(what));
    }
  }
  out +=
      ".SH FILES\n.TP\n.I ~/.config/pbrx/pbrx.toml\nuser settings, one "
      "table per command\n.TP\n.I /etc/pbrx/pbrx.toml\nsystem settings\n";
  out += ".SH SEE ALSO\n.BR pbrx (1)\n";
  return out;
}

}  // namespace

std::map<std::string, std::string> ManPages(
    const std::vector<CommandDoc>& commands, const std::string& version) {
  std::map<std::string, std::string> pages;
  std::string main = Header("pbrx", version);
  main +=
      ".SH NAME\npbrx \\- build container images for Python projects\n"
      ".SH SYNOPSIS\n.B pbrx\n\\fICOMMAND\\fR [\\fIFLAGS\\fR] "
      "[\\fIARGS\\fR]\n.SH DESCRIPTION\n"
      "pbrx builds a {name}\\-base image and one image per console_scripts "
      "entry point for each Python project, in this process or on a farm "
      "of pbrx\\-coordinator and pbrx\\-executor daemons sharing a "
      "pbrx\\-cache.\n.SH COMMANDS\n";
  for (const CommandDoc& c : commands) {
    absl::StrAppend(&main, ".TP\n.B ", Roff(c.name), Roff(c.summary));
    if (c.flags != nullptr) {
      std::string page =
          "pbrx-" + absl::StrReplaceAll(c.name, {{" ", "-"}}) + ".1";
      pages[page] = Page(c, version);
    }
  }
  main +=
      ".SH EXIT STATUS\n0 success, 1 the operation failed, 2 usage error, 3 "
      "the farm is unreachable or failed.\n.SH SEE ALSO\n";
  bool first = true;
  for (const auto& [file, text] : pages) {
    std::string name = file.substr(0, file.size() - 2);
    absl::StrAppend(&main, first ? "" : ",\n", ".BR ",
                    absl::StrReplaceAll(name, {{"-", "\\-"}}), " (1)");
    first = false;
  }
  main += "\n";
  pages["pbrx.1"] = main;
  return pages;
}

}  // namespace pbrx::client
