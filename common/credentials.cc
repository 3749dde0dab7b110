#include "common/credentials.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/sha256.h"

namespace pbrx::common {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> PercentDecode(absl::string_view field,
                                          absl::string_view what,
                                          absl::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    int hi = i + 2 < text.size() ? HexValue(text[i + 1]) : -1;
    int lo = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": the ", what, " in the URL has a bad %-escape"));
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::string PercentEncode(absl::string_view text) {
  std::string out;
  for (char c : text) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      absl::StrAppend(
          &out, "%", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    }
  }
  return out;
}

bool NetrcSafe(absl::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '#';
  });
}

// [start, end) of the authority in "scheme://AUTHORITY/...".
std::pair<size_t, size_t> Authority(absl::string_view url) {
  size_t start = url.find("://");
  if (start == absl::string_view::npos) return {0, 0};
  start += 3;
  size_t end = url.find_first_of("/?#", start);
  if (end == absl::string_view::npos) end = url.size();
  return {start, end};
}

}  // namespace

absl::Status ValidateCredential(absl::string_view field,
                                const HostCredential& c) {
  if (c.host.empty() || c.host.size() > 253 ||
      !std::all_of(c.host.begin(), c.host.end(), [](char ch) {
        return absl::ascii_isalnum(static_cast<unsigned char>(ch)) ||
               ch == '.' || ch == '-';
      })) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": the credential's host is not a host name"));
  }
  if (c.username.empty() || c.username.size() > kMaxCredentialFieldBytes ||
      !NetrcSafe(c.username)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": the user name for ", c.host,
        " must be 1..1024 printable characters without space, '\"', '\\' "
        "or '#'"));
  }
  if (c.password.size() > kMaxCredentialFieldBytes || !NetrcSafe(c.password)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": the password for ", c.host,
        " must be at most 1024 printable characters without space, '\"', "
        "'\\' or '#'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<SplitUrl> SplitUrlCredentials(absl::string_view field,
                                             absl::string_view url) {
  SplitUrl out;
  auto [start, end] = Authority(url);
  absl::string_view authority = url.substr(start, end - start);
  size_t at = authority.rfind('@');
  if (start == 0 || at == absl::string_view::npos) {
    out.url = std::string(url);
    return out;
  }
  absl::string_view userinfo = authority.substr(0, at);
  absl::string_view hostport = authority.substr(at + 1);
  out.url = absl::StrCat(url.substr(0, start), hostport, url.substr(end));
  size_t colon = userinfo.find(':');
  HostCredential c;
  c.host = UrlHost(out.url);
  absl::StatusOr<std::string> user =
      PercentDecode(field, "user name", userinfo.substr(0, colon));
  if (!user.ok()) return user.status();
  c.username = *std::move(user);
  if (colon != absl::string_view::npos) {
    absl::StatusOr<std::string> password =
        PercentDecode(field, "password", userinfo.substr(colon + 1));
    if (!password.ok()) return password.status();
    c.password = *std::move(password);
  }
  if (absl::Status s = ValidateCredential(field, c); !s.ok()) return s;
  out.credential = std::move(c);
  return out;
}

std::string UrlHost(absl::string_view url) {
  auto [start, end] = Authority(url);
  absl::string_view authority = url.substr(start, end - start);
  size_t at = authority.rfind('@');
  if (at != absl::string_view::npos) authority.remove_prefix(at + 1);
  authority = authority.substr(0, authority.find(':'));
  return absl::AsciiStrToLower(authority);
}

std::vector<HostCredential> CredentialsForUrl(
    absl::string_view url, const std::vector<HostCredential>& credentials) {
  std::vector<HostCredential> out;
  const std::string host = UrlHost(url);
  for (const HostCredential& c : credentials) {
    if (!host.empty() && absl::AsciiStrToLower(c.host) == host)
      out.push_back(c);
  }
  return out;
}

std::string RenderNetrc(const std::vector<HostCredential>& credentials) {
  std::string out;
  for (const HostCredential& c : credentials) {
    absl::StrAppend(&out, "machine ", c.host, " login ", c.username);
    if (!c.password.empty()) absl::StrAppend(&out, " password ", c.password);
    out.push_back('\n');
  }
  return out;
}

