//===- FormKernels.cpp - one kernel per remaining compute op --------------===//
#include "compiler/Transforms/KernelUtils.h"
#include "compiler/Transforms/Passes.h"

namespace moec {
#define GEN_PASS_DEF_MOEFORMKERNELS
#include "compiler/Transforms/Passes.h.inc"
}  // namespace moec

using namespace mlir;

namespace moec {
namespace {

std::string kernelName(Operation* op) {
  if (isa<moe::ExpertGateUpOp>(op)) return "expert_gate_up_swiglu";
  if (isa<arith::AddFOp>(op)) return "residual_add";
  return op->getName().stripDialect().str();
}

struct MoeFormKernelsPass : impl::MoeFormKernelsBase<MoeFormKernelsPass> {
  using Base::Base;
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<Operation*> ops;
    for (Block& block : getOperation().getBody()) {
      for (Operation& op : block) {
        if (isKernelCandidate(&op)) ops.push_back(&op);
      }
    }
    for (Operation* op : ops) {
      if (failed(wrapInKernel(rewriter, {op}, kernelName(op)))) {
        op->emitOpError("could not be placed in a kernel");
        return signalPassFailure();
      }
    }
  }
};

}  // namespace
}  // namespace moec
