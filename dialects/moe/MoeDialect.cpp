//===- MoeDialect.cpp - gpt-oss at graph level ----------------------------===//
#include "dialects/moe/MoeDialect.h"

#include "llvm/ADT/TypeSwitch.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace moec::moe;

#include "dialects/moe/MoeDialect.cpp.inc"

// Attribute parameters of type APFloat are written as plain decimals
// ("theta = 150000.0"); the generic field parser has no float case.
namespace mlir {
template <>
struct FieldParser<llvm::APFloat> {
  static FailureOr<llvm::APFloat> parse(AsmParser& parser) {
    double value;
    if (parser.parseFloat(value)) return failure();
    return llvm::APFloat(value);
  }
};
}  // namespace mlir

#define GET_ATTRDEF_CLASSES
#include "dialects/moe/MoeAttrs.cpp.inc"

#define GET_OP_CLASSES
#include "dialects/moe/MoeOps.cpp.inc"

void MoeDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/moe/MoeAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialects/moe/MoeOps.cpp.inc"
      >();
}

namespace {

RankedTensorType tensorOf(Value v) { return cast<RankedTensorType>(v.getType()); }

// "2880", or "?" for a dynamic size.
std::string dimString(int64_t size) { return ShapedType::isDynamic(size) ? "?" : std::to_string(size); }

// "[16, 2880]"
std::string shapeString(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += dimString(shape[i]);
  }
  return s + "]";
}

// Checks that `value` has exactly `shape`; `what` names it in the message.
LogicalResult expectShape(Operation* op, Value value, ArrayRef<int64_t> shape, StringRef what) {
  RankedTensorType type = tensorOf(value);
  if (type.getShape() == shape) return success();
  return op->emitOpError() << what << " must have shape " << shapeString(shape) << ", got "
                           << shapeString(type.getShape());
}

LogicalResult expectRank(Operation* op, Value value, int64_t rank, StringRef what, StringRef layout) {
  RankedTensorType type = tensorOf(value);
  if (type.getRank() == rank) return success();
  return op->emitOpError() << what << " must be rank " << rank << " (" << layout << "), got " << type;
}

LogicalResult expectStatic(Operation* op, Value value, StringRef what) {
  if (tensorOf(value).hasStaticShape()) return success();
  return op->emitOpError() << what << " must have a static shape, got " << value.getType();
}

}  // namespace

//===----------------------------------------------------------------------===//
// YarnAttr
//===----------------------------------------------------------------------===//

LogicalResult YarnAttr::verify(function_ref<InFlightDiagnostic()> emitError, APFloat theta, APFloat factor,
                               APFloat betaFast, APFloat betaSlow, int64_t originalContext, bool truncate) {
  if (!(theta.convertToDouble() > 1.0)) return emitError() << "rope theta must be > 1, got " << theta.convertToDouble();
  if (!(factor.convertToDouble() >= 1.0)) {
    return emitError() << "YaRN factor must be >= 1, got " << factor.convertToDouble();
  }
  if (!(betaSlow.convertToDouble() > 0.0) || !(betaFast.convertToDouble() > betaSlow.convertToDouble())) {
    return emitError() << "YaRN needs beta_fast > beta_slow > 0, got beta_fast = " << betaFast.convertToDouble()
                       << " and beta_slow = " << betaSlow.convertToDouble();
  }
  if (originalContext <= 0) return emitError() << "original_context must be positive, got " << originalContext;
  return success();
}

//===----------------------------------------------------------------------===//
// WeightOp
//===----------------------------------------------------------------------===//

