#include "hal/cpu/thread_pool.h"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace moert::hal::cpu {
namespace {

// Spin iterations before a thread sleeps: long enough to bridge the host-side
// gap between two dispatches of a decode step, short enough not to burn a
// core while the caller does something else.
constexpr int kSpinIterations = 1 << 14;

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// Spins with a pause, yielding the CPU every so often: when there are more
// threads than free cores the thread we wait for may need our core.
inline void SpinPause(int spin) {
  if ((spin & 63) == 63) {
    sched_yield();
    return;
  }
  CpuRelax();
}

// std::atomic<uint32_t> is a plain 32-bit word on Linux, which is what the
// futex syscalls take.
static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t), "futex word");

void FutexWait(std::atomic<uint32_t>* word, uint32_t expected) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE, expected,
          nullptr, nullptr, 0);
}

void FutexWake(std::atomic<uint32_t>* word, int count) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, count,
          nullptr, nullptr, 0);
}

}  // namespace

uint32_t AvailableCpuCount() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<uint32_t>(n);
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<uint32_t>(n) : 1;
}

Result<std::unique_ptr<ThreadPool>> ThreadPool::Create(uint32_t threads) {
  if (threads == 0) threads = AvailableCpuCount();
  constexpr uint32_t kMaxThreads = 1024;
  if (threads > kMaxThreads) {
    return InvalidArgument("thread pool of ", threads, " threads exceeds the limit of ",
                           kMaxThreads);
  }
  std::unique_ptr<ThreadPool> pool(new ThreadPool());
  pool->workers_.reserve(threads - 1);
  for (uint32_t i = 1; i < threads; ++i) {
    pthread_t thread;
    int err = pthread_create(&thread, nullptr, &ThreadPool::WorkerMain, pool.get());
    if (err != 0) {
      // The destructor stops the workers started so far.
      return Unavailable("pthread_create for worker ", i, " of ", threads,
                         " failed: ", std::strerror(err));
    }
    pool->workers_.push_back(thread);
  }
  return pool;
}

ThreadPool::~ThreadPool() {
  if (workers_.empty()) return;
  shutdown_ = true;
  generation_.fetch_add(1, std::memory_order_seq_cst);
  FutexWake(&generation_, INT_MAX);
  for (pthread_t thread : workers_) pthread_join(thread, nullptr);
}

void* ThreadPool::WorkerMain(void* pool) {
  static_cast<ThreadPool*>(pool)->WorkerLoop();
  return nullptr;
}

void ThreadPool::RunJob() {
  const IndexFn fn = job_fn_;
  void* const context = job_context_;
  const size_t count = job_count_;
  for (;;) {
    size_t i = next_index_.fetch_add(1, std::memory_order_relaxed);
    if (i >= count) return;
    fn(context, i);
  }
}

void ThreadPool::WorkerLoop() {
  // Generation 0 is the pool's at creation; a worker that starts late must
  // still run the jobs published before it got here.
  uint32_t seen = 0;
  for (;;) {
    // Wait for the next job: spin, then sleep. The sleeper count and the
    // generation are both seq_cst so that either this thread sees the new
    // generation or the caller sees a sleeper and wakes it; FUTEX_WAIT
    // re-checks the word in the kernel.
    uint32_t current = generation_.load(std::memory_order_acquire);
    for (int spin = 0; current == seen && spin < kSpinIterations; ++spin) {
      SpinPause(spin);
      current = generation_.load(std::memory_order_acquire);
    }
    while (current == seen) {
      sleeping_workers_.fetch_add(1, std::memory_order_seq_cst);
      if (generation_.load(std::memory_order_seq_cst) == seen) FutexWait(&generation_, seen);
      sleeping_workers_.fetch_sub(1, std::memory_order_seq_cst);
      current = generation_.load(std::memory_order_acquire);
    }
    seen = current;
    if (shutdown_) return;
    RunJob();
    // Release: the caller sees every write of fn() once the count is 0, and
    // this thread reads nothing of the job after this point.
    if (remaining_workers_.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
        caller_sleeping_.load(std::memory_order_seq_cst) != 0) {
      FutexWake(&remaining_workers_, 1);
    }
  }
}

void ThreadPool::ParallelFor(size_t count, IndexFn fn, void* context) {
  if (count == 0) return;
  if (workers_.empty() || count == 1) {
    for (size_t i = 0; i < count; ++i) fn(context, i);
    return;
  }
  // Every worker takes part in (or at least acknowledges) every job, so no
  // worker can still be reading this job's fields when the next one is
  // written.
  job_fn_ = fn;
  job_context_ = context;
  job_count_ = count;
  next_index_.store(0, std::memory_order_relaxed);
  remaining_workers_.store(static_cast<uint32_t>(workers_.size()), std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_seq_cst);
  if (sleeping_workers_.load(std::memory_order_seq_cst) != 0) FutexWake(&generation_, INT_MAX);

  RunJob();

  uint32_t remaining = remaining_workers_.load(std::memory_order_acquire);
  for (int spin = 0; remaining != 0 && spin < kSpinIterations; ++spin) {
    SpinPause(spin);
    remaining = remaining_workers_.load(std::memory_order_acquire);
  }
  if (remaining != 0) {
    caller_sleeping_.store(1, std::memory_order_seq_cst);
    while ((remaining = remaining_workers_.load(std::memory_order_seq_cst)) != 0) {
      FutexWait(&remaining_workers_, remaining);
    }
    caller_sleeping_.store(0, std::memory_order_relaxed);
  }
}

}  // namespace moert::hal::cpu
