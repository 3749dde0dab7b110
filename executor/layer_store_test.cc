#include "executor/layer_store.h"

#include <sys/stat.h>

#include <fstream>

#include "cache/in_memory_blob_store.h"
#include "common/oci/layer.h"
#include "cache/directory_tree.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::executor {
namespace {

using common::Digest;

bool Exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

class LayerStoreTest : public ::testing::Test {
 protected:
  // A layer holding one file of `size` bytes (content differs per name).
  Digest MakeLayer(const std::string& name, size_t size) {
    std::string root = testing_util::NewTempDir("layer-src");
    std::string content(size, '\0');
    for (size_t i = 0; i < size; ++i)
      content[i] =
          static_cast<char>((i * 131 + name.size() * 7 + name[0]) % 251);
    std::ofstream(root + "/" + name, std::ios::binary) << content;
    std::string out = testing_util::NewTempDir("layer-out") + "/layer.tar.gz";
    auto layer = common::oci::WriteLayer(root, out, {});
    EXPECT_TRUE(layer.ok()) << layer.status();
    auto d = cache::UploadFile(out, cas_);
    EXPECT_TRUE(d.ok());
    return *d;
  }
  cache::InMemoryBlobStore cas_;
};

TEST_F(LayerStoreTest, EvictsLeastRecentlyUsedButNeverPinned) {
  Digest a = MakeLayer("a", 200 << 10), b = MakeLayer("b", 200 << 10),
         c = MakeLayer("c", 200 << 10);
  std::string dir = testing_util::NewTempDir("layers");
  // Room for about two layers.
  auto store = LayerStore::Create(dir, &cas_, 450 << 10);
  ASSERT_TRUE(store.ok());
  auto pins = std::make_unique<LayerPins>(store->get());
  auto pa = (*store)->Get(a, pins.get());  // pinned: a running action's
  ASSERT_TRUE(pa.ok()) << pa.status();
  auto pb = (*store)->Get(b);
  ASSERT_TRUE(pb.ok());
  EXPECT_TRUE(Exists(*pa + "/a"));
  EXPECT_TRUE(Exists(*pb + "/b"));
  auto pc = (*store)->Get(c);  // over the bound: b (unpinned, older) goes
  ASSERT_TRUE(pc.ok());
  EXPECT_TRUE(Exists(*pa + "/a"));
  EXPECT_FALSE(Exists(*pb));
  EXPECT_TRUE(Exists(*pc + "/c"));
  EXPECT_EQ((*store)->Stats().evictions, 1);
  EXPECT_LE((*store)->Stats().bytes, 450 << 10);
  // Unpinned, a is the least recently used: asking for b again evicts a.
  pins.reset();
  pb = (*store)->Get(b);
  ASSERT_TRUE(pb.ok());
  EXPECT_TRUE(Exists(*pb + "/b"));
  EXPECT_FALSE(Exists(*pa));
  EXPECT_TRUE(Exists(*pc + "/c"));
  EXPECT_EQ((*store)->Stats().evictions, 2);
}

TEST_F(LayerStoreTest, AllPinnedGoesOverTheBoundRatherThanBreakingAnAction) {
  Digest a = MakeLayer("a", 200 << 10), b = MakeLayer("b", 200 << 10);
  auto store =
      LayerStore::Create(testing_util::NewTempDir("layers"), &cas_, 100 << 10);
  ASSERT_TRUE(store.ok());
  LayerPins pins(store->get());
  auto pa = (*store)->Get(a, &pins);
  auto pb = (*store)->Get(b, &pins);
  ASSERT_TRUE(pa.ok() && pb.ok());
  EXPECT_TRUE(Exists(*pa + "/a"));
  EXPECT_TRUE(Exists(*pb + "/b"));
  EXPECT_EQ((*store)->Stats().layers, 2);
}

TEST_F(LayerStoreTest, ARestartFindsExtractedLayersAndDropsPartialOnes) {
  Digest a = MakeLayer("a", 50 << 10);
  std::string dir = testing_util::NewTempDir("layers");
  {
    auto store = LayerStore::Create(dir, &cas_);
    ASSERT_TRUE((*store)->Get(a).ok());
  }
  mkdir((dir + "/" + std::string(64, 'f') + ".tmp").c_str(), 0755);
  auto again = LayerStore::Create(dir, &cas_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->Stats().layers, 1);
  EXPECT_GT((*again)->Stats().bytes, 50 << 10);
  EXPECT_FALSE(Exists(dir + "/" + std::string(64, 'f') + ".tmp"));
}

TEST_F(LayerStoreTest, ARestartWithOtherSandboxIdsExtractsAgain) {
  // Layers hold owners shifted into one id range; a store started for
  // another range must not hand them out.
  Digest a = MakeLayer("a", 10 << 10);
  std::string dir = testing_util::NewTempDir("layers");
  std::string first;
  {
    auto store = LayerStore::Create(dir, &cas_);
    ASSERT_TRUE(store.ok()) << store.status();
    first = (*store)->Get(a).value();
  }
  EXPECT_EQ(testing_util::ReadFile(dir + "/ids"), "2147483648:65536\n");
  struct stat st;
  ASSERT_EQ(lstat((first + "/a").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 2147483648u);
  LayerLimits other;
  other.ids = ParseSandboxIds("3000000000:65536").value();
  auto again = LayerStore::Create(dir, &cas_, 0, other);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->Stats().layers, 0);
  EXPECT_FALSE(Exists(first));
  EXPECT_EQ(testing_util::ReadFile(dir + "/ids"), "3000000000:65536\n");
  std::string path = (*again)->Get(a).value();
  ASSERT_EQ(lstat((path + "/a").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 3000000000u);
}

TEST_F(LayerStoreTest, StubsGiveEveryRootfsAResolvConfOfTheRangesRoot) {
  // A base without /etc/resolv.conf (pbrx's own Debian base) still gets the
  // sandbox's resolver bound there: the lowest layer holds an empty one.
  std::string dir = testing_util::NewTempDir("layers");
  struct stat st;
  {
    auto store = LayerStore::Create(dir, &cas_);
    ASSERT_TRUE(store.ok()) << store.status();
    auto stubs = (*store)->Stubs();
    ASSERT_TRUE(stubs.ok()) << stubs.status();
    EXPECT_EQ(*stubs, dir + "/stubs");
    ASSERT_EQ(lstat((*stubs + "/etc/resolv.conf").c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_size, 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
    EXPECT_EQ(st.st_uid, 2147483648u);
    ASSERT_EQ(lstat((*stubs + "/etc").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 2147483648u);
  }
  // Another range: the stubs are given to its root.
  LayerLimits other;
  other.ids = ParseSandboxIds("3000000000:65536").value();
  auto again = LayerStore::Create(dir, &cas_, 0, other);
  ASSERT_TRUE(again.ok()) << again.status();
  std::string stubs = (*again)->Stubs().value();
  ASSERT_EQ(lstat((stubs + "/etc/resolv.conf").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 3000000000u);
  ASSERT_EQ(lstat((stubs + "/etc").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 3000000000u);
}

}  // namespace
}  // namespace pbrx::executor
