// Kernel recipes: what an outlined kernel function computes, as a call to one
// of the microkernel families every target implements (targets/ukernels/*),
// with its bindings, static sizes and compile-time tables. The recipe is
// target independent; each code generator turns it into an entry point of
// its own ABI (CPU: bindings array + workgroup index; GPU: one parameter per
// binding + the grid). One lowering with per-target hooks, not a copy.
#ifndef MOEC_TARGETS_COMMON_KERNELRECIPES_H_
#define MOEC_TARGETS_COMMON_KERNELRECIPES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "llvm/ADT/StringRef.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace moec {

// One argument of a microkernel call.
struct UkArg {
  // kLiveRows: the entry point's live-rows input (i32 [2], see
  // targets/ukernels/common/live_rows.h), bound after the kernel's own
  // bindings. kWorkspace: the dispatch's WORKSPACE buffer
  // (UkCall::workspace_bytes), bound after that.
  enum class Kind { kBinding, kNull, kI64, kF32, kTable, kLiveRows, kWorkspace } kind = Kind::kNull;
  int64_t binding = 0;       // kBinding: index into the kernel's bindings
  int64_t i64 = 0;           // kI64
  float f32 = 0;             // kF32
  std::vector<float> table;  // kTable: a constant f32 array
};

// A microkernel ("moec_uk_linear3") and its arguments; targets append how a
// workgroup finds its share.
struct UkCall {
  std::string function;
  std::vector<UkArg> args;
  // Bytes of zeroed scratch the microkernel keeps (0: none); see kWorkspace.
  uint64_t workspace_bytes = 0;
};

// The recipe of a private kernel function (after moe-plan-memory: arguments
// then results are the bindings). Errors name the kernel and what has no
// microkernel.
moert::Result<UkCall> MatchKernel(mlir::func::FuncOp fn);

// Bindings of `fn`: its arguments, then its results.
uint32_t KernelBindingCount(mlir::func::FuncOp fn);
// An integer of its moe.schedule (`otherwise` without one).
int64_t KernelScheduleInt(mlir::func::FuncOp fn, llvm::StringRef key, int64_t otherwise);
// The workgroup count its moe.schedule chose (1 without one).
uint32_t KernelWorkgroups(mlir::func::FuncOp fn);
// An ELF-safe entry point name for the function ("moec_kernel_decode_3_rope").
std::string KernelSymbol(llvm::StringRef function);

// Runs `argv` (argv[0] an absolute path), output to `log_path`; fails with
// the command and its output.
moert::Status RunTool(const std::vector<std::string>& argv, const std::string& log_path);

}  // namespace moec

#endif  // MOEC_TARGETS_COMMON_KERNELRECIPES_H_
