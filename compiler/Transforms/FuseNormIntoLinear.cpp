//===- FuseNormIntoLinear.cpp - rms_norm into its linears' prologue -------===//
#include "compiler/Transforms/KernelUtils.h"
#include "compiler/Transforms/Passes.h"

namespace moec {
#define GEN_PASS_DEF_MOEFUSENORMINTOLINEAR
#include "compiler/Transforms/Passes.h.inc"
}  // namespace moec

using namespace mlir;

namespace moec {
namespace {

// "rms_norm_qkv" for three linears, else "rms_norm_" + the consumer kind.
std::string kernelName(ArrayRef<Operation*> consumers) {
  if (consumers.size() == 3 && llvm::all_of(consumers, [](Operation* op) { return isa<moe::LinearOp>(op); })) {
    return "rms_norm_qkv";
  }
  std::string name = "rms_norm";
  for (Operation* op : consumers) {
    name += "_";
    name += op->getName().stripDialect().str();
  }
  return name;
}

struct MoeFuseNormIntoLinearPass : impl::MoeFuseNormIntoLinearBase<MoeFuseNormIntoLinearPass> {
  using Base::Base;
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<moe::RmsNormOp> norms;
    getOperation().walk([&](moe::RmsNormOp op) {
      if (!op->getParentOfType<moe::KernelOp>()) norms.push_back(op);
    });
    for (moe::RmsNormOp norm : norms) {
      SmallVector<Operation*> group = {norm};
      SmallVector<Operation*> consumers;
      for (Operation* user : norm->getUsers()) {
        if (!isa<moe::LinearOp, moe::RouterOp, moe::UnembedOp>(user)) continue;
        // The normalised rows must be the linear's input, not its weight.
        if (user->getOperand(0) != norm.getResult() || user->getBlock() != norm->getBlock()) continue;
        if (llvm::is_contained(consumers, user) || user->getParentOfType<moe::KernelOp>()) continue;
        consumers.push_back(user);
      }
      if (consumers.empty()) continue;
      llvm::sort(consumers, [](Operation* a, Operation* b) { return a->isBeforeInBlock(b); });
      group.append(consumers.begin(), consumers.end());
      // Leaves the IR unchanged when the kernel could not dominate a use.
      (void)wrapInKernel(rewriter, group, kernelName(consumers));
    }
  }
};

}  // namespace
}  // namespace moec
