// GPU code generation, one lowering for NVIDIA (sm_90a: PTX, and a cubin
// when ptxas is installed) and AMD (gfx942: HSACO): each outlined kernel
// function becomes a kernel entry point in MLIR's LLVM dialect (marked with
// nvvm.kernel or rocdl.kernel) taking one device pointer per binding, which
// calls the GPU microkernel its recipe names (targets/ukernels/gpu, built to
// bitcode per target with clang-22). The only per-target parts are the
// triple, the kernel attribute and the final assembler or linker.
#ifndef MOEC_TARGETS_GPU_GPUCODEGEN_H_
#define MOEC_TARGETS_GPU_GPUCODEGEN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "mlir/IR/BuiltinOps.h"
#include "targets/common/EntryPoints.h"
#include "targets/common/TargetDescription.h"

namespace moec::gpu {


enum class GpuImageFormat { kPtx, kCubin, kHsaco };

// The kernel that generates synthetic weights on the device (its function
// name in GpuImage::kernels): bindings (destination, synthetic::Part
// descriptor), from targets/ukernels/gpu/synthetic_fill.cpp.
inline constexpr char kSyntheticFillKernel[] = "synthetic_fill";

struct GpuImageOptions {
  // Add the kSyntheticFillKernel entry point (artifacts with synthetic weights).
  bool synthetic_fill = false;
};

struct GpuImage {
  GpuImageFormat format = GpuImageFormat::kPtx;
  std::string bytes;     // PTX text, cubin or HSACO ELF
  std::string assembly;  // PTX, or the AMDGCN disassembly, for tests and users
  std::vector<KernelEntry> kernels;
};

// Generates the device image for every private kernel function of `module`.
// For sm_90a the image is a cubin when ptxas is found (CUDA_HOME, /usr/local/cuda
// or PATH), else PTX for the driver to compile at load.
moert::Result<GpuImage> GenerateGpuImage(mlir::ModuleOp module, const TargetDescription& target,
                                         const GpuImageOptions& options = {});

}  // namespace moec::gpu

#endif  // MOEC_TARGETS_GPU_GPUCODEGEN_H_
