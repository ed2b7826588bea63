//===- AssignWeightLayouts.cpp - the byte layout of every weight ----------===//
#include "compiler/Transforms/Passes.h"
#include "llvm/ADT/StringMap.h"

namespace moec {
#define GEN_PASS_DEF_MOEASSIGNWEIGHTLAYOUTS
#include "compiler/Transforms/Passes.h.inc"
}  // namespace moec

using namespace mlir;

namespace moec {
namespace {

struct MoeAssignWeightLayoutsPass : impl::MoeAssignWeightLayoutsBase<MoeAssignWeightLayoutsPass> {
  using Base::Base;
  void runOnOperation() override {
    Builder b(&getContext());
    llvm::StringMap<StringAttr> chosen;
    WalkResult result = getOperation().walk([&](moe::WeightOp weight) {
      StringAttr layout = b.getStringAttr(mx::getBlockScaledEncoding(weight.getType()) ? "mxfp4_blocks_then_scales"
                                                                                       : "row_major");
      auto [it, inserted] = chosen.try_emplace(weight.getName(), layout);
      if (!inserted && it->second != layout) {
        weight.emitOpError() << "weight \"" << weight.getName() << "\" needs layout " << layout
                             << " here but " << it->second << " elsewhere";
        return WalkResult::interrupt();
      }
      weight->setAttr("moe.layout", layout);
      return WalkResult::advance();
    });
    if (result.wasInterrupted()) signalPassFailure();
  }
};

}  // namespace
}  // namespace moec
