#include "common/oci/image_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/json_struct.h"
#include "common/json_writer.h"
#include "common/oci/image_layout.h"
#include "common/oci/layout_reader.h"
#include "common/project/source_tree.h"
#include "common/sha256.h"
#include "common/status_macros.h"

namespace pbrx::common::oci {
namespace {

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::InternalError(
      absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

// One tar being written: entries are added in the order given.
class TarFile {
 public:
  TarFile(std::string path, int64_t mtime)
      : path_(std::move(path)), mtime_(mtime) {}

  absl::Status Open() {
    a_.reset(archive_write_new());
    if (archive_write_set_format_pax_restricted(a_.get()) != ARCHIVE_OK ||
        archive_write_open_filename(a_.get(), path_.c_str()) != ARCHIVE_OK) {
      return Error("cannot create");
    }
    return absl::OkStatus();
  }

  absl::Status AddBytes(const std::string& name, absl::string_view bytes) {
    RETURN_IF_ERROR(Header(name, static_cast<int64_t>(bytes.size())));
    return Data(bytes);
  }

  // The regular file at `path` (never through a symlink).
  absl::Status AddFile(const std::string& name, const std::string& path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return Errno("cannot open", path);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      close(fd);
      return absl::InvalidArgumentError(
          absl::StrCat(path, " is not a regular file"));
    }
    absl::Status s = Header(name, st.st_size);
    std::vector<char> buf(1 << 20);
    int64_t left = st.st_size;
    while (s.ok() && left > 0) {
      ssize_t n = read(fd, buf.data(), buf.size());
      if (n <= 0) {
        s = n < 0 ? Errno("cannot read", path)
                  : absl::DataLossError(absl::StrCat(path, " shrank"));
        break;
      }
      n = std::min<int64_t>(n, left);
      left -= n;
      s = Data(absl::string_view(buf.data(), static_cast<size_t>(n)));
    }
    close(fd);
    return s;
  }

  absl::Status AddDir(const std::string& name) {
    std::unique_ptr<archive_entry, EntryDeleter> e(archive_entry_new());
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), AE_IFDIR);
    archive_entry_set_perm(e.get(), 0755);
    archive_entry_set_mtime(e.get(), mtime_, 0);
    if (archive_write_header(a_.get(), e.get()) != ARCHIVE_OK)
      return Error("cannot write to");
    return absl::OkStatus();
  }

  absl::Status Close() {
    if (archive_write_close(a_.get()) != ARCHIVE_OK)
      return Error("cannot finish");
    a_.reset();
    return absl::OkStatus();
  }

 private:
  absl::Status Header(const std::string& name, int64_t size) {
    std::unique_ptr<archive_entry, EntryDeleter> e(archive_entry_new());
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0644);
    archive_entry_set_size(e.get(), size);
    archive_entry_set_mtime(e.get(), mtime_, 0);
    if (archive_write_header(a_.get(), e.get()) != ARCHIVE_OK)
      return Error("cannot write to");
    return absl::OkStatus();
  }
  absl::Status Data(absl::string_view bytes) {
    if (bytes.empty()) return absl::OkStatus();
    if (archive_write_data(a_.get(), bytes.data(), bytes.size()) !=
        static_cast<la_ssize_t>(bytes.size())) {
      return Error("cannot write to");
    }
    return absl::OkStatus();
  }
  absl::Status Error(absl::string_view what) {
    return absl::InternalError(absl::StrCat(what, " ", path_, ": ",
                                            archive_error_string(a_.get())
                                                ? archive_error_string(a_.get())
                                                : "libarchive error"));
  }

  std::string path_;
  int64_t mtime_;
  std::unique_ptr<archive, ArchiveDeleter> a_;
};

// Inflates the gzip layer `in` into `out`, checked against `diff_id`.
absl::Status InflateLayer(const std::string& in, const std::string& out,
                          const Digest& diff_id) {
  gzFile gz = gzopen(in.c_str(), "rb");
  if (gz == nullptr) return Errno("cannot open", in);
  int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    gzclose(gz);
    return Errno("cannot create", out);
  }
  Sha256 sha;
  std::vector<char> buf(1 << 20);
  absl::Status s;
  for (;;) {
    int n = gzread(gz, buf.data(), static_cast<unsigned>(buf.size()));
    if (n < 0) {
      s = absl::DataLossError(absl::StrCat(in, " is not valid gzip"));
      break;
    }
    if (n == 0) break;
    sha.Update(absl::string_view(buf.data(), static_cast<size_t>(n)));
    if (write(fd, buf.data(), static_cast<size_t>(n)) != n) {
      s = Errno("cannot write", out);
      break;
    }
  }
  gzclose(gz);
  if (close(fd) != 0 && s.ok()) s = Errno("cannot write", out);
  RETURN_IF_ERROR(s);
  if (sha.FinishHex() != diff_id.hash()) {
    return absl::DataLossError(absl::StrCat(
        in, " does not inflate to its diff_id sha256:", diff_id.hash()));
  }
  return absl::OkStatus();
}

