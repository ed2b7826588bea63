// Per-target hooks of the GPU microkernels (ukernels.cpp): ids, the warp
// (NVIDIA) / wavefront (AMD) width and its cross-lane primitives, the block
// barrier, address-space-qualified loads, and the little math the kernels
// need.
//
// Three targets: nvptx64 (sm_90a), amdgcn (gfx942), and the host SIMT
// emulator (simt_host.h, MOEC_UK_SIMT_HOST), which runs the same kernel
// bodies on the CPU, one fiber per GPU thread, so the unit tests check their
// numerics and their barrier/warp discipline with either warp width. Only
// the few primitives in the per-target blocks below differ; everything after
// them (the warp sums built from the primitives included) is shared.
//
// On the GPUs everything here compiles to target intrinsics or plain LLVM
// instructions: no libdevice (__nv_*) or ocml/ockl (__ocml_*, __ockl_*)
// calls, so linking the microkernel bitcode needs no vendor device library.
//
// The code generator launches 1-D grids of 1-D blocks (256 threads); the
// kernels read the real sizes, so any block size that is a multiple of the
// warp size (up to 1024) and any grid size are correct.
#ifndef MOEC_TARGETS_UKERNELS_GPU_GPU_TARGET_H_
#define MOEC_TARGETS_UKERNELS_GPU_GPU_TARGET_H_

#include <stdint.h>  // clang's own header: freestanding, no system include

// Every function is convergent: it may contain warp shuffles or barriers, so
// no optimisation may make a call to it depend on more control flow.
#define UK_DEVICE static inline __attribute__((always_inline, convergent))

#if defined(MOEC_UK_SIMT_HOST)
// Host emulation: C++ linkage inside a namespace per warp width, so both
// builds live in one test binary; one address space.
#define UK_EXPORT __attribute__((convergent))
#define UK_BEGIN_EXPORTS namespace MOEC_UK_SIMT_HOST {
#define UK_END_EXPORTS }
#define UK_AS_GLOBAL
#define UK_AS_SHARED
#define UK_SHARED_ARRAY(type, name, n) static type name[n] __attribute__((aligned(16)))
#else
// Exported microkernels are always_inline too: the code generator's kernels
// are thin wrappers, and inlining lets the backends see the kernel's
// parameters (address spaces, noalias) and avoids a call frame.
#define UK_EXPORT extern "C" __attribute__((always_inline, convergent, visibility("default")))
#define UK_BEGIN_EXPORTS
#define UK_END_EXPORTS
// Address spaces shared by NVPTX and AMDGPU: 1 global, 3 block-shared.
#define UK_AS_GLOBAL __attribute__((address_space(1)))
#define UK_AS_SHARED __attribute__((address_space(3)))
// A block-shared array: a static in address space 3 with no initializer.
#define UK_SHARED_ARRAY(type, name, n) \
  static UK_AS_SHARED type name[n] __attribute__((loader_uninitialized, aligned(16)))
#endif

typedef unsigned int uk_u32x4 __attribute__((ext_vector_type(4)));
typedef float uk_f32x4 __attribute__((ext_vector_type(4)));

namespace uk {

#if defined(__NVPTX__)

constexpr int kWarpSize = 32;
UK_DEVICE int64_t ThreadId() { return __nvvm_read_ptx_sreg_tid_x(); }
UK_DEVICE int64_t BlockId() { return __nvvm_read_ptx_sreg_ctaid_x(); }
UK_DEVICE int64_t BlockCount() { return __nvvm_read_ptx_sreg_nctaid_x(); }
UK_DEVICE int64_t BlockSize() { return __nvvm_read_ptx_sreg_ntid_x(); }

// bar.sync 0: also orders shared and global memory within the block.
UK_DEVICE void Barrier() { __nvvm_barrier_sync(0); }

// The value of lane (this lane xor mask); all 32 lanes must call it.
UK_DEVICE float ShuffleXor(float v, int mask) { return __nvvm_shfl_sync_bfly_f32(0xffffffffu, v, mask, 0x1f); }
// The value of lane `lane` (shfl.sync.idx); all 32 lanes must call it.
UK_DEVICE float ReadLane(float v, int lane) { return __nvvm_shfl_sync_idx_f32(0xffffffffu, v, lane, 0x1f); }
#define UK_WARP_SUM_BUTTERFLY 1

// Two mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 (columns 0-7,
// then 8-15) make one 16x16x16 step; fragment layouts below (UK_MMA_NVIDIA).
#define UK_MMA_NVIDIA 1
UK_DEVICE void MmaBf16(float* c, const uint32_t* a, const uint32_t* b) {
#pragma unroll
  for (int half = 0; half < 2; ++half) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};"
        : "+f"(c[4 * half]), "+f"(c[4 * half + 1]), "+f"(c[4 * half + 2]), "+f"(c[4 * half + 3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[2 * half]), "r"(b[2 * half + 1]));
  }
}

