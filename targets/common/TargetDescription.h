// What a target offers the schedulers: parallelism, vector or warp width,
// on-chip memory and caches. Tiling passes read only this, so adding a target
// is adding a description (and its code generator), not editing passes.
#ifndef MOEC_TARGETS_COMMON_TARGETDESCRIPTION_H_
#define MOEC_TARGETS_COMMON_TARGETDESCRIPTION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace moec {

enum class TargetKind { kCpu, kCuda, kHip };

struct TargetDescription {
  std::string name;            // "x86-64-v3", "sm_90a", "gfx942"
  TargetKind kind = TargetKind::kCpu;
  int64_t compute_units = 1;   // CPU cores, SMs or CUs
  int64_t simd_lanes_f32 = 8;  // f32 lanes per vector register, or threads per warp/wave
  int64_t shared_memory_bytes = 0;  // per workgroup (GPU); 0 on CPUs
  // Threads per workgroup the GPU code generator launches (8 NVIDIA warps, 4
  // AMD wavefronts); 1 on CPUs, where a workgroup is one task.
  int64_t threads_per_workgroup = 1;
  int64_t l2_bytes = 0;
  int64_t memory_bandwidth_gbps = 0;  // for reports; schedules do not depend on it
  std::vector<std::string> required_features;  // CPU features the code uses
  // Element type of the KV caches ("f32" or "bf16"): bf16 on GPUs halves the
  // bytes attention streams at long contexts; CPUs keep f32 (exact).
  std::string kv_cache_element_type = "f32";
  // Split-KV attention (GPU microkernels): the fewest keys a split may take;
  // 0: attention is never split.
  int64_t min_keys_per_split = 0;
  // CPU targets: the -march the code is built for, and the microkernel
  // bitcode (ukernels-<name>.bc) linked into it.
  std::string cpu_march;
  std::string ukernels;
};

// A named target. "native" describes this machine's CPU (x86-64-v4 when it
// has AVX-512, else x86-64-v3, with its core count).
moert::Result<TargetDescription> LookupTarget(const std::string& name);
std::vector<std::string> KnownTargetNames();

}  // namespace moec

#endif  // MOEC_TARGETS_COMMON_TARGETDESCRIPTION_H_
