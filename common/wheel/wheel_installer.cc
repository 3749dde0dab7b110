#include "common/wheel/wheel_installer.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/project/python_names.h"
#include "common/sha256.h"
#include "common/status_macros.h"

namespace pbrx::common::wheel {
namespace {

struct ReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ReadDeleter>;

absl::Status Bad(absl::string_view wheel, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(wheel, ": ", what));
}

absl::StatusOr<ArchivePtr> OpenZip(const std::string& path) {
  ArchivePtr a(archive_read_new());
  archive_read_support_format_zip_seekable(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) !=
      ARCHIVE_OK) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": not a readable wheel (zip): ", archive_error_string(a.get())));
  }
  return a;
}

std::string HexToBytes(const std::string& hex) {
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  }
  return out;
}

std::string Base64UrlNoPad(const std::string& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  while (i + 2 < bytes.size()) {
    uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
    i += 3;
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    if (rest == 2) out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

// One RECORD row, CSV with optional double quotes.
std::vector<std::string> CsvRow(absl::string_view line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cells.back().push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cells.back().push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.emplace_back();
    } else {
      cells.back().push_back(c);
    }
  }
  return cells;
}

std::string CsvCell(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"')
      out += "\"\"";
    else
      out.push_back(c);
  }
  return out + "\"";
}

// "/a/b": absolute, no empty, "." or ".." components, no control bytes.
bool NormalAbsolute(const std::string& p) {
  if (p.size() < 2 || p.size() > 4096 || p.front() != '/' || p.back() == '/')
    return false;
  for (unsigned char c : p)
    if (c < 0x20 || c == 0x7f) return false;
  for (absl::string_view part : absl::StrSplit(p.substr(1), '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return true;
}

bool SafeRelative(absl::string_view p) {
  if (p.empty() || p.front() == '/' || absl::StrContains(p, '\\')) return false;
  for (absl::string_view part : absl::StrSplit(p, '/')) {
    if (part == ".." || part == ".") return false;
  }
  return true;
}

absl::Status MkdirsFor(const std::string& file) {
  for (size_t i = 1; i < file.size(); ++i) {
    if (file[i] != '/') continue;
    std::string dir = file.substr(0, i);
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return absl::InternalError(
          absl::StrCat("cannot create ", dir, ": ", std::strerror(errno)));
    }
  }
  return absl::OkStatus();
}

// Path of `target` relative to the directory `base` (both absolute).
std::string RelativePath(const std::string& target, const std::string& base) {
  std::vector<std::string> t = absl::StrSplit(target, '/', absl::SkipEmpty());
  std::vector<std::string> b = absl::StrSplit(base, '/', absl::SkipEmpty());
  size_t common = 0;
  while (common < t.size() && common < b.size() && t[common] == b[common])
    ++common;
  std::vector<std::string> parts(b.size() - common, "..");
  parts.insert(parts.end(), t.begin() + common, t.end());
  return absl::StrJoin(parts, "/");
}

struct Written {
  std::string image_path;
  std::string hash;
  int64_t size;
};

absl::Status WriteFile(const std::string& staging_root,
                       const std::string& image_path, absl::string_view content,
                       mode_t mode, std::vector<Written>* written) {
  std::string host = staging_root + image_path;
  RETURN_IF_ERROR(MkdirsFor(host));
  int fd = open(host.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create ", image_path, ": ", std::strerror(errno),
                     errno == EEXIST ? " (installed twice?)" : ""));
  }
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = write(fd, content.data() + off, content.size() - off);
    if (n <= 0) {
      close(fd);
      return absl::InternalError(absl::StrCat("cannot write ", image_path));
    }
    off += static_cast<size_t>(n);
  }
  fchmod(fd, mode);
  close(fd);
  written->push_back(Written{image_path, RecordHash(content),
                             static_cast<int64_t>(content.size())});
  return absl::OkStatus();
}

}  // namespace

std::string RecordHash(absl::string_view content) {
  return "sha256=" + Base64UrlNoPad(HexToBytes(Sha256::HexOf(content)));
}

absl::StatusOr<std::vector<ScriptEntryPoint>> ParseScriptEntryPoints(
    absl::string_view text) {
  std::vector<ScriptEntryPoint> out;
  std::string section;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      section =
          std::string(absl::StripSuffix(absl::StripPrefix(line, "["), "]"));
      continue;
    }
    if (section != "console_scripts" && section != "gui_scripts") continue;
    size_t eq = line.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("entry point '", line, "' has no '='"));
    }
    ScriptEntryPoint ep{
        section, std::string(absl::StripAsciiWhitespace(line.substr(0, eq))),
        std::string(absl::StripAsciiWhitespace(line.substr(eq + 1)))};
    RETURN_IF_ERROR(common::project::CheckEntryPoint(ep.name, ep.target));
    out.push_back(std::move(ep));
  }
  return out;
}

