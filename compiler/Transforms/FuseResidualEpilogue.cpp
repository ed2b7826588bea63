//===- FuseResidualEpilogue.cpp - residual adds into producer epilogues ---===//
#include "compiler/Transforms/KernelUtils.h"
#include "compiler/Transforms/Passes.h"

namespace moec {
#define GEN_PASS_DEF_MOEFUSERESIDUALEPILOGUE
#include "compiler/Transforms/Passes.h.inc"
}  // namespace moec

using namespace mlir;

namespace moec {
namespace {

struct MoeFuseResidualEpiloguePass : impl::MoeFuseResidualEpilogueBase<MoeFuseResidualEpiloguePass> {
  using Base::Base;
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<arith::AddFOp> adds;
    getOperation().walk([&](arith::AddFOp op) {
      if (!op->getParentOfType<moe::KernelOp>()) adds.push_back(op);
    });
    for (arith::AddFOp add : adds) {
      // The residual stream is the other operand; the addend must come from a
      // fusable producer used by this add alone.
      for (Value addend : {add.getRhs(), add.getLhs()}) {
        Operation* producer = addend.getDefiningOp();
        if (!producer || !isa<moe::LinearOp, moe::ExpertDownOp>(producer) || !addend.hasOneUse() ||
            producer->getBlock() != add->getBlock() || producer->getParentOfType<moe::KernelOp>()) {
          continue;
        }
        std::string name = (producer->getName().stripDialect() + "_residual").str();
        if (succeeded(wrapInKernel(rewriter, {producer, add}, name))) break;
      }
    }
  }
};

}  // namespace
}  // namespace moec
