//===- ExpertOps.cpp - the split halves of moe.experts --------------------===//
//
// Verifiers of moe.expert_gate_up and moe.expert_down, the ops
// moe-split-experts produces. (Their definitions are generated into
// MoeDialect.cpp with the other ops.)
//
//===----------------------------------------------------------------------===//

#include "dialects/moe/MoeDialect.h"

using namespace mlir;
using namespace moec::moe;

namespace {
RankedTensorType tensorOf(Value v) { return cast<RankedTensorType>(v.getType()); }
}  // namespace

LogicalResult ExpertGateUpOp::verify() {
  auto diag = [&] { return emitOpError(); };
  if (failed(moec::mx::verifyMxfp4Tensor(getGateUp().getType(), 3, 2, "gate_up", diag))) return failure();
  RankedTensorType input = tensorOf(getInput()), indices = tensorOf(getExpertIndices());
  RankedTensorType gateUp = tensorOf(getGateUp()), result = tensorOf(getResult());
  if (input.getRank() != 2 || indices.getRank() != 2 || indices.getDimSize(0) != input.getDimSize(0)) {
    return emitOpError() << "input must be [rows, hidden] and expert_indices [rows, top_k], got " << input << " and "
                         << indices;
  }
  if (gateUp.getDimSize(2) != input.getDimSize(1) || gateUp.getDimSize(1) % 2 != 0) {
    return emitOpError() << "gate_up must be [experts, 2 * intermediate, " << input.getDimSize(1) << "], got "
                         << gateUp;
  }
  if (tensorOf(getGateUpBias()).getShape() != ArrayRef<int64_t>{gateUp.getDimSize(0), gateUp.getDimSize(1)}) {
    return emitOpError() << "gate_up_bias must be [" << gateUp.getDimSize(0) << ", " << gateUp.getDimSize(1)
                         << "], got " << getGateUpBias().getType();
  }
  const SmallVector<int64_t> expected = {input.getDimSize(0), indices.getDimSize(1), gateUp.getDimSize(1) / 2};
  if (result.getShape() != ArrayRef<int64_t>(expected)) {
    return emitOpError() << "result must be [rows, top_k, intermediate] = [" << expected[0] << ", " << expected[1]
                         << ", " << expected[2] << "], got " << result;
  }
  return success();
}

LogicalResult ExpertDownOp::verify() {
  auto diag = [&] { return emitOpError(); };
  if (failed(moec::mx::verifyMxfp4Tensor(getDown().getType(), 3, 2, "down", diag))) return failure();
  RankedTensorType activation = tensorOf(getActivation()), down = tensorOf(getDown());
  if (activation.getRank() != 3) {
    return emitOpError() << "activation must be [rows, top_k, intermediate], got " << activation;
  }
  const int64_t rows = activation.getDimSize(0), k = activation.getDimSize(1);
  if (tensorOf(getRoutingWeights()).getShape() != ArrayRef<int64_t>{rows, k} ||
      tensorOf(getExpertIndices()).getShape() != ArrayRef<int64_t>{rows, k}) {
    return emitOpError() << "routing_weights and expert_indices must be [" << rows << ", " << k << "]";
  }
  if (down.getDimSize(2) != activation.getDimSize(2)) {
    return emitOpError() << "down takes " << down.getDimSize(2) << " inputs but the activation has "
                         << activation.getDimSize(2);
  }
  if (tensorOf(getDownBias()).getShape() != ArrayRef<int64_t>{down.getDimSize(0), down.getDimSize(1)}) {
    return emitOpError() << "down_bias must be [" << down.getDimSize(0) << ", " << down.getDimSize(1) << "], got "
                         << getDownBias().getType();
  }
  if (tensorOf(getResult()).getShape() != ArrayRef<int64_t>{rows, down.getDimSize(1)}) {
    return emitOpError() << "result must be [" << rows << ", " << down.getDimSize(1) << "], got "
                         << getResult().getType();
  }
  return success();
}