// The refs of the layout's images and the manifest each names.
absl::StatusOr<std::map<std::string, std::vector<std::string>>> RefsByManifest(
    const std::string& dir, std::vector<std::string>* order) {
  ASSIGN_OR_RETURN(std::string text,
                   project::DirSourceTree(dir).ReadFile("index.json", 4 << 20));
  ASSIGN_OR_RETURN(google::protobuf::Struct index,
                   ParseJsonStruct(text, dir + "/index.json"));
  std::map<std::string, std::vector<std::string>> refs;
  auto it = index.fields().find("manifests");
  if (it == index.fields().end()) return refs;
  for (const auto& v : it->second.list_value().values()) {
    const google::protobuf::Struct& m = v.struct_value();
    std::string ref;
    if (const google::protobuf::Struct* a = Obj(m, "annotations"))
      ref = Str(*a, "org.opencontainers.image.ref.name");
    if (ref.empty()) continue;
    const std::string digest = Str(m, "digest");
    if (refs.count(digest) == 0) order->push_back(digest);
    refs[digest].push_back(ref);
  }
  return refs;
}

using RefMap = std::map<std::string, std::vector<std::string>>;

absl::Status WriteOci(const std::string& dir,
                      const std::vector<std::string>& order, RefMap& refs,
                      TarFile& tar) {
  RETURN_IF_ERROR(tar.AddFile("oci-layout", dir + "/oci-layout"));
  RETURN_IF_ERROR(tar.AddFile("index.json", dir + "/index.json"));
  RETURN_IF_ERROR(tar.AddDir("blobs/"));
  RETURN_IF_ERROR(tar.AddDir("blobs/sha256/"));
  // Every blob an image of the index needs, sorted.
  std::set<std::string> blobs;
  OciReadOptions ro;
  ro.verify_layers = false;
  ro.any_platform = true;
  for (const std::string& digest : order) {
    ASSIGN_OR_RETURN(OciImage image, ReadOciImage(dir, refs[digest][0], ro));
    blobs.insert(image.manifest.hash());
    blobs.insert(image.config.hash());
    for (const OciImageLayer& l : image.layers) blobs.insert(l.digest.hash());
    // Its SBOM and provenance, which index.json lists.
    ASSIGN_OR_RETURN(std::vector<Referrer> referrers,
                     LayoutReferrers(dir, image.manifest));
    for (const Referrer& r : referrers) {
      const std::string what =
          absl::StrCat(dir, ": artifact manifest ", DigestString(r.manifest));
      ASSIGN_OR_RETURN(google::protobuf::Struct m,
                       ParseJsonStruct(r.manifest_json, what));
      ASSIGN_OR_RETURN(ManifestBlobs named, ParseManifestBlobs(m, what));
      blobs.insert(r.manifest.hash());
      blobs.insert(named.config.hash());
      for (const Digest& l : named.layers) blobs.insert(l.hash());
    }
  }
  for (const std::string& hex : blobs) {
    RETURN_IF_ERROR(
        tar.AddFile("blobs/sha256/" + hex, dir + "/blobs/sha256/" + hex));
  }
  return absl::OkStatus();
}

absl::Status WriteDocker(const std::string& dir,
                         const std::vector<std::string>& order, RefMap& refs,
                         const std::string& scratch, TarFile& tar) {
  OciReadOptions ro;
  ro.verify_layers = false;
  ro.any_platform = true;
  JsonWriter manifest(/*pretty=*/false);
  manifest.BeginArray();
  std::set<std::string> written;
  RETURN_IF_ERROR(tar.AddDir("blobs/"));
  RETURN_IF_ERROR(tar.AddDir("blobs/sha256/"));
  for (const std::string& digest : order) {
    ASSIGN_OR_RETURN(OciImage image, ReadOciImage(dir, refs[digest][0], ro));
    const std::string config = "blobs/sha256/" + image.config.hash();
    if (written.insert(config).second)
      RETURN_IF_ERROR(tar.AddBytes(config, image.config_json));
    std::vector<std::string> layers;
    for (const OciImageLayer& l : image.layers) {
      const std::string name = "blobs/sha256/" + l.diff_id.hash();
      layers.push_back(name);
      if (!written.insert(name).second) continue;
      if (absl::EndsWith(l.media_type, "gzip")) {
        absl::Status s = InflateLayer(l.path, scratch, l.diff_id);
        if (s.ok()) s = tar.AddFile(name, scratch);
        unlink(scratch.c_str());
        RETURN_IF_ERROR(s);
      } else {
        RETURN_IF_ERROR(tar.AddFile(name, l.path));
      }
    }
    manifest.BeginObject();
    manifest.Key("Config").String(config);
    manifest.Key("RepoTags").StringArray(refs[digest]);
    manifest.Key("Layers").StringArray(layers);
    manifest.EndObject();
  }
  manifest.EndArray();
  return tar.AddBytes("manifest.json", manifest.str());
}

}  // namespace

absl::Status WriteImageArchive(const std::string& layout_dir,
                               ArchiveFormat format, const std::string& file,
                               int64_t mtime) {
  std::vector<std::string> order;
  ASSIGN_OR_RETURN(RefMap refs, RefsByManifest(layout_dir, &order));
  if (order.empty()) {
    return absl::NotFoundError(
        absl::StrCat("the layout ", layout_dir, " holds no image"));
  }
  const std::string tmp = absl::StrCat(file, ".pbrx-tmp-", getpid());
  const std::string scratch = tmp + "-layer";
  TarFile tar(tmp, mtime);
  absl::Status s = tar.Open();
  if (s.ok()) {
    s = format == ArchiveFormat::kOci
            ? WriteOci(layout_dir, order, refs, tar)
            : WriteDocker(layout_dir, order, refs, scratch, tar);
  }
  if (s.ok()) s = tar.Close();
  if (s.ok() && rename(tmp.c_str(), file.c_str()) != 0)
    s = Errno("cannot rename to", file);
  if (!s.ok()) unlink(tmp.c_str());
  return s;
}

}  // namespace pbrx::common::oci
