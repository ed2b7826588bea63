//===- MxDialect.cpp - OCP microscaling formats ---------------------------===//
#include "dialects/mx/MxDialect.h"

#include "llvm/ADT/TypeSwitch.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"

using namespace mlir;
using namespace moec::mx;

#include "dialects/mx/MxDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/mx/MxAttrs.cpp.inc"

#define GET_OP_CLASSES
#include "dialects/mx/MxOps.cpp.inc"

void MxDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/mx/MxAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialects/mx/MxOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// BlockScaledAttr
//===----------------------------------------------------------------------===//

LogicalResult BlockScaledAttr::verify(function_ref<InFlightDiagnostic()> emitError, int64_t axis,
                                      int64_t block) {
  if (axis < 0) return emitError() << "block axis must be non-negative, got " << axis;
  if (block <= 0 || (block & (block - 1)) != 0) {
    return emitError() << "block size must be a positive power of two, got " << block;
  }
  return success();
}

LogicalResult BlockScaledAttr::verifyEncoding(ArrayRef<int64_t> shape, Type elementType,
                                              function_ref<InFlightDiagnostic()> emitError) const {
  if (!isa<Float4E2M1FNType, Float6E2M3FNType, Float6E3M2FNType, Float8E4M3FNType, Float8E5M2Type>(
          elementType)) {
    return emitError() << "#mx.block_scaled needs an MX element type (f4E2M1FN, f6E2M3FN, f6E3M2FN, "
                          "f8E4M3FN or f8E5M2), got "
                       << elementType;
  }
  const int64_t rank = static_cast<int64_t>(shape.size());
  if (getAxis() >= rank) {
    return emitError() << "block axis " << getAxis() << " is out of range for a rank-" << rank << " tensor";
  }
  const int64_t extent = shape[getAxis()];
  if (ShapedType::isDynamic(extent)) {
    return emitError() << "blocked dimension " << getAxis() << " must be static";
  }
  if (extent % getBlock() != 0) {
    return emitError() << "blocked dimension " << getAxis() << " has " << extent
                       << " elements, not a multiple of the block size " << getBlock();
  }
  return success();
}

BlockScaledAttr moec::mx::getBlockScaledEncoding(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor ? dyn_cast_or_null<BlockScaledAttr>(tensor.getEncoding()) : BlockScaledAttr();
}

LogicalResult moec::mx::verifyMxfp4Tensor(Type type, int64_t rank, int64_t axis, StringRef what,
                                          function_ref<InFlightDiagnostic()> emitError) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  BlockScaledAttr encoding = getBlockScaledEncoding(type);
  if (!tensor || !encoding || !isa<Float4E2M1FNType>(tensor.getElementType())) {
    return emitError() << what << " must be an MXFP4 tensor (f4E2M1FN with #mx.block_scaled), got " << type;
  }
  if (tensor.getRank() != rank) {
    return emitError() << what << " must have rank " << rank << ", got " << tensor.getRank();
  }
  if (encoding.getAxis() != axis) {
    return emitError() << what << " must be blocked along dimension " << axis
                       << " (its contraction axis), got axis " << encoding.getAxis();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// DequantizeOp
//===----------------------------------------------------------------------===//

LogicalResult DequantizeOp::verify() {
  auto input = cast<RankedTensorType>(getInput().getType());
  auto result = cast<RankedTensorType>(getResult().getType());
  if (input.getShape() != result.getShape()) {
    return emitOpError() << "result shape " << result << " differs from the input shape " << input;
  }
  if (!isa<FloatType>(result.getElementType()) || result.getEncoding()) {
    return emitOpError() << "result must be a plain float tensor, got " << result;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

// "2880", or "?" for a dynamic size.
static std::string dimString(int64_t size) { return ShapedType::isDynamic(size) ? "?" : std::to_string(size); }

LogicalResult MatmulOp::verify() {
  auto lhs = cast<RankedTensorType>(getLhs().getType());
  auto result = cast<RankedTensorType>(getResult().getType());
  if (failed(verifyMxfp4Tensor(getWeight().getType(), 2, 1, "weight", [&] { return emitOpError(); }))) {
    return failure();
  }
  auto weight = cast<RankedTensorType>(getWeight().getType());
  if (lhs.getRank() != 2) return emitOpError() << "lhs must be [M, K], got " << lhs;
  if (!isa<FloatType>(lhs.getElementType()) || lhs.getEncoding()) {
    return emitOpError() << "lhs must be a plain float tensor, got " << lhs;
  }
  if (lhs.getDimSize(1) != weight.getDimSize(1)) {
    return emitOpError() << "contraction sizes differ: lhs has K = "
                         << dimString(lhs.getDimSize(1)) << ", weight has K = " << weight.getDimSize(1);
  }
  if (!isa<FloatType>(result.getElementType()) || result.getEncoding()) {
    return emitOpError() << "result must be a plain float tensor, got " << result;
  }
  if (result.getRank() != 2 || result.getDimSize(0) != lhs.getDimSize(0) ||
      result.getDimSize(1) != weight.getDimSize(0)) {
    return emitOpError() << "result must be [" << dimString(lhs.getDimSize(0)) << ", " << weight.getDimSize(0)
                         << "], got " << result;
  }
  return success();
}
