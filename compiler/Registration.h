//===- Registration.h - every dialect and pass of moec ------------*- C++ -*-===//
#ifndef MOEC_COMPILER_REGISTRATION_H_
#define MOEC_COMPILER_REGISTRATION_H_

namespace mlir {
class DialectRegistry;
}  // namespace mlir

namespace moec {

/// The project's dialects and the upstream ones the pipeline produces.
void registerAllDialects(mlir::DialectRegistry& registry);

/// The project's passes and the upstream generic transforms (canonicalize,
/// cse, ...), so pipelines can name them.
void registerAllPasses();

}  // namespace moec

#endif  // MOEC_COMPILER_REGISTRATION_H_
