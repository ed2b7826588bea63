//===- MoeDialect.h - gpt-oss at graph level ----------------------*- C++ -*-===//
#ifndef MOEC_DIALECTS_MOE_MOEDIALECT_H_
#define MOEC_DIALECTS_MOE_MOEDIALECT_H_

#include "dialects/mx/MxDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/moe/MoeDialect.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/moe/MoeAttrs.h.inc"

#define GET_OP_CLASSES
#include "dialects/moe/MoeOps.h.inc"

#endif  // MOEC_DIALECTS_MOE_MOEDIALECT_H_
