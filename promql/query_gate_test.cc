#include "promql/query_gate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace kiln::promql {
namespace {

using namespace std::chrono_literals;

QueryGate::Clock::time_point In(std::chrono::milliseconds d) { return QueryGate::Clock::now() + d; }

// Spins (briefly sleeping) until `pred` holds; tests fail by timeout otherwise.
template <typename Pred>
void WaitFor(Pred pred) {
  while (!pred()) std::this_thread::sleep_for(1ms);
}

TEST(QueryGateTest, ExcessQueryWaitsUntilItsDeadline) {
  QueryGate gate(2);
  auto a = gate.Acquire(In(1s));
  auto b = gate.Acquire(In(1s));
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(gate.active(), 2);
  EXPECT_FALSE(gate.Acquire(In(30ms)).has_value());
  EXPECT_EQ(gate.waiting(), 0);
  EXPECT_EQ(gate.active(), 2);
}

TEST(QueryGateTest, ReleasedSlotGoesToTheOldestWaiter) {
  QueryGate gate(1);
  std::optional<QueryGate::Slot> held = gate.Acquire(In(1s));
  ASSERT_TRUE(held.has_value());
  std::mutex mu;
  std::vector<char> order;
  auto run = [&](char name) {
    auto slot = gate.Acquire(In(60s));
    ASSERT_TRUE(slot.has_value());
    std::lock_guard<std::mutex> l(mu);
    order.push_back(name);
  };
  std::thread first(run, 'a');
  WaitFor([&] { return gate.waiting() == 1; });
  std::thread second(run, 'b');
  WaitFor([&] { return gate.waiting() == 2; });
  held.reset();
  first.join();
  second.join();
  EXPECT_EQ(order, (std::vector<char>{'a', 'b'}));
  EXPECT_EQ(gate.active(), 0);
}

TEST(QueryGateTest, TimedOutWaiterDoesNotBlockTheNextOne) {
  QueryGate gate(1);
  std::optional<QueryGate::Slot> held = gate.Acquire(In(1s));
  // The case needs the second waiter queued behind the first before the first times out.
  // A descheduled test thread can miss that window on a loaded machine, so the first
  // waiter's deadline doubles until the window was hit; the test never depends on speed.
  bool exercised = false;
  for (auto first_wait = 20ms; !exercised; first_wait *= 2) {
    ASSERT_LE(first_wait, 100s) << "the second waiter never queued behind the first";
    std::atomic<bool> first_done{false};
    bool first_got = true;
    std::thread first([&] {
      first_got = gate.Acquire(In(first_wait)).has_value();
      first_done = true;
    });
    WaitFor([&] { return gate.waiting() == 1 || first_done; });
    bool second_got = false;
    std::thread second([&] { second_got = gate.Acquire(In(60s)).has_value(); });
    // Both queued at once: the first one has not left yet, so it times out ahead of the
    // second.
    WaitFor([&] { return gate.waiting() == 2 || first_done; });
    exercised = gate.waiting() == 2 && !first_done;
    first.join();
    EXPECT_FALSE(first_got);
    // The timed-out waiter left the queue (the second one is alone in it when it queued in
    // time) and must not keep the second from the slot once the slot frees.
    if (exercised) EXPECT_EQ(gate.waiting(), 1);
    held.reset();
    second.join();
    EXPECT_TRUE(second_got);
    EXPECT_EQ(gate.waiting(), 0);
    if (!exercised) held = gate.Acquire(In(1s));  // for the next round
  }
}

TEST(QueryGateTest, NonPositiveLimitMeansUnlimited) {
  QueryGate gate(0);
  std::vector<QueryGate::Slot> slots;
  for (int i = 0; i < 100; ++i) {
    auto s = gate.Acquire(In(0ms));
    ASSERT_TRUE(s.has_value());
    slots.push_back(std::move(*s));
  }
  EXPECT_EQ(gate.active(), 100);
}

}  // namespace
}  // namespace kiln::promql