// ex2.approx.f32 (MUFU.EX2).
UK_DEVICE float Exp2(float x) { return __nvvm_ex2_approx_f(x); }

#elif defined(__AMDGPU__)

constexpr int kWarpSize = 64;  // gfx9 / CDNA: wave64
UK_DEVICE int64_t ThreadId() { return __builtin_amdgcn_workitem_id_x(); }
UK_DEVICE int64_t BlockId() { return __builtin_amdgcn_workgroup_id_x(); }

// From the HSA dispatch packet (hsa_kernel_dispatch_packet_t): workgroup_size_x
// is a u16 at byte 4, grid_size_x (in work-items) a u32 at byte 12.
UK_DEVICE int64_t BlockSize() {
  const __attribute__((address_space(4))) uint16_t* packet =
      (const __attribute__((address_space(4))) uint16_t*)__builtin_amdgcn_dispatch_ptr();
  return packet[2];
}
UK_DEVICE int64_t BlockCount() {
  const __attribute__((address_space(4))) uint32_t* packet =
      (const __attribute__((address_space(4))) uint32_t*)__builtin_amdgcn_dispatch_ptr();
  const int64_t size = BlockSize();
  return (static_cast<int64_t>(packet[3]) + size - 1) / size;
}

// s_barrier with the workgroup fences that make shared (LDS) and global
// writes before it visible after it, as HIP's __syncthreads.
UK_DEVICE void Barrier() {
  __builtin_amdgcn_fence(__ATOMIC_RELEASE, "workgroup");
  __builtin_amdgcn_s_barrier();
  __builtin_amdgcn_fence(__ATOMIC_ACQUIRE, "workgroup");
}

// The value of lane (lane permuted by the DPP control Ctrl), within 16-lane rows.
template <int Ctrl>
UK_DEVICE float Dpp(float v) {
  return __builtin_bit_cast(
      float, __builtin_amdgcn_update_dpp(0, __builtin_bit_cast(int, v), Ctrl, 0xf, 0xf, false));
}

// ds_swizzle in bit mode: the value of lane ((lane & and) | or) ^ xor within
// each 32 (pattern = and | or << 5 | xor << 10); the LDS crossbar, not a
// memory round trip.
template <int Pattern>
UK_DEVICE float Swizzle(float v) {
  return __builtin_bit_cast(float, __builtin_amdgcn_ds_swizzle(__builtin_bit_cast(int, v), Pattern));
}

// The value of lane `lane` (uniform), as a scalar.
UK_DEVICE float ReadLane(float v, int lane) {
  return __builtin_bit_cast(float, __builtin_amdgcn_readlane(__builtin_bit_cast(int, v), lane));
}
#define UK_WARP_SUM_DPP 1

// v_mfma_f32_16x16x16_bf16 (the gfx90a "_1k" form; MI300 has no FP4
// matrix instructions, so MXFP4 weights are decoded to bf16 first); fragment
// layouts below (UK_MMA_AMD).
#define UK_MMA_AMD 1
typedef short uk_i16x4 __attribute__((ext_vector_type(4)));
UK_DEVICE void MmaBf16(float* c, const uint32_t* a, const uint32_t* b) {
  typedef unsigned int u32x2 __attribute__((ext_vector_type(2)));
  const u32x2 av = {a[0], a[1]}, bv = {b[0], b[1]};
  const uk_f32x4 acc = {c[0], c[1], c[2], c[3]};
  const uk_f32x4 d = __builtin_amdgcn_mfma_f32_16x16x16bf16_1k(__builtin_bit_cast(uk_i16x4, av),
                                                                __builtin_bit_cast(uk_i16x4, bv), acc, 0, 0, 0);
  c[0] = d.x, c[1] = d.y, c[2] = d.z, c[3] = d.w;
}

