//===- Passes.h - moec's target-independent passes ----------------*- C++ -*-===//
#ifndef MOEC_COMPILER_TRANSFORMS_PASSES_H_
#define MOEC_COMPILER_TRANSFORMS_PASSES_H_

#include "dialects/moe/MoeDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace moec {

#define GEN_PASS_DECL
#include "compiler/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/Transforms/Passes.h.inc"

}  // namespace moec

#endif  // MOEC_COMPILER_TRANSFORMS_PASSES_H_
