#include "simt_host.h"

#if !defined(__x86_64__)
#include <ucontext.h>
#endif

#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace moec::simt {
namespace {

// Kernels keep a few small arrays on the stack (attention: 2 x 16 floats).
constexpr size_t kFiberStackBytes = 64 * 1024;
constexpr int64_t kMaxBlockSize = 1024;

// What a thread waits at; lanes of one warp (threads of one block) must
// all wait at the same kind of operation.
enum class SyncKind : int { kNone, kBarrier, kShuffleXor, kDpp, kSwizzle, kReadLane, kGather };

const char* SyncKindName(SyncKind kind) {
  switch (kind) {
    case SyncKind::kNone: return "nothing";
    case SyncKind::kBarrier: return "a block barrier";
    case SyncKind::kShuffleXor: return "a shuffle";
    case SyncKind::kDpp: return "a DPP move";
    case SyncKind::kSwizzle: return "a ds_swizzle";
    case SyncKind::kReadLane: return "a readlane";
    case SyncKind::kGather: return "a warp gather";
  }
  return "?";
}

#if defined(__x86_64__)
// A context switch of our own on x86-64: swapcontext saves and restores the
// signal mask with a system call on every switch, which made the emulator
// spend half its time in the kernel. Saves the callee-saved registers on the
// current stack, stores the stack pointer in *save, switches to `load` and
// restores the registers saved there.
extern "C" void moec_simt_switch(void** save, void* load);
asm(R"(
  .text
  .p2align 4
  .type moec_simt_switch,@function
moec_simt_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size moec_simt_switch, .-moec_simt_switch
)");

struct Context {
  void* stack_pointer = nullptr;
};
#else
struct Context {
  ucontext_t context;
};
#endif

struct Fiber {
  Context context;
  char* stack = nullptr;  // kFiberStackBytes, from Launch's pool
  bool done = false;
};

// A rendezvous of a group of threads (a warp or the block): the last to
// arrive starts the next generation, the others wait for it.
struct Rendezvous {
  int64_t arrived = 0;
  uint64_t generation = 0;
  SyncKind kind = SyncKind::kNone;
};

struct LaunchState {
  KernelBody body = nullptr;
  void* context = nullptr;
  int64_t blocks = 0, block = 0, block_size = 0, warp_size = 0;
  int64_t current = 0;
  std::vector<Fiber> fibers;
  Context scheduler;
  Rendezvous block_barrier;
  std::vector<Rendezvous> warps;
  // One exchange slot per thread, and the gather area of each warp.
  std::vector<uint32_t> slots;
  std::vector<unsigned char> gather;
  uint64_t progress = 0;  // arrivals and completions, to detect a deadlock
  std::string error;
};

LaunchState* g_launch = nullptr;

void SwitchTo(Context* save, Context* load) {
#if defined(__x86_64__)
  moec_simt_switch(&save->stack_pointer, load->stack_pointer);
#else
  swapcontext(&save->context, &load->context);
#endif
}

void YieldToScheduler() {
  LaunchState& s = *g_launch;
  SwitchTo(&s.fibers[s.current].context, &s.scheduler);
}

// Waits until every member of `group` (`members` threads) has arrived.
void Arrive(Rendezvous& group, int64_t members, SyncKind kind, const char* scope) {
  LaunchState& s = *g_launch;
  if (group.arrived == 0) {
    group.kind = kind;
  } else if (group.kind != kind && s.error.empty()) {
    s.error = std::string("divergence in ") + scope + ": thread " + std::to_string(s.current) + " of block " +
              std::to_string(s.block) + " reached " + SyncKindName(kind) + " while others wait at " +
              SyncKindName(group.kind);
  }
  ++s.progress;
  const uint64_t generation = group.generation;
  if (++group.arrived == members) {
    group.arrived = 0;
    ++group.generation;
    return;
  }
  while (group.generation == generation && s.error.empty()) YieldToScheduler();
}

void WarpSync(SyncKind kind) {
  LaunchState& s = *g_launch;
  Arrive(s.warps[s.current / s.warp_size], s.warp_size, kind, "a warp");
}

int64_t Lane() { return g_launch->current % g_launch->warp_size; }

// Every lane publishes `value`, then reads the value of lane `source`.
uint32_t Exchange(uint32_t value, int64_t source, SyncKind kind) {
  LaunchState& s = *g_launch;
  const int64_t warp_base = s.current - Lane();
  s.slots[s.current] = value;
  WarpSync(kind);
  const uint32_t result = s.slots[warp_base + source];
  WarpSync(kind);  // nobody overwrites a slot before every lane has read it
  return result;
}

// A fiber's whole life: the kernel body, then back to the scheduler for good.
void FiberMain() {
  LaunchState& s = *g_launch;
  s.body(s.context);
  s.fibers[s.current].done = true;
  ++s.progress;
  Context finished;
  SwitchTo(&finished, &s.scheduler);  // never resumed
  __builtin_trap();
}

// Makes `f` start at FiberMain on its own stack when first switched to.
void StartFiber(Fiber& f, LaunchState& s) {
  f.done = false;
#if defined(__x86_64__)
  // The stack as moec_simt_switch leaves it: six saved registers, then the
  // return address, FiberMain, entered as if called (rsp = 8 mod 16).
  uintptr_t top = (reinterpret_cast<uintptr_t>(f.stack) + kFiberStackBytes) & ~uintptr_t{15};
  void** sp = reinterpret_cast<void**>(top);
  *--sp = nullptr;  // alignment slot: FiberMain starts with rsp = top - 8
  *--sp = reinterpret_cast<void*>(&FiberMain);
  for (int i = 0; i < 6; ++i) *--sp = nullptr;
  f.context.stack_pointer = sp;
  (void)s;
#else
  getcontext(&f.context.context);
  f.context.context.uc_stack.ss_sp = f.stack;
  f.context.context.uc_stack.ss_size = kFiberStackBytes;
  f.context.context.uc_link = &s.scheduler.context;
  makecontext(&f.context.context, FiberMain, 0);
#endif
}

bool RunBlock(LaunchState& s) {
  for (Fiber& f : s.fibers) StartFiber(f, s);
  s.block_barrier = Rendezvous();
  for (Rendezvous& w : s.warps) w = Rendezvous();
  int64_t remaining = s.block_size;
  while (remaining > 0) {
    const uint64_t progress_before = s.progress;
    for (int64_t t = s.block_size - 1; t >= 0; --t) {
      if (s.fibers[t].done) continue;
      s.current = t;
      SwitchTo(&s.scheduler, &s.fibers[t].context);
      if (s.fibers[t].done) --remaining;
      if (!s.error.empty()) return false;
    }
    if (remaining > 0 && s.progress == progress_before) {
      s.error = "deadlock in block " + std::to_string(s.block) + ": " + std::to_string(remaining) +
                " threads wait at a barrier or cross-lane operation that some threads of the block or warp "
                "never reach";
      return false;
    }
  }
  return true;
}

}  // namespace

