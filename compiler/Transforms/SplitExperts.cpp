//===- SplitExperts.cpp - moe.experts -> gate_up + down -------------------===//
#include "compiler/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace moec {
#define GEN_PASS_DEF_MOESPLITEXPERTS
#include "compiler/Transforms/Passes.h.inc"
}  // namespace moec

using namespace mlir;

namespace moec {
namespace {

struct SplitExpertsPattern : OpRewritePattern<moe::ExpertsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(moe::ExpertsOp op, PatternRewriter& rewriter) const override {
    auto input = cast<RankedTensorType>(op.getInput().getType());
    auto indices = cast<RankedTensorType>(op.getExpertIndices().getType());
    auto down = cast<RankedTensorType>(op.getDown().getType());
    auto activationType = RankedTensorType::get(
        {input.getDimSize(0), indices.getDimSize(1), down.getDimSize(2)}, rewriter.getF32Type());
    Value activation = moe::ExpertGateUpOp::create(rewriter, op.getLoc(), activationType, op.getInput(),
                                                   op.getExpertIndices(), op.getGateUp(), op.getGateUpBias(),
                                                   op.getSwigluLimitAttr(), op.getSwigluAlphaAttr());
    auto combined = moe::ExpertDownOp::create(rewriter, op.getLoc(), op.getType(), activation,
                                              op.getRoutingWeights(), op.getExpertIndices(), op.getDown(),
                                              op.getDownBias());
    // Keep discardable attributes (the layer index) on both halves.
    for (NamedAttribute attr : op->getDiscardableAttrs()) {
      activation.getDefiningOp()->setAttr(attr.getName(), attr.getValue());
      combined->setAttr(attr.getName(), attr.getValue());
    }
    rewriter.replaceOp(op, combined.getResult());
    return success();
  }
};

struct MoeSplitExpertsPass : impl::MoeSplitExpertsBase<MoeSplitExpertsPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<SplitExpertsPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns)))) signalPassFailure();
  }
};

}  // namespace
}  // namespace moec
