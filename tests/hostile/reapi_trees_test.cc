// Hostile REAPI input roots: Directory trees any REAPI client (Bazel, or
// anyone who can reach the farm) uploads, staged by the executor's real
// staging code (cache/directory_tree) into a work directory beside a canary.
// Each case asserts the exact outcome and that nothing outside the work
// directory changed.
#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "cache/blob_store.h"
#include "cache/in_memory_blob_store.h"
#include "cache/directory_tree.h"
#include "gtest/gtest.h"
#include "tests/hostile/host_canary.h"

namespace pbrx::hostile {
namespace {

namespace re = build::bazel::remote::execution::v2;
using common::Digest;

// Builds trees into a CAS: files by content, directories by message.
class TreeBuilder {
 public:
  explicit TreeBuilder(cache::BlobStore& cas) : cas_(cas) {}
  re::Digest File(const std::string& content) {
    return cache::WriteBlob(cas_, content)->ToProto();
  }
  re::Digest Dir(const re::Directory& d) {
    return cache::WriteBlob(cas_, d.SerializeAsString())->ToProto();
  }
  static void AddFile(re::Directory* d, const std::string& name,
                      const re::Digest& digest, bool executable = false) {
    auto* f = d->add_files();
    f->set_name(name);
    *f->mutable_digest() = digest;
    f->set_is_executable(executable);
  }
  static void AddDir(re::Directory* d, const std::string& name,
                     const re::Digest& digest) {
    auto* n = d->add_directories();
    n->set_name(name);
    *n->mutable_digest() = digest;
  }
  static void AddLink(re::Directory* d, const std::string& name,
                      const std::string& target) {
    auto* l = d->add_symlinks();
    l->set_name(name);
    l->set_target(target);
  }

