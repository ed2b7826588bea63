//===- MxDialect.h - OCP microscaling formats ---------------------*- C++ -*-===//
#ifndef MOEC_DIALECTS_MX_MXDIALECT_H_
#define MOEC_DIALECTS_MX_MXDIALECT_H_

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/TensorEncoding.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/mx/MxDialect.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/mx/MxAttrs.h.inc"

#define GET_OP_CLASSES
#include "dialects/mx/MxOps.h.inc"

namespace moec::mx {

/// The block-scaled encoding of `type`, or null.
BlockScaledAttr getBlockScaledEncoding(mlir::Type type);

/// Checks that `type` is an MXFP4 tensor (f4E2M1FN elements, #mx.block_scaled
/// encoding) of rank `rank` blocked along `axis`; `what` names the operand in
/// the diagnostic.
llvm::LogicalResult verifyMxfp4Tensor(mlir::Type type, int64_t rank, int64_t axis, llvm::StringRef what,
                                      llvm::function_ref<mlir::InFlightDiagnostic()> emitError);

}  // namespace moec::mx

#endif  // MOEC_DIALECTS_MX_MXDIALECT_H_
