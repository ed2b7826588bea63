#include "targets/common/TargetDescription.h"

#include <unistd.h>

namespace moec {

namespace {
int64_t HostCores() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? n : 1;
}

// A GPU: what differs between them, and what all of ours share (256-thread
// workgroups, bf16 KV caches, split-KV from 256 keys).
TargetDescription Gpu(const std::string& name, TargetKind kind, int64_t compute_units, int64_t warp,
                      int64_t shared_memory_bytes, int64_t l2_bytes, int64_t bandwidth_gbps) {
  TargetDescription t;
  t.name = name;
  t.kind = kind;
  t.compute_units = compute_units;
  t.simd_lanes_f32 = warp;
  t.threads_per_workgroup = 256;
  t.min_keys_per_split = 256;
  t.shared_memory_bytes = shared_memory_bytes;
  t.l2_bytes = l2_bytes;
  t.memory_bandwidth_gbps = bandwidth_gbps;
  t.kv_cache_element_type = "bf16";
  return t;
}
}  // namespace

std::vector<std::string> KnownTargetNames() {
  return {"x86-64-v3", "x86-64-v4", "native", "sm_90a", "gfx942", "x86-64-emulated-sm_90a", "x86-64-emulated-gfx942"};
}

moert::Result<TargetDescription> LookupTarget(const std::string& name) {
  TargetDescription t;
  t.name = name;
  if (name == "native") {
    __builtin_cpu_init();
    const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    MOERT_ASSIGN_OR_RETURN(t, LookupTarget(avx512 ? "x86-64-v4" : "x86-64-v3"));
    t.compute_units = HostCores();
    return t;
  }
  if (name == "x86-64-v3") {
    t.kind = TargetKind::kCpu;
    t.compute_units = HostCores();
    t.simd_lanes_f32 = 8;
    t.l2_bytes = 1 << 20;
    t.required_features = {"avx2", "fma", "f16c"};
    t.cpu_march = t.ukernels = name;
    return t;
  }
  // For tests: CPU artifacts whose kernels are a GPU target's microkernels
  // run by the SIMT emulator (targets/ukernels/gpu/simt_adapter.cpp), with
  // that GPU's warp width and bf16 KV caches; baseline x86-64 code.
  if (name == "x86-64-emulated-sm_90a" || name == "x86-64-emulated-gfx942") {
    const bool amd = name == "x86-64-emulated-gfx942";
    t.kind = TargetKind::kCpu;
    // The GPU's compute units, so attention is split as on the GPU (with
    // splits from 16 keys, so the small test models split too); the
    // emulator runs each kernel's whole grid in workgroup 0 anyway.
    t.compute_units = amd ? 304 : 132;
    t.min_keys_per_split = 16;
    t.simd_lanes_f32 = amd ? 64 : 32;
    t.kv_cache_element_type = "bf16";
    t.cpu_march = "x86-64";
    t.ukernels = amd ? "simt64" : "simt32";
    return t;
  }
  if (name == "x86-64-v4") {
    // x86-64-v3 with 512-bit vectors.
    MOERT_ASSIGN_OR_RETURN(t, LookupTarget("x86-64-v3"));
    t.name = name;
    t.cpu_march = t.ukernels = name;
    t.simd_lanes_f32 = 16;
    t.required_features.insert(t.required_features.end(), {"avx512f", "avx512bw", "avx512vl", "avx512dq"});
    return t;
  }
  if (name == "sm_90a") return Gpu(name, TargetKind::kCuda, 132, 32, 228 * 1024, 50 << 20, 3000);
  if (name == "gfx942") return Gpu(name, TargetKind::kHip, 304, 64, 64 * 1024, 4 << 20, 5300);
  std::string known;
  for (const std::string& n : KnownTargetNames()) known += (known.empty() ? "" : ", ") + n;
  return moert::InvalidArgument("unknown target \"", name, "\" (known: ", known, ")");
}

}  // namespace moec
