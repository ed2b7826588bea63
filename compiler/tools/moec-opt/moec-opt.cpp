//===- moec-opt.cpp - moec's mlir-opt -------------------------------------===//
//
// MlirOptMain with every dialect and pass of the project registered, plus the
// upstream dialects the pipeline lowers through and the generic transforms.
//
//===----------------------------------------------------------------------===//

#include "compiler/Registration.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char** argv) {
  mlir::DialectRegistry registry;
  moec::registerAllDialects(registry);
  moec::registerAllPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(argc, argv, "moec optimizer driver\n", registry));
}