int64_t ThreadId() { return g_launch->current; }
int64_t BlockId() { return g_launch->block; }
int64_t BlockCount() { return g_launch->blocks; }
int64_t BlockSize() { return g_launch->block_size; }
int64_t WarpSize() { return g_launch->warp_size; }

void Barrier() { Arrive(g_launch->block_barrier, g_launch->block_size, SyncKind::kBarrier, "the block"); }

uint32_t ShuffleXor(uint32_t value, int mask) {
  return Exchange(value, (Lane() ^ mask) & (g_launch->warp_size - 1), SyncKind::kShuffleXor);
}

uint32_t Dpp(uint32_t value, int control) {
  const int64_t lane = Lane();
  int64_t source;
  if (control >= 0 && control <= 0xFF) {  // quad_perm: lane i of each quad reads lane control[2i+1:2i]
    source = (lane & ~int64_t{3}) | ((control >> (2 * (lane & 3))) & 3);
  } else if (control == 0x141) {  // row_half_mirror
    source = (lane & ~int64_t{7}) | (7 - (lane & 7));
  } else if (control == 0x140) {  // row_mirror
    source = (lane & ~int64_t{15}) | (15 - (lane & 15));
  } else {
    if (g_launch->error.empty()) g_launch->error = "DPP control " + std::to_string(control) + " is not emulated";
    source = lane;
  }
  return Exchange(value, source, SyncKind::kDpp);
}

uint32_t Swizzle(uint32_t value, int pattern) {
  const int64_t lane = Lane();
  int64_t source = lane;
  if (pattern & 0x8000) {
    if (g_launch->error.empty()) g_launch->error = "ds_swizzle quad mode is not emulated";
  } else {
    const int64_t and_mask = pattern & 0x1f, or_mask = (pattern >> 5) & 0x1f, xor_mask = (pattern >> 10) & 0x1f;
    source = (lane & ~int64_t{0x1f}) | ((((lane & 0x1f) & and_mask) | or_mask) ^ xor_mask);
  }
  return Exchange(value, source, SyncKind::kSwizzle);
}

uint32_t ReadLane(uint32_t value, int lane) {
  return Exchange(value, lane & (g_launch->warp_size - 1), SyncKind::kReadLane);
}

void WarpGather(const void* mine, size_t bytes, void* all) {
  LaunchState& s = *g_launch;
  const size_t warp_bytes = bytes * static_cast<size_t>(s.warp_size);
  const size_t warp_offset = static_cast<size_t>(s.current / s.warp_size) * warp_bytes;
  if (s.gather.size() < warp_offset + warp_bytes) s.gather.resize(warp_offset + warp_bytes);
  std::memcpy(s.gather.data() + warp_offset + static_cast<size_t>(Lane()) * bytes, mine, bytes);
  WarpSync(SyncKind::kGather);
  std::memcpy(all, s.gather.data() + warp_offset, warp_bytes);
  WarpSync(SyncKind::kGather);
}