namespace {

// Every form of every password a text may hold: as given, and
// percent-encoded with lower and upper case hex (RFC 3986 prefers upper
// case; both are seen).
std::vector<std::string> SecretForms(
    const std::vector<HostCredential>& credentials) {
  std::vector<std::string> forms;
  for (const HostCredential& c : credentials) {
    if (c.password.empty()) continue;
    forms.push_back(c.password);
    std::string encoded = PercentEncode(c.password);
    if (encoded == c.password) continue;
    forms.push_back(encoded);
    std::string upper = encoded;
    for (size_t i = 0; i + 2 < upper.size(); ++i) {
      if (upper[i] != '%') continue;
      upper[i + 1] = absl::ascii_toupper(upper[i + 1]);
      upper[i + 2] = absl::ascii_toupper(upper[i + 2]);
    }
    if (upper != encoded) forms.push_back(upper);
  }
  return forms;
}

// Appends raw[*pos, cut) to `out` with every form replaced, where a form
// may start before `cut` and end after it (it must end within raw);
// advances *pos past what it consumed.
void RedactUpTo(const std::string& raw, size_t cut,
                const std::vector<std::string>& forms, size_t* pos,
                std::string* out) {
  size_t i = *pos;
  while (i < cut) {
    size_t best = std::string::npos, best_len = 0;
    for (const std::string& f : forms) {
      size_t at = raw.find(f, i);
      if (at >= cut) continue;
      if (at < best || (at == best && f.size() > best_len)) {
        best = at;
        best_len = f.size();
      }
    }
    if (best == std::string::npos) {
      out->append(raw, i, cut - i);
      i = cut;
      break;
    }
    out->append(raw, i, best - i);
    out->append("****");
    i = best + best_len;
  }
  *pos = i;
}

}  // namespace

std::string RedactSecrets(absl::string_view text,
                          const std::vector<HostCredential>& credentials) {
  const std::vector<std::string> forms = SecretForms(credentials);
  std::string raw(text), out;
  size_t pos = 0;
  RedactUpTo(raw, raw.size(), forms, &pos, &out);
  return out;
}

absl::Status RedactSecretsInFile(
    const std::string& path, const std::vector<HostCredential>& credentials) {
  const std::vector<std::string> forms = SecretForms(credentials);
  if (forms.empty()) return absl::OkStatus();
  size_t longest = 0;
  for (const std::string& f : forms) longest = std::max(longest, f.size());
  const std::string temp = path + ".redacting";
  auto fail = [&](const char* what) {
    absl::Status s = absl::InternalError(absl::StrCat(
        "redacting ", path, ": ", what, ": ", std::strerror(errno)));
    unlink(temp.c_str());
    return s;
  };
  int in = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (in < 0 && errno == ENOENT) return absl::OkStatus();  // nothing written
  if (in < 0) return fail("open");
  int out = open(temp.c_str(),
                 O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (out < 0) {
    close(in);
    return fail("create");
  }
  auto write_all = [&](const std::string& text) {
    size_t done = 0;
    while (done < text.size()) {
      ssize_t n = write(out, text.data() + done, text.size() - done);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  };
  std::string raw, redacted;
  std::vector<char> chunk(1 << 20);
  bool ok = true;
  for (;;) {
    ssize_t n = read(in, chunk.data(), chunk.size());
    if (n < 0) {
      ok = false;
      break;
    }
    raw.append(chunk.data(), static_cast<size_t>(n));
    // Keep back what could be the start of a form cut by this piece.
    const bool eof = n == 0;
    size_t cut =
        eof ? raw.size()
            : (raw.size() > longest - 1 ? raw.size() - (longest - 1) : 0);
    size_t pos = 0;
    redacted.clear();
    RedactUpTo(raw, cut, forms, &pos, &redacted);
    raw.erase(0, pos);
    if (!write_all(redacted)) {
      ok = false;
      break;
    }
    if (eof) break;
  }
  close(in);
  if (!ok || close(out) != 0) return fail("write");
  if (rename(temp.c_str(), path.c_str()) != 0) return fail("rename");
  return absl::OkStatus();
}

std::string CredentialsId(const std::vector<HostCredential>& credentials) {
  if (credentials.empty()) return "";
  std::vector<std::string> lines;
  for (const HostCredential& c : credentials)
    lines.push_back(
        absl::StrCat(absl::AsciiStrToLower(c.host), " ", c.username));
  std::sort(lines.begin(), lines.end());
  lines.erase(std::unique(lines.begin(), lines.end()), lines.end());
  return Sha256::HexOf(absl::StrJoin(lines, "\n"));
}

std::string WithoutUserinfo(absl::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return std::string(url);
  size_t start = scheme + 3;
  size_t end = url.find_first_of("/?#", start);
  if (end == std::string::npos) end = url.size();
  size_t at = url.rfind('@', end);
  if (at == std::string::npos || at < start) return std::string(url);
  return absl::StrCat(url.substr(0, start), url.substr(at + 1));
}

}  // namespace pbrx::common