LogicalResult WeightOp::verify() {
  if (getName().empty()) return emitOpError() << "needs a non-empty weight name";
  if (!tensorOf(getResult()).hasStaticShape()) {
    return emitOpError() << "weight \"" << getName() << "\" must have a static shape, got " << getResult().getType();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// EmbeddingOp
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::verify() {
  if (failed(expectRank(*this, getTable(), 2, "table", "[vocab, hidden]")) ||
      failed(expectRank(*this, getTokens(), 1, "tokens", "[rows]"))) {
    return failure();
  }
  return expectShape(*this, getResult(), {tensorOf(getTokens()).getDimSize(0), tensorOf(getTable()).getDimSize(1)},
                     "result");
}

//===----------------------------------------------------------------------===//
// RmsNormOp
//===----------------------------------------------------------------------===//

LogicalResult RmsNormOp::verify() {
  if (failed(expectRank(*this, getInput(), 2, "input", "[rows, hidden]"))) return failure();
  const int64_t hidden = tensorOf(getInput()).getDimSize(1);
  if (failed(expectShape(*this, getGain(), {hidden}, "gain"))) return failure();
  if (!(getEpsilon().convertToDouble() > 0.0)) {
    return emitOpError() << "epsilon must be positive, got " << getEpsilon().convertToDouble();
  }
  return expectShape(*this, getResult(), tensorOf(getInput()).getShape(), "result");
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::verify() {
  if (failed(expectRank(*this, getInput(), 2, "input", "[rows, in]")) ||
      failed(expectRank(*this, getWeight(), 2, "weight", "[out, in]"))) {
    return failure();
  }
  RankedTensorType input = tensorOf(getInput()), weight = tensorOf(getWeight());
  if (input.getDimSize(1) != weight.getDimSize(1)) {
    return emitOpError() << "input has " << dimString(input.getDimSize(1)) << " features but the weight expects "
                         << dimString(weight.getDimSize(1));
  }
  if (getBias() && failed(expectShape(*this, getBias(), {weight.getDimSize(0)}, "bias"))) return failure();
  return expectShape(*this, getResult(), {input.getDimSize(0), weight.getDimSize(0)}, "result");
}

//===----------------------------------------------------------------------===//
// RopeOp
//===----------------------------------------------------------------------===//

LogicalResult RopeOp::verify() {
  if (failed(expectRank(*this, getInput(), 2, "input", "[rows, heads * head_dim]"))) return failure();
  const int64_t headDim = static_cast<int64_t>(getHeadDim());
  if (headDim % 2 != 0) return emitOpError() << "head_dim must be even, got " << headDim;
  const int64_t width = tensorOf(getInput()).getDimSize(1);
  if (!ShapedType::isDynamic(width) && width % headDim != 0) {
    return emitOpError() << "row width " << width << " is not a whole number of heads of " << headDim;
  }
  return expectShape(*this, getPositions(), {tensorOf(getInput()).getDimSize(0)}, "positions");
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

LogicalResult AttentionOp::verify() {
  const int64_t H = static_cast<int64_t>(getNumHeads()), G = static_cast<int64_t>(getNumKvHeads());
  const int64_t d = static_cast<int64_t>(getHeadDim());
  if (H % G != 0) {
    return emitOpError() << "num_heads (" << H << ") is not a multiple of num_kv_heads (" << G << ")";
  }
  if (failed(expectRank(*this, getQuery(), 2, "query", "[rows, num_heads * head_dim]"))) return failure();
  const int64_t rows = tensorOf(getQuery()).getDimSize(0);
  if (failed(expectShape(*this, getQuery(), {rows, H * d}, "query")) ||
      failed(expectShape(*this, getKey(), {rows, G * d}, "key")) ||
      failed(expectShape(*this, getValue(), {rows, G * d}, "value")) ||
      failed(expectShape(*this, getSinks(), {H}, "sinks")) ||
      failed(expectShape(*this, getSlots(), {rows}, "slots")) ||
      failed(expectShape(*this, getPositions(), {rows}, "positions")) ||
      failed(expectRank(*this, getKeyCache(), 4, "key_cache", "[slots, capacity, num_kv_heads, head_dim]")) ||
      failed(expectStatic(*this, getKeyCache(), "key_cache"))) {
    return failure();
  }
  RankedTensorType cache = tensorOf(getKeyCache());
  if (cache.getDimSize(2) != G || cache.getDimSize(3) != d) {
    return emitOpError() << "key_cache must be [slots, capacity, " << G << ", " << d << "], got "
                         << shapeString(cache.getShape());
  }
  if (getValueCache().getType() != cache) {
    return emitOpError() << "value_cache type " << getValueCache().getType() << " differs from key_cache type "
                         << cache;
  }
  if (getNewKeyCache().getType() != cache || getNewValueCache().getType() != cache) {
    return emitOpError() << "updated caches must have the cache type " << cache;
  }
  if (std::optional<uint64_t> window = getSlidingWindow()) {
    // The attribute is a signless i64; read it signed so that -1 is not 2^64 - 1.
    const int64_t w = static_cast<int64_t>(*window);
    // Ring sizing (window + rows - 1, or the whole context) is the
    // importer's and memory plan's invariant: the op cannot see the context.
    if (w < 1) return emitOpError() << "sliding_window must be positive, got " << w;
  }
  if (!(getScale().convertToDouble() > 0.0)) {
    return emitOpError() << "scale must be positive, got " << getScale().convertToDouble();
  }
  return expectShape(*this, getResult(), {rows, H * d}, "result");
}

//===----------------------------------------------------------------------===//
// RouterOp
//===----------------------------------------------------------------------===//

LogicalResult RouterOp::verify() {
  if (failed(expectRank(*this, getInput(), 2, "input", "[rows, hidden]")) ||
      failed(expectRank(*this, getWeight(), 2, "weight", "[experts, hidden]"))) {
    return failure();
  }
  RankedTensorType input = tensorOf(getInput()), weight = tensorOf(getWeight());
  const int64_t experts = weight.getDimSize(0), k = static_cast<int64_t>(getTopK());
  if (weight.getDimSize(1) != input.getDimSize(1)) {
    return emitOpError() << "input has " << dimString(input.getDimSize(1))
                         << " features but the router weight expects " << dimString(weight.getDimSize(1));
  }
  if (failed(expectShape(*this, getBias(), {experts}, "bias"))) return failure();
  if (!ShapedType::isDynamic(experts) && k > experts) {
    return emitOpError() << "top_k (" << k << ") exceeds the number of experts (" << experts << ")";
  }
  const int64_t rows = input.getDimSize(0);
  if (failed(expectShape(*this, getRoutingWeights(), {rows, k}, "routing_weights"))) return failure();
  return expectShape(*this, getExpertIndices(), {rows, k}, "expert_indices");
}

//===----------------------------------------------------------------------===//
// ExpertsOp
//===----------------------------------------------------------------------===//

LogicalResult ExpertsOp::verify() {
  auto diag = [&] { return emitOpError(); };
  if (failed(expectRank(*this, getInput(), 2, "input", "[rows, hidden]")) ||
      failed(moec::mx::verifyMxfp4Tensor(getGateUp().getType(), 3, 2, "gate_up", diag)) ||
      failed(moec::mx::verifyMxfp4Tensor(getDown().getType(), 3, 2, "down", diag))) {
    return failure();
  }
  RankedTensorType input = tensorOf(getInput()), gateUp = tensorOf(getGateUp()), down = tensorOf(getDown());
  const int64_t rows = input.getDimSize(0), hidden = input.getDimSize(1);
  const int64_t experts = gateUp.getDimSize(0), intermediate = down.getDimSize(2);
  if (gateUp.getDimSize(2) != hidden) {
    return emitOpError() << "gate_up takes " << gateUp.getDimSize(2) << " inputs but the rows have "
                         << dimString(hidden);
  }
  if (gateUp.getDimSize(1) != 2 * intermediate) {
    return emitOpError() << "gate_up has " << dimString(gateUp.getDimSize(1)) << " outputs; SwiGLU over down's "
                         << intermediate << " inputs needs " << 2 * intermediate << " (gate and linear interleaved)";
  }
  if (down.getDimSize(0) != experts || down.getDimSize(1) != hidden) {
    return emitOpError() << "down must be [" << dimString(experts) << ", " << dimString(hidden) << ", " << intermediate
                         << "], got "
                         << shapeString(down.getShape());
  }
  if (failed(expectShape(*this, getGateUpBias(), {experts, 2 * intermediate}, "gate_up_bias")) ||
      failed(expectShape(*this, getDownBias(), {experts, hidden}, "down_bias")) ||
      failed(expectRank(*this, getRoutingWeights(), 2, "routing_weights", "[rows, top_k]"))) {
    return failure();
  }
  const int64_t k = tensorOf(getRoutingWeights()).getDimSize(1);
  if (failed(expectShape(*this, getRoutingWeights(), {rows, k}, "routing_weights")) ||
      failed(expectShape(*this, getExpertIndices(), {rows, k}, "expert_indices"))) {
    return failure();
  }
  if (!ShapedType::isDynamic(k) && !ShapedType::isDynamic(experts) && k > experts) {
    return emitOpError() << "routes " << k << " experts per row but only " << experts << " exist";
  }
  if (!(getSwigluLimit().convertToDouble() > 0.0)) {
    return emitOpError() << "swiglu_limit must be positive, got " << getSwigluLimit().convertToDouble();
  }
  return expectShape(*this, getResult(), {rows, hidden}, "result");
}

//===----------------------------------------------------------------------===//
// UnembedOp / SampleOp
//===----------------------------------------------------------------------===//

LogicalResult UnembedOp::verify() {
  if (failed(expectRank(*this, getInput(), 2, "input", "[rows, hidden]")) ||
      failed(expectRank(*this, getWeight(), 2, "weight", "[vocab, hidden]"))) {
    return failure();
  }
  RankedTensorType input = tensorOf(getInput()), weight = tensorOf(getWeight());
  if (input.getDimSize(1) != weight.getDimSize(1)) {
    return emitOpError() << "input has " << dimString(input.getDimSize(1))
                         << " features but the unembedding expects " << dimString(weight.getDimSize(1));
  }
  return expectShape(*this, getLogits(), {input.getDimSize(0), weight.getDimSize(0)}, "logits");
}

LogicalResult SampleOp::verify() {
  if (failed(expectRank(*this, getLogits(), 2, "logits", "[rows, vocab]"))) return failure();
  return expectShape(*this, getTokens(), {tensorOf(getLogits()).getDimSize(0)}, "tokens");
}

//===----------------------------------------------------------------------===//
// KernelOp
//===----------------------------------------------------------------------===//

void KernelOp::build(OpBuilder& builder, OperationState& state, TypeRange resultTypes, StringRef name) {
  state.addTypes(resultTypes);
  state.addAttribute(getNameAttrName(state.name), builder.getStringAttr(name));
  Region* body = state.addRegion();
  body->push_back(new Block());
}

LogicalResult KernelOp::verify() {
  if (getName().empty()) return emitOpError() << "needs a non-empty kernel name";
  auto yield = cast<YieldOp>(getBody().front().getTerminator());
  if (yield.getValues().getTypes() != getResultTypes()) {
    return emitOpError() << "yields " << yield.getValues().size() << " values of types " << yield.getValues().getTypes()
                         << " but the kernel has results of types " << getResultTypes();
  }
  return success();
}

namespace {

// A kernel whose body only yields computes nothing: its results are the
// yielded values themselves (defined outside the kernel).
struct FoldEmptyKernel : OpRewritePattern<KernelOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(KernelOp op, PatternRewriter& rewriter) const override {
    Block& body = op.getBody().front();
    if (!llvm::hasSingleElement(body)) return failure();
    rewriter.replaceOp(op, cast<YieldOp>(body.getTerminator()).getValues());
    return success();
  }
};

}  // namespace

void KernelOp::getCanonicalizationPatterns(RewritePatternSet& results, MLIRContext* context) {
  results.add<FoldEmptyKernel>(context);
}
