// CPU code generation: each outlined kernel function (after moe-plan-memory)
// becomes an entry point of one ELF shared object, with the runtime's kernel
// signature
//
//   void kernel(void* const* bindings, const uint32_t* constants,
//               uint32_t workgroup_x, uint32_t workgroup_y, uint32_t workgroup_z);
//
// The entry points are built in MLIR's LLVM dialect (binding loads, the static
// shapes and attributes as immediates, compile-time tables such as the YaRN
// frequencies as constant globals) and call the CPU microkernels
// (targets/ukernels/cpu) for the loops; clang-22 compiles the translated LLVM
// IR with the microkernels' bitcode for the requested CPU level and links the
// shared object. Deterministic: same module and target, same bytes.
#ifndef MOEC_TARGETS_CPU_CPUCODEGEN_H_
#define MOEC_TARGETS_CPU_CPUCODEGEN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "mlir/IR/BuiltinOps.h"
#include "targets/common/EntryPoints.h"
#include "targets/common/TargetDescription.h"

namespace moec::cpu {


struct CpuImage {
  std::string shared_object;  // ELF bytes
  std::vector<KernelEntry> kernels;
};

// Generates the shared object for every private kernel function of `module`.
// Errors name the kernel and what has no CPU lowering.
moert::Result<CpuImage> GenerateCpuImage(mlir::ModuleOp module, const TargetDescription& target);

}  // namespace moec::cpu

#endif  // MOEC_TARGETS_CPU_CPUCODEGEN_H_