namespace {

float Bf16Bits(uint32_t bits) {
  const uint32_t widened = (bits & 0xffffu) << 16;
  float f;
  std::memcpy(&f, &widened, sizeof f);
  return f;
}

// Where a matrix element lives: the lane and the element index within the
// lane's fragment (element e is half e % 2 of word e / 2).
struct Place {
  int64_t lane, element;
};

// PTX ISA, mma.m16n8k16 with .bf16: groupID = lane >> 2, threadID_in_group
// = lane % 4. A (16x16, row-major): a0-a7 hold (group, 2t + {0,1}),
// (group + 8, ...), (group, 2t + 8 + {0,1}), (group + 8, ...). B (16x8):
// b0-b3 hold (k = 2t + {0,1}, n = group), (k = 2t + 8 + {0,1}, n = group).
// C (16x8): c0-c3 hold (group, 2t + {0,1}), (group + 8, ...). Columns 8-15
// of our 16x16 step are the second instruction: B and C elements 4-7.
Place NvidiaA(int64_t row, int64_t k) {
  return {4 * (row % 8) + (k % 8) / 2, (k % 2) + 2 * (row / 8) + 4 * (k / 8)};
}
Place NvidiaB(int64_t k, int64_t col) {
  return {4 * (col % 8) + (k % 8) / 2, (k % 2) + 2 * (k / 8) + 4 * (col / 8)};
}
Place NvidiaC(int64_t row, int64_t col) {
  return {4 * (row % 8) + (col % 8) / 2, (col % 2) + 2 * (row / 8) + 4 * (col / 8)};
}

// AMD matrix instruction calculator, v_mfma_f32_16x16x16bf16_1k (gfx90a,
// gfx942): A[i][k] in lane i + 16 * (k / 4), item k % 4; B[k][j] in lane j +
// 16 * (k / 4), item k % 4; D[i][j] in lane j + 16 * (i / 4), item i % 4.
Place AmdA(int64_t row, int64_t k) { return {row + 16 * (k / 4), k % 4}; }
Place AmdB(int64_t k, int64_t col) { return {col + 16 * (k / 4), k % 4}; }
Place AmdC(int64_t row, int64_t col) { return {col + 16 * (row / 4), row % 4}; }

}  // namespace

void MmaBf16(float* c, const uint32_t* a, const uint32_t* b) {
  const int64_t warp = g_launch->warp_size;
  const bool nvidia = warp == 32;
  const int64_t words = nvidia ? 4 : 2;  // A and B words per lane
  std::vector<uint32_t> all_a(static_cast<size_t>(warp * words)), all_b(all_a.size());
  WarpGather(a, sizeof(uint32_t) * words, all_a.data());
  WarpGather(b, sizeof(uint32_t) * words, all_b.data());
  auto element = [&](const std::vector<uint32_t>& all, Place p) {
    return Bf16Bits(all[p.lane * words + p.element / 2] >> (16 * (p.element % 2)));
  };
  const int64_t lane = Lane();
  for (int64_t row = 0; row < 16; ++row) {
    for (int64_t col = 0; col < 16; ++col) {
      const Place out = nvidia ? NvidiaC(row, col) : AmdC(row, col);
      if (out.lane != lane) continue;
      float sum = c[out.element];
      for (int64_t k = 0; k < 16; ++k) {
        sum += element(all_a, nvidia ? NvidiaA(row, k) : AmdA(row, k)) *
               element(all_b, nvidia ? NvidiaB(k, col) : AmdB(k, col));
      }
      c[out.element] = sum;
    }
  }
}

const char* Launch(int64_t blocks, int64_t block_size, int64_t warp_size, KernelBody body, void* context) {
  static std::string error;
  if (g_launch != nullptr) return "a launch is already running";
  if (warp_size != 32 && warp_size != 64) return "the warp size must be 32 or 64";
  if (blocks <= 0 || block_size <= 0 || block_size > kMaxBlockSize || block_size % warp_size != 0) {
    return "the block size must be a positive multiple of the warp size, at most 1024, and the grid non-empty";
  }
  LaunchState state;
  state.body = body;
  state.context = context;
  state.blocks = blocks;
  state.block_size = block_size;
  state.warp_size = warp_size;
  state.fibers.resize(static_cast<size_t>(block_size));
  // Stacks are kept from launch to launch: a model run makes thousands of
  // launches, and fresh stacks cost a page fault per page touched each time.
  static std::vector<std::unique_ptr<char[]>>* stack_pool = new std::vector<std::unique_ptr<char[]>>();
  while (stack_pool->size() < state.fibers.size()) stack_pool->emplace_back(new char[kFiberStackBytes]);
  for (size_t i = 0; i < state.fibers.size(); ++i) state.fibers[i].stack = (*stack_pool)[i].get();
  state.warps.resize(static_cast<size_t>(block_size / warp_size));
  state.slots.resize(static_cast<size_t>(block_size));
  g_launch = &state;
  for (state.block = 0; state.block < blocks; ++state.block) {
    if (!RunBlock(state)) break;
  }
  g_launch = nullptr;
  error = state.error;
  return error.c_str();
}

}  // namespace moec::simt
