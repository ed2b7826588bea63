// A SIMT emulator that runs the GPU microkernels (ukernels.cpp) on the host,
// for tests: the same kernel bodies, with only gpu_target.h's primitives
// (ids, barrier, cross-lane exchange, warp matrix multiply) provided here.
//
// Each GPU thread of a block is a fiber with its own stack; blocks run one
// after another, so the kernels' static "shared" arrays are the block's
// shared memory. A fiber runs until it reaches a barrier or a cross-lane
// operation and waits there until every thread of its block (barrier) or
// lane of its warp (exchange) has arrived, as on the hardware. The emulator
// also checks what the hardware only assumes: a barrier reached by part of
// a block, or lanes of a warp at different cross-lane operations, stop the
// launch with an error instead of hanging or pairing the wrong values.
// Fibers resume highest thread first, so a read of shared memory that lacks
// its barrier tends to see the value from before the write.
//
// The cross-lane operations have the semantics of the hardware instructions
// the GPU hooks use: shfl.sync.bfly (NVIDIA), DPP quad_perm/row mirrors,
// ds_swizzle bit mode and readlane (AMD).
//
// Not thread-safe: one launch at a time per process.
#ifndef MOEC_TARGETS_UKERNELS_GPU_SIMT_HOST_H_
#define MOEC_TARGETS_UKERNELS_GPU_SIMT_HOST_H_

#include <stddef.h>
#include <stdint.h>

namespace moec::simt {

// Ids of the calling thread (valid inside a launch only).
int64_t ThreadId();
int64_t BlockId();
int64_t BlockCount();
int64_t BlockSize();
int64_t WarpSize();

// Block-wide barrier.
void Barrier();

// Cross-lane exchange of 32-bit values; every lane of the warp must call the
// same operation.
uint32_t ShuffleXor(uint32_t value, int mask);
uint32_t Dpp(uint32_t value, int control);
uint32_t Swizzle(uint32_t value, int pattern);
uint32_t ReadLane(uint32_t value, int lane);

// Copies `bytes` bytes from each lane's `mine` into `all` (lane-major,
// warp-size * bytes); every lane of the warp gets every lane's bytes. The
// building block for emulating warp-wide matrix instructions.
void WarpGather(const void* mine, size_t bytes, void* all);

// One 16x16x16 warp matrix multiply step, C += A B (bf16 A and B, fp32 C),
// with the fragment layouts of the hardware the warp width stands for:
// mma.sync m16n8k16 (twice) for 32 lanes, v_mfma_f32_16x16x16_bf16 for 64.
// `a` and `b` hold this lane's 32-bit words (4 or 2 each), `c` its floats (8
// or 4). The layouts are written here from the ISA documents' tables, apart
// from gpu_target.h's, so a mistake in either shows up as wrong results.
void MmaBf16(float* c, const uint32_t* a, const uint32_t* b);

// A kernel launch: `body` runs once per thread of `blocks` blocks of
// `block_size` threads (a positive multiple of `warp_size`, at most 1024).
// Returns an empty string on success, else what went wrong (divergent
// barrier or cross-lane operation, bad sizes).
typedef void (*KernelBody)(void* context);
const char* Launch(int64_t blocks, int64_t block_size, int64_t warp_size, KernelBody body, void* context);

}  // namespace moec::simt

#endif  // MOEC_TARGETS_UKERNELS_GPU_SIMT_HOST_H_