// v_exp_f32.
UK_DEVICE float Exp2(float x) { return __builtin_amdgcn_exp2f(x); }

#elif defined(MOEC_UK_SIMT_HOST)

}  // namespace uk
#include "simt_host.h"
namespace uk {

constexpr int kWarpSize = MOEC_UK_SIMT_WARP_SIZE;
static_assert(kWarpSize == 32 || kWarpSize == 64, "the emulator models NVIDIA warps and AMD wavefronts");
UK_DEVICE int64_t ThreadId() { return moec::simt::ThreadId(); }
UK_DEVICE int64_t BlockId() { return moec::simt::BlockId(); }
UK_DEVICE int64_t BlockCount() { return moec::simt::BlockCount(); }
UK_DEVICE int64_t BlockSize() { return moec::simt::BlockSize(); }
UK_DEVICE void Barrier() { moec::simt::Barrier(); }

UK_DEVICE float ShuffleXor(float v, int mask) {
  return __builtin_bit_cast(float, moec::simt::ShuffleXor(__builtin_bit_cast(uint32_t, v), mask));
}
template <int Ctrl>
UK_DEVICE float Dpp(float v) {
  return __builtin_bit_cast(float, moec::simt::Dpp(__builtin_bit_cast(uint32_t, v), Ctrl));
}
template <int Pattern>
UK_DEVICE float Swizzle(float v) {
  return __builtin_bit_cast(float, moec::simt::Swizzle(__builtin_bit_cast(uint32_t, v), Pattern));
}
UK_DEVICE float ReadLane(float v, int lane) {
  return __builtin_bit_cast(float, moec::simt::ReadLane(__builtin_bit_cast(uint32_t, v), lane));
}
#if MOEC_UK_SIMT_WARP_SIZE == 32
#define UK_WARP_SUM_BUTTERFLY 1
#define UK_MMA_NVIDIA 1
#else
#define UK_WARP_SUM_DPP 1
#define UK_MMA_AMD 1
#endif
// The emulator's warp matrix multiply has its own statement of the
// hardware's fragment layouts, so the one below is checked against it.
UK_DEVICE void MmaBf16(float* c, const uint32_t* a, const uint32_t* b) { moec::simt::MmaBf16(c, a, b); }

// The hardware's exp2 is an approximation (ex2.approx, v_exp_f32); the
// emulator uses the correctly rounded one, so results agree to ~2 ulp.
UK_DEVICE float Exp2(float x) { return __builtin_exp2f(x); }

#else
#error "gpu_target.h: compile for nvptx64-nvidia-cuda, amdgcn-amd-amdhsa or the host emulator (MOEC_UK_SIMT_HOST)"
#endif

struct UkAdd {
  __attribute__((always_inline)) float operator()(float a, float b) const { return a + b; }
};
struct UkMax {
  __attribute__((always_inline)) float operator()(float a, float b) const { return a > b ? a : b; }
};

#if defined(UK_WARP_SUM_BUTTERFLY)
// Butterfly reduction over the 32 lanes; every lane gets the same bits. All
// 32 lanes must call it.
template <typename Op>
UK_DEVICE float WarpReduce(float v, Op op) {
#pragma unroll
  for (int offset = kWarpSize / 2; offset > 0; offset >>= 1) v = op(v, ShuffleXor(v, offset));
  return v;
}
#elif defined(UK_WARP_SUM_DPP)
// Reduction over the 64 lanes of a wavefront; every lane gets the same bits.
// DPP within each row of 16 (xor 1, xor 2, then the half-row and row
// mirrors, which pair each lane with one of the other quad/half), ds_swizzle
// across rows (xor 16 within each 32), readlane across the two halves. No
// LDS round trip. All 64 lanes must be active.
template <typename Op>
UK_DEVICE float WarpReduce(float v, Op op) {
  v = op(v, Dpp<0xB1>(v));       // quad_perm:[1,0,3,2]
  v = op(v, Dpp<0x4E>(v));       // quad_perm:[2,3,0,1]
  v = op(v, Dpp<0x141>(v));      // row_half_mirror: lane 7 - i of its 8
  v = op(v, Dpp<0x140>(v));      // row_mirror: lane 15 - i of its 16
  v = op(v, Swizzle<0x401F>(v));  // and 0x1f, or 0, xor 0x10
  return op(ReadLane(v, 0), ReadLane(v, 32));
}
#endif

UK_DEVICE float WarpSum(float v) { return WarpReduce(v, UkAdd()); }
UK_DEVICE float WarpMax(float v) { return WarpReduce(v, UkMax()); }

// Warp matrix multiply, one 16x16x16 step: C[16x16] += A[16x16] B[16x16]
// with bf16 A and B and fp32 C, by the whole warp (MmaBf16 above). Each
// lane holds kMmaA/kMmaB bf16 elements of A and B (packed in pairs into
// 32-bit words, the even element in the low half) and kMmaC floats of C;
// MmaA/MmaB/MmaC say which element of the matrix element e of a lane is.
constexpr int kMmaSize = 16;
#if defined(UK_MMA_NVIDIA)
// m16n8k16 (PTX ISA, "Matrix Fragments for mma.m16n8k16"): lane = 4 * group
// + thread_in_group; A rows group and group + 8, B columns group (+ 8 for
// the second instruction), C likewise.
constexpr int kMmaA = 8, kMmaB = 8, kMmaC = 8;
UK_DEVICE void MmaA(int lane, int e, int* row, int* k) {
  *row = (lane >> 2) + 8 * ((e >> 1) & 1);
  *k = 2 * (lane & 3) + (e & 1) + 8 * (e >> 2);
}
UK_DEVICE void MmaB(int lane, int e, int* k, int* col) {
  *k = 2 * (lane & 3) + (e & 1) + 8 * ((e >> 1) & 1);
  *col = (lane >> 2) + 8 * (e >> 2);
}
UK_DEVICE void MmaC(int lane, int e, int* row, int* col) {
  *row = (lane >> 2) + 8 * ((e >> 1) & 1);
  *col = 2 * (lane & 3) + (e & 1) + 8 * (e >> 2);
}
#elif defined(UK_MMA_AMD)
// 16x16x16 MFMA over 64 lanes: lane = 16 * block + index; A row / B column
// `index`, k = 4 * block + e; C column `index`, row 4 * block + e.
constexpr int kMmaA = 4, kMmaB = 4, kMmaC = 4;
UK_DEVICE void MmaA(int lane, int e, int* row, int* k) {
  *row = lane & 15;
  *k = 4 * (lane >> 4) + e;
}
UK_DEVICE void MmaB(int lane, int e, int* k, int* col) {
  *k = 4 * (lane >> 4) + e;
  *col = lane & 15;
}
UK_DEVICE void MmaC(int lane, int e, int* row, int* col) {
  *row = 4 * (lane >> 4) + e;
  *col = lane & 15;
}
#endif

// Ordering between the blocks of one grid, at device scope (the split-KV
// attention's partial results and the counter that elects the block that
// combines them). On NVPTX clang-22 lowers scoped fences at system scope
// (fence.acq_rel.sys), so the fences are membar.gl (GPU scope, CUDA's
// __threadfence); elsewhere clang's scoped atomics (buffer_wbl2/buffer_inv
// at agent scope on AMDGPU, plain fences on the host).
#if defined(__NVPTX__)
UK_DEVICE void FenceReleaseDevice() { __nvvm_membar_gl(); }
UK_DEVICE void FenceAcquireDevice() { __nvvm_membar_gl(); }
#else
UK_DEVICE void FenceReleaseDevice() { __scoped_atomic_thread_fence(__ATOMIC_RELEASE, __MEMORY_SCOPE_DEVICE); }
UK_DEVICE void FenceAcquireDevice() { __scoped_atomic_thread_fence(__ATOMIC_ACQUIRE, __MEMORY_SCOPE_DEVICE); }
#endif
UK_DEVICE uint32_t AtomicAddDevice(uint32_t* p, uint32_t v) {
  return __scoped_atomic_fetch_add(p, v, __ATOMIC_RELAXED, __MEMORY_SCOPE_DEVICE);  // ordered by the fences
}
UK_DEVICE void AtomicStoreDevice(uint32_t* p, uint32_t v) {
  __scoped_atomic_store_n(p, v, __ATOMIC_RELAXED, __MEMORY_SCOPE_DEVICE);
}

constexpr int kMaxBlockSize = 1024;
constexpr int kMaxWarps = kMaxBlockSize / kWarpSize;

UK_DEVICE int64_t Lane() { return ThreadId() % kWarpSize; }
UK_DEVICE int64_t WarpInBlock() { return ThreadId() / kWarpSize; }
UK_DEVICE int64_t WarpsPerBlock() { return BlockSize() / kWarpSize; }
// Grid-wide warp index and count (for one-warp-per-output loops).
UK_DEVICE int64_t GlobalWarp() { return BlockId() * WarpsPerBlock() + WarpInBlock(); }
UK_DEVICE int64_t GridWarps() { return BlockCount() * WarpsPerBlock(); }
// Grid-wide thread index and count (for element-wise loops).
UK_DEVICE int64_t GlobalThread() { return BlockId() * BlockSize() + ThreadId(); }
UK_DEVICE int64_t GridThreads() { return BlockCount() * BlockSize(); }

// e^x through the hardware exp2.
UK_DEVICE float Exp(float x) { return Exp2(x * 1.4426950408889634f); }
// llvm.sqrt.f32: sqrt.rn.f32 on NVPTX, an inline expansion on AMDGPU.
UK_DEVICE float Sqrt(float x) { return __builtin_sqrtf(x); }

// sin and cos of a (possibly large) angle: Cody-Waite reduction by pi/2 in
// double (angle = position * inv_freq reaches 1e5 radians), then the Cephes
// single-precision polynomials on [-pi/4, pi/4].
UK_DEVICE void SinCos(double angle, float* sin_out, float* cos_out) {
  const double q = __builtin_rint(angle * 0.63661977236758134308);
  double reduced = __builtin_fma(-q, 1.5707963267948966, angle);
  reduced = __builtin_fma(-q, 6.123233995736766e-17, reduced);
  const float r = static_cast<float>(reduced);
  const float z = r * r;
  const float s = r + r * z * (-1.6666654611e-1f + z * (8.3321608736e-3f + z * -1.9515295891e-4f));
  const float c =
      1.0f - 0.5f * z + z * z * (4.166664568298827e-2f + z * (-1.388731625493765e-3f + z * 2.443315711809948e-5f));
  const int quadrant = static_cast<int>(static_cast<int64_t>(q) & 3);
  float sn = s, cs = c;
  if (quadrant == 1) sn = c, cs = -s;
  if (quadrant == 2) sn = -s, cs = -c;
  if (quadrant == 3) sn = -c, cs = s;
  *sin_out = sn;
  *cos_out = cs;
}

// 16-byte loads: ld.global.v4 / global_load_dwordx4 (p 16-byte aligned).
UK_DEVICE uk_u32x4 LoadGlobalU32x4(const void* p) { return *(const UK_AS_GLOBAL uk_u32x4*)p; }
UK_DEVICE uk_f32x4 LoadF32x4(const UK_AS_GLOBAL float* p) { return *(const UK_AS_GLOBAL uk_f32x4*)p; }
#if !defined(MOEC_UK_SIMT_HOST)  // one address space on the host
UK_DEVICE uk_f32x4 LoadF32x4(const UK_AS_SHARED float* p) { return *(const UK_AS_SHARED uk_f32x4*)p; }
#endif
UK_DEVICE uint8_t LoadGlobalU8(const uint8_t* p) { return *(const UK_AS_GLOBAL uint8_t*)p; }
UK_DEVICE uint16_t LoadGlobalU16(const uint16_t* p) { return *(const UK_AS_GLOBAL uint16_t*)p; }
UK_DEVICE uint32_t LoadGlobalU32(const void* p) { return *(const UK_AS_GLOBAL uint32_t*)p; }
UK_DEVICE const UK_AS_GLOBAL float* AsGlobal(const float* p) { return (const UK_AS_GLOBAL float*)p; }

}  // namespace uk

#endif  // MOEC_TARGETS_UKERNELS_GPU_GPU_TARGET_H_
