//===- Registration.cpp - every dialect and pass of moec -----------------===//
#include "compiler/Registration.h"

#include "compiler/Transforms/Passes.h"
#include "dialects/moe/MoeDialect.h"
#include "dialects/mx/MxDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Transforms/Passes.h"

namespace moec {

void registerAllDialects(mlir::DialectRegistry& registry) {
  registry.insert<moe::MoeDialect, mx::MxDialect, mlir::arith::ArithDialect, mlir::func::FuncDialect,
                  mlir::tensor::TensorDialect>();
}

void registerAllPasses() {
  mlir::registerTransformsPasses();
  registerMoecPasses();
}

}  // namespace moec
