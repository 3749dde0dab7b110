// The ActionCache contract, run against every implementation.
#include <functional>
#include <memory>

#include "cache/action_cache.h"
#include "cache/in_memory_action_cache.h"
#include "cache/rocksdb_action_cache.h"
#include "cache/rocksdb_storage.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::cache {
namespace {

using ::testing::HasSubstr;

struct CacheUnderTest {
  virtual ~CacheUnderTest() = default;
  virtual ActionCache& cache() = 0;
};

struct InMemoryUnderTest : CacheUnderTest {
  InMemoryActionCache impl;
  ActionCache& cache() override { return impl; }
};

struct RocksDbUnderTest : CacheUnderTest {
  std::unique_ptr<RocksDbStorage> storage;
  std::unique_ptr<RocksDbActionCache> impl;
  RocksDbUnderTest() {
    RocksDbStorageOptions so;
    so.path = testing_util::NewTempDir("ac");
    storage = std::move(RocksDbStorage::Open(so)).value();
    impl = std::make_unique<RocksDbActionCache>(storage.get());
  }
  ActionCache& cache() override { return *impl; }
};

using Factory = std::function<std::unique_ptr<CacheUnderTest>()>;

class ActionCacheContractTest
    : public ::testing::TestWithParam<std::pair<std::string, Factory>> {
 protected:
  void SetUp() override { sut_ = GetParam().second(); }
  ActionCache& cache() { return sut_->cache(); }
  std::unique_ptr<CacheUnderTest> sut_;
};

ActionResult ResultWithExitCode(int code) {
  ActionResult r;
  r.set_exit_code(code);
  auto* f = r.add_output_files();
  f->set_path("out/a.o");
  *f->mutable_digest() = common::Digest::Of("object").ToProto();
  return r;
}

TEST_P(ActionCacheContractTest, MissIsNotFound) {
  common::Digest action = common::Digest::Of("action");
  auto r = cache().Get(action);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(action.ToString()));
}

TEST_P(ActionCacheContractTest, UpdateThenGetAndReplace) {
  common::Digest action = common::Digest::Of("action");
  ASSERT_TRUE(cache().Update(action, ResultWithExitCode(3)).ok());
  auto r = cache().Get(action);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code(), 3);
  EXPECT_EQ(r->output_files(0).path(), "out/a.o");
  ASSERT_TRUE(cache().Update(action, ResultWithExitCode(0)).ok());
  EXPECT_EQ(cache().Get(action)->exit_code(), 0);
}

TEST_P(ActionCacheContractTest, RemoveForgets) {
  common::Digest action = common::Digest::Of("action");
  ASSERT_TRUE(cache().Update(action, ResultWithExitCode(0)).ok());
  ASSERT_TRUE(cache().Remove(action).ok());
  EXPECT_EQ(cache().Get(action).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(cache().Remove(action).ok());
}

TEST_P(ActionCacheContractTest, KeysAreDistinctBySize) {
  auto a = common::Digest::Create(common::Digest::Of("x").hash(), 1);
  auto b = common::Digest::Create(common::Digest::Of("x").hash(), 2);
  ASSERT_TRUE(cache().Update(*a, ResultWithExitCode(1)).ok());
  EXPECT_EQ(cache().Get(*b).status().code(), absl::StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(
    AllCaches, ActionCacheContractTest,
    ::testing::Values(
        std::make_pair(std::string("InMemory"), Factory([] {
                         return std::make_unique<InMemoryUnderTest>();
                       })),
        std::make_pair(std::string("RocksDb"), Factory([] {
                         return std::make_unique<RocksDbUnderTest>();
                       }))),
    [](const auto& info) { return info.param.first; });

}  // namespace
}  // namespace pbrx::cache
