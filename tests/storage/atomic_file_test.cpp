#include "edgepoll/storage/atomic_file.hpp"

#include <gtest/gtest.h>

#include "store_fixture.hpp"

namespace edgepoll::storage {
namespace {

using testing::read_bytes;
using testing::TempDir;

TEST(AtomicFile, WritesAndReplacesWholeContent) {
  TempDir dir;
  const auto path = dir.file("config-cache.toml");
  ASSERT_TRUE(write_file_atomically(path, "version = 1\n").ok());
  EXPECT_EQ(read_bytes(path), "version = 1\n");
  ASSERT_TRUE(write_file_atomically(path, "v2").ok());
  EXPECT_EQ(read_bytes(path), "v2");
  // No temporary file is left behind.
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1u);
}

TEST(AtomicFile, FailureNamesThePathAndKeepsTheOldFile) {
  TempDir dir;
  const auto path = dir.file("missing-dir/cache.toml");
  auto s = write_file_atomically(path, "x");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("missing-dir"), std::string::npos) << s.error().message;
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace edgepoll::storage
