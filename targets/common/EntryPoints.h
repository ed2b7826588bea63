// Kernel entry points in MLIR's LLVM dialect, for every target: a function
// with the target's kernel ABI that gathers the recipe's arguments (bindings,
// immediates, constant tables) and calls its microkernel. What differs per
// target is only the EntryPointAbi below.
#ifndef MOEC_TARGETS_COMMON_ENTRYPOINTS_H_
#define MOEC_TARGETS_COMMON_ENTRYPOINTS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "targets/common/KernelRecipes.h"

namespace llvm {
class LLVMContext;
class Module;
}  // namespace llvm

namespace moec {

struct EntryPointAbi {
  enum class Bindings {
    // CPU: void(void* const* bindings, const uint32_t* constants, u32 wg_x,
    // u32 wg_y, u32 wg_z); the microkernel also gets (wg_x, workgroups).
    kArray,
    // GPU: one pointer parameter per binding; the microkernel finds its share
    // from the block and thread ids.
    kParameters,
  } bindings = Bindings::kArray;
  // A unit attribute marking the function as a kernel ("nvvm.kernel"), or empty.
  std::string kernel_attribute;
  // Where constant tables live (GPU: 1, global memory).
  unsigned table_address_space = 0;
  // Further attributes of every kernel (the GPUs' fixed workgroup size).
  std::vector<mlir::NamedAttribute> kernel_attributes;
};

// A kernel of a generated image.
struct KernelEntry {
  std::string function;  // the outlined function ("prefill.1.rms_norm_qkv")
  std::string symbol;    // its entry point in the image
  // Its own bindings, then the entry point's live rows (when it reads them),
  // then the workspace (when it needs one).
  uint32_t num_bindings = 0;
  uint32_t workgroups = 1;
  bool live_rows = false;
  uint64_t workspace_bytes = 0;  // the WORKSPACE buffer it needs (0: none)
};

class EntryPointBuilder {
 public:
  EntryPointBuilder(mlir::MLIRContext* context, EntryPointAbi abi);

  // Adds the entry point `symbol` for `call` with `num_bindings` bindings and
  // `workgroups` workgroups.
  void Add(const std::string& symbol, const UkCall& call, uint32_t num_bindings, uint32_t workgroups);

  // Adds an entry point for every private kernel function of `module` (after
  // moe-plan-memory), in order. Errors name a kernel with no microkernel.
  moert::Result<std::vector<KernelEntry>> AddKernels(mlir::ModuleOp module);

  // The LLVM IR of every entry point added (with the dialect translations the
  // module needs registered on its context).
  moert::Result<std::unique_ptr<llvm::Module>> Translate(llvm::LLVMContext& context, const std::string& name);

 private:
  mlir::OpBuilder builder_;
  EntryPointAbi abi_;
  mlir::OwningOpRef<mlir::ModuleOp> module_;
  int64_t tables_ = 0;
};

}  // namespace moec

#endif  // MOEC_TARGETS_COMMON_ENTRYPOINTS_H_