 private:
  cache::BlobStore& cas_;
};

struct TreeCase {
  std::string name;
  // Builds the tree; returns the root digest.
  std::function<Digest(TreeBuilder&, cache::BlobStore&)> make;
  std::string outcome;
};
void PrintTo(const TreeCase& c, std::ostream* os) { *os << c.name; }

class HostileTreeTest : public ::testing::TestWithParam<TreeCase> {};

TEST_P(HostileTreeTest, RefusedOrConfinedAndTheHostIsUntouched) {
  HostCanary canary;
  cache::InMemoryBlobStore cas;
  TreeBuilder b(cas);
  Digest root = GetParam().make(b, cas);
  absl::Status s = cache::StageDirectory(root, cas, canary.root());
  std::string outcome =
      s.ok()
          ? "ok" + UnsafeModes(canary.root(), /*count_symlinks=*/false)
          : absl::StrCat(absl::StatusCodeToString(s.code()), ": ", s.message());
  outcome = absl::StrReplaceAll(outcome, {{canary.dir(), "{dir}"}});
  if (std::getenv("HOSTILE_DISCOVER") != nullptr)
    std::printf("ACTUAL %s|%s\n", GetParam().name.c_str(), outcome.c_str());
  EXPECT_EQ(outcome, GetParam().outcome);
  EXPECT_TRUE(canary.Untouched());
}

Digest RootOf(TreeBuilder& b, const re::Directory& d) {
  return *Digest::FromProto(b.Dir(d));
}

std::vector<TreeCase> Cases() {
  using C = TreeCase;
  auto one_file = [](std::string name) {
    return [name](TreeBuilder& b, cache::BlobStore&) {
      re::Directory d;
      TreeBuilder::AddFile(&d, name, b.File("x"));
      return RootOf(b, d);
    };
  };
  auto one_link = [](std::string name, std::string target) {
    return [name, target](TreeBuilder& b, cache::BlobStore&) {
      re::Directory d;
      TreeBuilder::AddLink(&d, name, target);
      return RootOf(b, d);
    };
  };
  return {
      C{"Good",
        [](TreeBuilder& b, cache::BlobStore&) {
          re::Directory sub, d;
          TreeBuilder::AddFile(&sub, "b", b.File("bee"), true);
          TreeBuilder::AddFile(&d, "a", b.File("a"));
          TreeBuilder::AddDir(&d, "sub", b.Dir(sub));
          TreeBuilder::AddLink(&d, "l", "sub/b");
          return RootOf(b, d);
        },
        "ok"},
      C{"FileNamedDotDot", one_file(".."),
        "INVALID_ARGUMENT: unsafe file name '..'"},
      C{"FileNamedDot", one_file("."),
        "INVALID_ARGUMENT: unsafe file name '.'"},
      C{"FileNameWithSlash", one_file("../../canary/secret"),
        "INVALID_ARGUMENT: unsafe file name '../../canary/secret'"},
      C{"FileNameAbsolute", one_file("/etc/pbrx-hostile"),
        "INVALID_ARGUMENT: unsafe file name '/etc/pbrx-hostile'"},
      C{"FileNameEmpty", one_file(""), "INVALID_ARGUMENT: unsafe file name ''"},
      C{"FileNameWithNul", one_file(std::string("a\0b", 3)),
        "INVALID_ARGUMENT: unsafe file name 'a\\x00\\x62'"},
      C{"FileNameTooLong", one_file(std::string(300, 'n')),
        "INVALID_ARGUMENT: unsafe file name "
        "'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
        "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
        "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
        "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
        "nnnnnnnnnnnnnnnnnnnnn'"},
      C{"PathTooLong",
        [](TreeBuilder& b, cache::BlobStore&) {
          re::Digest child = b.Dir(re::Directory());
          for (int i = 0; i < 20; ++i) {
            re::Directory d;
            TreeBuilder::AddDir(&d, std::string(200, 'p'), child);
            child = b.Dir(d);
          }
          return *Digest::FromProto(child);
        },
        "INVALID_ARGUMENT: input path "
        "'ppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp"
        "ppppppppppppppppppppppppppppppp.../"
        "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp"
        "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp"
        "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp' is "
        "longer than 3000 bytes"},
      C{"DirNamedDotDot",
        [](TreeBuilder& b, cache::BlobStore&) {
          re::Directory sub, d;
          TreeBuilder::AddFile(&sub, "pbrx-hostile", b.File("x"));
          TreeBuilder::AddDir(&d, "..", b.Dir(sub));
          return RootOf(b, d);
        },
        "INVALID_ARGUMENT: unsafe directory name '..'"},
      C{"SymlinkAbsolute", one_link("l", "/etc/passwd"),
        "INVALID_ARGUMENT: symlink 'l' -> '/etc/passwd' is unsafe (absolute or "
        "leaves the tree)"},
      C{"SymlinkClimbsOut", one_link("l", "../canary/secret"),
        "INVALID_ARGUMENT: symlink 'l' -> '../canary/secret' is unsafe "
        "(absolute or leaves the tree)"},
      C{"SymlinkNamedDotDot", one_link("..", "x"),
        "INVALID_ARGUMENT: unsafe symlink name '..'"},
      C{"SymlinkChainEscapes",
        [](TreeBuilder& b, cache::BlobStore&) {
          re::Directory a, d;
          TreeBuilder::AddLink(&a, "up", "..");
          TreeBuilder::AddDir(&d, "a", b.Dir(a));
          TreeBuilder::AddLink(&d, "esc", "a/up/..");
          return RootOf(b, d);
        },
        "INVALID_ARGUMENT: symlink 'esc' leaves the tree when followed "
        "(through 'a/up')"},
      C{"SymlinkLoopInside",
        [](TreeBuilder& b, cache::BlobStore&) {
          re::Directory d;
          TreeBuilder::AddLink(&d, "x", "y");
          TreeBuilder::AddLink(&d, "y", "x");
          return RootOf(b, d);
        },
        "INVALID_ARGUMENT: symlink 'x' leaves the tree when followed (through "
        "'x')"},
      C{"SymlinkThenFileThroughIt",
        [](TreeBuilder& b, cache::BlobStore&) {
          re::Directory sub, d;
          TreeBuilder::AddFile(&sub, "pbrx-hostile", b.File("x"));
          TreeBuilder::AddDir(&d, "etc", b.Dir(sub));
          TreeBuilder::AddLink(&d, "etc", "/etc");
          return RootOf(b, d);
        },
        "INVALID_ARGUMENT: name 'etc' appears twice in the input root"},
      C{"FileAndDirectorySameName",
        [](TreeBuilder& b, cache::BlobStore&) {
          re::Directory sub, d;
          TreeBuilder::AddDir(&d, "x", b.Dir(sub));
          TreeBuilder::AddFile(&d, "x", b.File("x"));
          return RootOf(b, d);
        },
        "INVALID_ARGUMENT: name 'x' appears twice in the input root"},
      C{"MissingFileBlob",
        [](TreeBuilder& b, cache::BlobStore&) {
          re::Directory d;
          TreeBuilder::AddFile(&d, "x", Digest::Of("never uploaded").ToProto());
          return RootOf(b, d);
        },
        "FAILED_PRECONDITION: staging the input root: 1 blob(s) missing from "
        "the CAS: "
        "6c12e0672dc85c33136cb2d0eb0b8f531503fb7a050575f42507f0529e215497/14"},
      C{"DirectoryDigestSizeLies",
        [](TreeBuilder& b, cache::BlobStore&) {
          re::Directory sub, d;
          TreeBuilder::AddFile(&sub, "f", b.File("x"));
          re::Digest dd = b.Dir(sub);
          dd.set_size_bytes(dd.size_bytes() + 100);
          TreeBuilder::AddDir(&d, "sub", dd);
          return RootOf(b, d);
        },
        "FAILED_PRECONDITION: reading the input directory: 1 blob(s) missing "
        "from the CAS: "
        "0d423f10af9adc1f16ebfc16921bce09e40d6506db29f2f1b248deb485b39f88/175"},
      C{"DirectoryNotAMessage",
        [](TreeBuilder& b, cache::BlobStore&) {
          re::Directory d;
          TreeBuilder::AddDir(&d, "sub", b.File("\xff\xff\xff garbage"));
          return RootOf(b, d);
        },
        "INVALID_ARGUMENT: input directory "
        "26388426fd83c0a1d1de00c559d369938bad243e47702dd2bfcd6b8ef3c58c9d/11 "
        "does not parse"},
      C{"DeepNesting",
        [](TreeBuilder& b, cache::BlobStore&) {
          re::Digest child = b.Dir(re::Directory());
          for (int i = 0; i < 20000; ++i) {
            re::Directory d;
            TreeBuilder::AddDir(&d, "d", child);
            child = b.Dir(d);
          }
          return *Digest::FromProto(child);
        },
        "INVALID_ARGUMENT: input tree deeper than 256 directories"},
      C{"HugeClaimedFileSize",
        [](TreeBuilder& b, cache::BlobStore&) {
          re::Directory d;
          re::Digest f = b.File("x");
          f.set_size_bytes(int64_t{1} << 50);
          TreeBuilder::AddFile(&d, "x", f);
          return RootOf(b, d);
        },
        "FAILED_PRECONDITION: staging the input root: 1 blob(s) missing from "
        "the CAS: "
        "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881/"
        "1125899906842624"},
      C{"SetuidModeProperty",
        [](TreeBuilder& b, cache::BlobStore&) {
          re::Directory d;
          TreeBuilder::AddFile(&d, "x", b.File("#!/bin/sh\n"), true);
          d.mutable_files(0)
              ->mutable_node_properties()
              ->mutable_unix_mode()
              ->set_value(04777);
          return RootOf(b, d);
        },
        "ok"},
  };
}

INSTANTIATE_TEST_SUITE_P(Trees, HostileTreeTest, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace pbrx::hostile
