// A fixed pool of worker threads that runs the workgroups of one dispatch at a
// time. ParallelFor is the barrier between dispatches: it returns when every
// index has run. A decode step issues hundreds of small dispatches, so a call
// allocates nothing, wakes no one when there is a single index, and workers
// spin briefly for the next dispatch before they sleep on a futex.
#ifndef MOERT_HAL_CPU_THREAD_POOL_H_
#define MOERT_HAL_CPU_THREAD_POOL_H_

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "base/status.h"

namespace moert::hal::cpu {

// The CPUs this process may run on (sched_getaffinity), at least 1.
uint32_t AvailableCpuCount();

class ThreadPool {
 public:
  // `threads` counts every participant, the calling thread included: 1 runs
  // everything inline on the caller and starts no thread; 0 means
  // AvailableCpuCount(). Fails when the OS refuses a thread.
  static Result<std::unique_ptr<ThreadPool>> Create(uint32_t threads = 0);

  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Participants, the caller included.
  uint32_t thread_count() const { return static_cast<uint32_t>(workers_.size()) + 1; }

  // Runs fn(context, i) once for every i in [0, count), on the workers and the
  // calling thread, in no particular order; returns when all have returned.
  // Not reentrant: one ParallelFor at a time per pool, and `fn` must not call
  // ParallelFor on the same pool.
  using IndexFn = void (*)(void* context, size_t index);
  void ParallelFor(size_t count, IndexFn fn, void* context);

  // The same with any callable `fn(size_t index)`; no allocation.
  template <typename Fn>
  void ParallelFor(size_t count, const Fn& fn) {
    ParallelFor(
        count,
        [](void* context, size_t index) { (*static_cast<const Fn*>(context))(index); },
        const_cast<void*>(static_cast<const void*>(&fn)));
  }

 private:
  ThreadPool() = default;
  static void* WorkerMain(void* pool);
  void WorkerLoop();
  // Claims and runs indices of the current job until none are left.
  void RunJob();

  std::vector<pthread_t> workers_;

  // The current job; written by the caller before `generation_` is bumped,
  // read by workers after they observe the bump.
  IndexFn job_fn_ = nullptr;
  void* job_context_ = nullptr;
  size_t job_count_ = 0;
  bool shutdown_ = false;

  // Each on its own cache line: workers hammer next_index_, spin on
  // generation_, and report to remaining_workers_.
  alignas(64) std::atomic<size_t> next_index_{0};
  alignas(64) std::atomic<uint32_t> generation_{0};
  std::atomic<uint32_t> sleeping_workers_{0};
  alignas(64) std::atomic<uint32_t> remaining_workers_{0};
  std::atomic<uint32_t> caller_sleeping_{0};
};

}  // namespace moert::hal::cpu

#endif  // MOERT_HAL_CPU_THREAD_POOL_H_