std::string EntryPointWrapper(const std::string& python,
                              const std::string& module,
                              const std::string& attr) {
  std::string import_name = attr.substr(0, attr.find('.'));
  return absl::StrCat(
      "#!", python, "\n# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom ",
      module, " import ", import_name,
      "\nif __name__ == '__main__':\n"
      "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
      "    sys.exit(",
      attr, "())\n");
}

absl::StatusOr<InstalledWheel> InstallWheel(const std::string& wheel_path,
                                            const InstallScheme& scheme,
                                            const std::string& staging_root,
                                            const WheelLimits& limits) {
  std::string wheel_name = wheel_path.substr(wheel_path.rfind('/') + 1);
  for (const auto& [field, value] :
       std::vector<std::pair<const char*, const std::string*>>{
           {"purelib", &scheme.purelib},
           {"platlib", &scheme.platlib},
           {"headers", &scheme.headers},
           {"scripts", &scheme.scripts},
           {"data", &scheme.data},
           {"python", &scheme.python}}) {
    if (!NormalAbsolute(*value)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "install scheme ", field, " '", absl::CHexEscape(*value),
          "' is not an absolute, normalised path without control characters"));
    }
  }
  struct stat wheel_st;
  int64_t wheel_bytes =
      stat(wheel_path.c_str(), &wheel_st) == 0 ? wheel_st.st_size : 0;
  int64_t unpacked = 0;  // bytes of every entry read so far
  // Pass 1: list entries and read the metadata.
  std::map<std::string, std::string> meta;  // dist-info file -> content
  std::set<std::string> files;
  std::string dist_info;
  {
    ASSIGN_OR_RETURN(ArchivePtr a, OpenZip(wheel_path));
    archive_entry* e;
    int r;
    while ((r = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK) {
      std::string path = archive_entry_pathname(e);
      if (archive_entry_filetype(e) == AE_IFDIR || absl::EndsWith(path, "/"))
        continue;
      if (archive_entry_filetype(e) == AE_IFLNK) {
        return Bad(wheel_name,
                   absl::StrCat("entry '", path, "' is a symlink; refused"));
      }
      if (!SafeRelative(path)) {
        return Bad(wheel_name,
                   absl::StrCat("entry '", path,
                                "' is absolute or contains '..'; refused"));
      }
      if (!files.insert(path).second) {
        return Bad(wheel_name,
                   absl::StrCat("entry '", path, "' appears twice"));
      }
      std::vector<std::string> parts = absl::StrSplit(path, '/');
      if (parts.size() == 2 && absl::EndsWith(parts[0], ".dist-info")) {
        if (!dist_info.empty() && dist_info != parts[0]) {
          return Bad(wheel_name, "more than one .dist-info directory");
        }
        dist_info = parts[0];
        if (parts[1] == "WHEEL" || parts[1] == "RECORD" ||
            parts[1] == "entry_points.txt") {
          std::string content;
          char buf[65536];
          la_ssize_t n;
          while ((n = archive_read_data(a.get(), buf, sizeof(buf))) > 0)
            content.append(buf, n);
          meta[parts[1]] = content;
        }
      }
    }
    if (r != ARCHIVE_EOF) {
      return Bad(wheel_name,
                 absl::StrCat("corrupt zip: ", archive_error_string(a.get())));
    }
  }
  if (dist_info.empty()) return Bad(wheel_name, "no .dist-info directory");
  if (meta.count("WHEEL") == 0)
    return Bad(wheel_name, dist_info + "/WHEEL is missing");
  if (meta.count("RECORD") == 0)
    return Bad(wheel_name, dist_info + "/RECORD is missing");
  InstalledWheel out;
  std::string stem =
      dist_info.substr(0, dist_info.size() - strlen(".dist-info"));
  size_t dash = stem.find('-');
  if (dash == std::string::npos) {
    return Bad(wheel_name,
               absl::StrCat("'", dist_info, "' is not NAME-VERSION.dist-info"));
  }
  out.name = stem.substr(0, dash);
  out.version = stem.substr(dash + 1);
  std::string data_dir = stem + ".data";

  // WHEEL: version 1.x and where the root goes.
  bool purelib = true;
  std::string wheel_version;
  for (absl::string_view line : absl::StrSplit(meta["WHEEL"], '\n')) {
    size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    std::string key(absl::StripAsciiWhitespace(line.substr(0, colon)));
    std::string value(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    if (key == "Wheel-Version") wheel_version = value;
    if (key == "Root-Is-Purelib")
      purelib = absl::AsciiStrToLower(value) == "true";
  }
  if (!absl::StartsWith(wheel_version, "1.")) {
    return Bad(wheel_name,
               absl::StrCat("unsupported Wheel-Version '", wheel_version,
                            "' (this installer reads 1.x)"));
  }
  const std::string& lib = purelib ? scheme.purelib : scheme.platlib;

  // RECORD: every file listed with hash and size, and nothing else.
  std::map<std::string, std::pair<std::string, int64_t>> record;
  for (absl::string_view line :
       absl::StrSplit(meta["RECORD"], '\n', absl::SkipWhitespace())) {
    absl::ConsumeSuffix(&line, "\r");
    std::vector<std::string> cells = CsvRow(line);
    if (cells.size() != 3) {
      return Bad(wheel_name,
                 absl::StrCat("malformed RECORD line '", line, "'"));
    }
    int64_t size = -1;
    if (!cells[2].empty() && (!absl::SimpleAtoi(cells[2], &size) || size < 0)) {
      return Bad(wheel_name,
                 absl::StrCat("RECORD size '", cells[2], "' of '", cells[0],
                              "' is not a non-negative integer"));
    }
    record[cells[0]] = {cells[1], size};
  }
  for (const std::string& f : files) {
    bool signature = f == dist_info + "/RECORD" ||
                     f == dist_info + "/RECORD.jws" ||
                     f == dist_info + "/RECORD.p7s";
    if (!signature && record.count(f) == 0) {
      return Bad(wheel_name, absl::StrCat("'", f, "' is not listed in RECORD"));
    }
  }
  for (const auto& [path, info] : record) {
    if (files.count(path) == 0) {
      return Bad(wheel_name, absl::StrCat("RECORD lists '", path,
                                          "', which is not in the wheel"));
    }
  }

  // Pass 2: extract, verify, place.
  std::vector<Written> written;
  {
    ASSIGN_OR_RETURN(ArchivePtr a, OpenZip(wheel_path));
    archive_entry* e;
    while (archive_read_next_header(a.get(), &e) == ARCHIVE_OK) {
      std::string path = archive_entry_pathname(e);
      if (files.count(path) == 0) continue;
      if (path == dist_info + "/RECORD" || path == dist_info + "/RECORD.jws" ||
          path == dist_info + "/RECORD.p7s") {
        continue;
      }
      const auto& [hash, size] = record[path];
      mode_t mode = (archive_entry_perm(e) & 0111) ? 0755 : 0644;
      std::string dest;
      bool script = false;
      if (absl::StartsWith(path, data_dir + "/")) {
        std::string rest = path.substr(data_dir.size() + 1);
        size_t slash = rest.find('/');
        std::string key = rest.substr(0, slash);
        std::string sub =
            slash == std::string::npos ? "" : rest.substr(slash + 1);
        if (sub.empty())
          return Bad(wheel_name,
                     absl::StrCat("'", path, "' is not in a scheme dir"));
        if (key == "purelib") {
          dest = scheme.purelib + "/" + sub;
        } else if (key == "platlib") {
          dest = scheme.platlib + "/" + sub;
        } else if (key == "headers") {
          dest = scheme.headers + "/" + sub;
        } else if (key == "data") {
          dest = scheme.data + "/" + sub;
        } else if (key == "scripts") {
          dest = scheme.scripts + "/" + sub;
          mode = 0755;
          script = true;
        } else {
          return Bad(wheel_name,
                     absl::StrCat("'", path, "': unknown .data directory '",
                                  key, "'"));
        }
      } else {
        dest = lib + "/" + path;
      }
      // Entries stream through the hash into their file; only scripts,
      // whose "#!python" line is rewritten, are held (and capped) in memory.
      std::string host = staging_root + dest;
      RETURN_IF_ERROR(MkdirsFor(host));
      int fd = script ? -1
                      : open(host.c_str(),
                             O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
      if (!script && fd < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot create ", dest, ": ", std::strerror(errno),
                         errno == EEXIST ? " (installed twice?)" : ""));
      }
      Sha256 sha;
      std::string content;  // scripts only
      int64_t entry_bytes = 0;
      absl::Status read_status = absl::OkStatus();
      char buf[1 << 16];
      la_ssize_t n;
      while ((n = archive_read_data(a.get(), buf, sizeof(buf))) > 0) {
        entry_bytes += n;
        unpacked += n;
        if (size >= 0 && entry_bytes > size) break;  // a RECORD mismatch
        if (entry_bytes > limits.max_entry_bytes ||
            (script && entry_bytes > (16 << 20))) {
          read_status =
              Bad(wheel_name,
                  absl::StrCat("'", path, "' unpacks to more than ",
                               script ? (16 << 20) : limits.max_entry_bytes,
                               " bytes"));
          break;
        }
        if (unpacked > limits.max_total_bytes) {
          read_status =
              Bad(wheel_name, absl::StrCat("unpacks to more than ",
                                           limits.max_total_bytes, " bytes"));
          break;
        }
        if (unpacked > (int64_t{64} << 20) && wheel_bytes > 0 &&
            unpacked / wheel_bytes > limits.max_ratio) {
          read_status = Bad(wheel_name, absl::StrCat("unpacks to more than ",
                                                     limits.max_ratio,
                                                     " times its own size"));
          break;
        }
        sha.Update(absl::string_view(buf, static_cast<size_t>(n)));
        if (script) {
          content.append(buf, static_cast<size_t>(n));
        } else if (write(fd, buf, static_cast<size_t>(n)) != n) {
          read_status = absl::InternalError(
              absl::StrCat("cannot write ", dest, ": ", std::strerror(errno)));
          break;
        }
      }
      if (fd >= 0) {
        fchmod(fd, mode);
        close(fd);
      }
      RETURN_IF_ERROR(read_status);
      if (n < 0)
        return Bad(wheel_name, absl::StrCat("cannot read '", path, "'"));
      std::string got = "sha256=" + Base64UrlNoPad(HexToBytes(sha.FinishHex()));
      if (got != hash || (size >= 0 && size != entry_bytes)) {
        return Bad(
            wheel_name,
            absl::StrCat("'", path, "' does not match its RECORD hash/size"));
      }
      if (!script) {
        written.push_back({dest, got, entry_bytes});
        continue;
      }
      if (absl::StartsWith(content, "#!python")) {
        size_t eol = content.find('\n');
        content = absl::StrCat(
            "#!", scheme.python, "\n",
            eol == std::string::npos ? "" : content.substr(eol + 1));
      }
      RETURN_IF_ERROR(WriteFile(staging_root, dest, content, mode, &written));
    }
  }

  // Entry-point wrappers.
  absl::StatusOr<std::vector<ScriptEntryPoint>> entry_points =
      ParseScriptEntryPoints(meta["entry_points.txt"]);
  if (!entry_points.ok())
    return Bad(wheel_name, entry_points.status().message());
  for (const ScriptEntryPoint& ep : *entry_points) {
    const std::string& name = ep.name;
    std::string target(
        absl::StripAsciiWhitespace(ep.target.substr(0, ep.target.find('['))));
    size_t colon = target.find(':');
    std::string module(absl::StripAsciiWhitespace(target.substr(0, colon)));
    std::string attr(absl::StripAsciiWhitespace(target.substr(colon + 1)));
    std::string dest = scheme.scripts + "/" + name;
    RETURN_IF_ERROR(WriteFile(staging_root, dest,
                              EntryPointWrapper(scheme.python, module, attr),
                              0755, &written));
    out.scripts.push_back(dest);
  }

  // INSTALLER and the new RECORD (paths relative to the library dir).
  std::string info_dir = lib + "/" + dist_info;
  RETURN_IF_ERROR(WriteFile(staging_root, info_dir + "/INSTALLER", "pbrx\n",
                            0644, &written));
  std::vector<std::string> rows;
  for (const Written& w : written) {
    rows.push_back(absl::StrCat(CsvCell(RelativePath(w.image_path, lib)), ",",
                                w.hash, ",", w.size));
    out.files.push_back(w.image_path);
  }
  std::string record_path = info_dir + "/RECORD";
  rows.push_back(absl::StrCat(CsvCell(RelativePath(record_path, lib)), ",,"));
  std::sort(rows.begin(), rows.end());
  std::vector<Written> ignored;
  RETURN_IF_ERROR(WriteFile(staging_root, record_path,
                            absl::StrJoin(rows, "\n") + "\n", 0644, &ignored));
  out.files.push_back(record_path);
  std::sort(out.files.begin(), out.files.end());
  return out;
}

}  // namespace pbrx::common::wheel
