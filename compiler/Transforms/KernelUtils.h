//===- KernelUtils.h - forming moe.kernel regions -----------------*- C++ -*-===//
#ifndef MOEC_COMPILER_TRANSFORMS_KERNELUTILS_H_
#define MOEC_COMPILER_TRANSFORMS_KERNELUTILS_H_

#include "dialects/moe/MoeDialect.h"
#include "mlir/IR/PatternMatch.h"

namespace moec {

/// Moves `ops` (all in one block, none inside a moe.kernel) into a new
/// moe.kernel named `name`, placed where the last of them was. The kernel
/// yields every result still used outside the group. Fails, changing
/// nothing, when a result is used by an op between the group's first and
/// last op (the kernel could not dominate that use).
mlir::FailureOr<moe::KernelOp> wrapInKernel(mlir::RewriterBase& rewriter, llvm::ArrayRef<mlir::Operation*> ops,
                                            llvm::StringRef name);

/// True for ops that do work and so belong to a kernel (not moe.weight,
/// constants or terminators).
bool isKernelCandidate(mlir::Operation* op);

}  // namespace moec

#endif  // MOEC_COMPILER_TRANSFORMS_KERNELUTILS_H_
