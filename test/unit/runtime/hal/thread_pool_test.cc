#include "hal/cpu/thread_pool.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <vector>

namespace moert::hal::cpu {
namespace {

std::unique_ptr<ThreadPool> MakePool(uint32_t threads) {
  auto pool = ThreadPool::Create(threads);
  EXPECT_TRUE(pool.ok()) << pool.status().ToString();
  return std::move(pool).value();
}

TEST(ThreadPoolTest, DefaultUsesTheAvailableCpus) {
  auto pool = MakePool(0);
  EXPECT_EQ(pool->thread_count(), AvailableCpuCount());
  EXPECT_GE(AvailableCpuCount(), 1u);
}

TEST(ThreadPoolTest, EveryIndexRunsExactlyOnce) {
  for (uint32_t threads : {1u, 2u, 3u, 8u}) {
    auto pool = MakePool(threads);
    EXPECT_EQ(pool->thread_count(), threads);
    for (size_t count : {size_t{0}, size_t{1}, size_t{2}, size_t{7}, size_t{1000}, size_t{100000}}) {
      std::vector<std::atomic<uint32_t>> hits(count);
      for (auto& h : hits) h.store(0);
      pool->ParallelFor(count, [&](size_t i) { hits[i].fetch_add(1, std::memory_order_relaxed); });
      for (size_t i = 0; i < count; ++i) {
        ASSERT_EQ(hits[i].load(), 1u) << "threads " << threads << " count " << count << " index " << i;
      }
    }
  }
}

TEST(ThreadPoolTest, ManyTinyDispatchesSeeEachOthersWrites) {
  // A chain of dispatches where each reads what the previous one wrote: the
  // return of ParallelFor is the barrier.
  for (uint32_t threads : {1u, 2u, 4u}) {
    auto pool = MakePool(threads);
    constexpr int kDispatches = 5000;
    std::vector<uint64_t> a(16, 0), b(16, 0);
    for (int d = 0; d < kDispatches; ++d) {
      std::vector<uint64_t>& src = (d % 2) ? b : a;
      std::vector<uint64_t>& dst = (d % 2) ? a : b;
      pool->ParallelFor(src.size(), [&](size_t i) { dst[i] = src[(i + 1) % src.size()] + 1; });
    }
    for (uint64_t v : a) EXPECT_EQ(v, static_cast<uint64_t>(kDispatches)) << "threads " << threads;
  }
}

TEST(ThreadPoolTest, OneThreadRunsInlineInOrder) {
  auto pool = MakePool(1);
  std::vector<size_t> order;
  order.reserve(10);
  pool->ParallelFor(10, [&](size_t i) { order.push_back(i); });
  ASSERT_EQ(order.size(), 10u);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(order[i], i);
}

TEST(ThreadPoolTest, UsesSeveralThreadsForLargeDispatches) {
  auto pool = MakePool(2);
  // Each index waits until both threads have arrived, so this only returns if
  // two threads really take part.
  std::atomic<int> arrived{0};
  pool->ParallelFor(2, [&](size_t) {
    arrived.fetch_add(1);
    while (arrived.load() < 2) {
    }
  });
  EXPECT_EQ(arrived.load(), 2);
}

TEST(ThreadPoolTest, SurvivesIdlePeriods) {
  // Workers fall asleep between dispatches and must wake for the next one.
  auto pool = MakePool(3);
  for (int round = 0; round < 3; ++round) {
    std::atomic<int> sum{0};
    pool->ParallelFor(100, [&](size_t i) { sum.fetch_add(static_cast<int>(i)); });
    EXPECT_EQ(sum.load(), 4950);
    usleep(50 * 1000);
  }
}

TEST(ThreadPoolTest, RefusesAbsurdThreadCounts) {
  auto pool = ThreadPool::Create(1u << 20);
  ASSERT_FALSE(pool.ok());
  EXPECT_NE(pool.status().message().find("exceeds"), std::string::npos) << pool.status().ToString();
}

}  // namespace
}  // namespace moert::hal::cpu
