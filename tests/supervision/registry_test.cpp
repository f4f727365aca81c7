#include <gtest/gtest.h>

#include "test_support.hpp"

namespace edgepoll::supervision {
namespace {
using namespace testing;

TEST(Registry, DeadProcessesLeaveNamesAndGroupsByThemselves) {
  TestNode node;
  Pid a = node.runtime.spawn(std::make_shared<TestWorker>(), "a").value();
  Pid b = node.runtime.spawn(std::make_shared<TestWorker>(), "b").value();
  auto& reg = node.runtime.registry();
  ASSERT_TRUE(reg.register_name("storage", a).ok());
  reg.join("pollers", a);
  reg.join("pollers", b);
  EXPECT_EQ(reg.register_name("storage", b).error().code, "supervision.name_taken");

  node.kill(a);
  // Nobody cleaned up by hand (seed 004): the name and membership are gone.
  EXPECT_FALSE(reg.whereis("storage").has_value());
  EXPECT_EQ(reg.members("pollers"), std::vector<Pid>{b});
  EXPECT_TRUE(reg.register_name("storage", b).ok());
  EXPECT_EQ(reg.whereis("storage").value(), b);
}

TEST(Registry, ADeadProcessCannotRegister) {
  TestNode node;
  Pid a = node.runtime.spawn(std::make_shared<TestWorker>(), "a").value();
  node.kill(a);
  EXPECT_EQ(node.runtime.registry().register_name("x", a).error().code, "supervision.noproc");
}

}  // namespace
}  // namespace edgepoll::supervision
