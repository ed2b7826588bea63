#include "targets/common/EntryPoints.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/LLVMIR/ROCDLDialect.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/ROCDL/ROCDLToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

namespace moec {

using namespace mlir;

EntryPointBuilder::EntryPointBuilder(MLIRContext* context, EntryPointAbi abi)
    : builder_(context), abi_(std::move(abi)) {
  context->loadDialect<LLVM::LLVMDialect, NVVM::NVVMDialect, ROCDL::ROCDLDialect>();
  module_ = ModuleOp::create(builder_.getUnknownLoc());
}

void EntryPointBuilder::Add(const std::string& symbol, const UkCall& call, uint32_t num_bindings,
                            uint32_t workgroups) {
  OpBuilder& b = builder_;
  MLIRContext* ctx = b.getContext();
  Location loc = b.getUnknownLoc();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  Type i64 = b.getI64Type(), i32 = b.getI32Type(), f32 = b.getF32Type();
  auto voidTy = LLVM::LLVMVoidType::get(ctx);
  const bool array = abi_.bindings == EntryPointAbi::Bindings::kArray;

  // The microkernel's declaration, once per module.
  auto callee = module_->lookupSymbol<LLVM::LLVMFuncOp>(call.function);
  if (!callee) {
    SmallVector<Type> params;
    for (const UkArg& a : call.args) {
      params.push_back(a.kind == UkArg::Kind::kI64 ? Type(i64) : a.kind == UkArg::Kind::kF32 ? Type(f32) : Type(ptr));
    }
    if (array) params.append({i64, i64});  // workgroup, workgroups
    b.setInsertionPointToEnd(module_->getBody());
    callee = LLVM::LLVMFuncOp::create(b, loc, call.function, LLVM::LLVMFunctionType::get(voidTy, params));
  }

  // Constant tables (the YaRN frequencies) become private globals.
  std::vector<LLVM::GlobalOp> tables(call.args.size());
  for (size_t i = 0; i < call.args.size(); ++i) {
    if (call.args[i].kind != UkArg::Kind::kTable) continue;
    const std::vector<float>& values = call.args[i].table;
    auto data = DenseElementsAttr::get(RankedTensorType::get({static_cast<int64_t>(values.size())}, f32),
                                       ArrayRef<float>(values));
    b.setInsertionPointToEnd(module_->getBody());
    tables[i] = LLVM::GlobalOp::create(b, loc, LLVM::LLVMArrayType::get(f32, values.size()), /*isConstant=*/true,
                                       LLVM::Linkage::Internal, "moec_table_" + std::to_string(tables_++), data,
                                       /*alignment=*/16, abi_.table_address_space);
  }

  b.setInsertionPointToEnd(module_->getBody());
  SmallVector<Type> params = array ? SmallVector<Type>{ptr, ptr, i32, i32, i32} : SmallVector<Type>(num_bindings, ptr);
  auto fn = LLVM::LLVMFuncOp::create(b, loc, symbol, LLVM::LLVMFunctionType::get(voidTy, params));
  if (!abi_.kernel_attribute.empty()) fn->setAttr(abi_.kernel_attribute, b.getUnitAttr());
  for (const NamedAttribute& attribute : abi_.kernel_attributes) fn->setAttr(attribute.getName(), attribute.getValue());
  Block* entry = fn.addEntryBlock(b);
  b.setInsertionPointToStart(entry);
  SmallVector<Value> args;
  for (size_t i = 0; i < call.args.size(); ++i) {
    const UkArg& a = call.args[i];
    switch (a.kind) {
      case UkArg::Kind::kBinding:
      case UkArg::Kind::kLiveRows:   // AddKernels gave these two the bindings after the kernel's own
      case UkArg::Kind::kWorkspace:
        if (array) {
          Value slot = LLVM::GEPOp::create(b, loc, ptr, ptr, entry->getArgument(0),
                                           ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(a.binding)});
          args.push_back(LLVM::LoadOp::create(b, loc, ptr, slot));
        } else {
          args.push_back(entry->getArgument(static_cast<unsigned>(a.binding)));
        }
        break;
      case UkArg::Kind::kNull:
        args.push_back(LLVM::ZeroOp::create(b, loc, ptr));
        break;
      case UkArg::Kind::kI64:
        args.push_back(LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(a.i64)));
        break;
      case UkArg::Kind::kF32:
        args.push_back(LLVM::ConstantOp::create(b, loc, f32, b.getF32FloatAttr(a.f32)));
        break;
      case UkArg::Kind::kTable: {
        Value table = LLVM::AddressOfOp::create(b, loc, tables[i]);
        if (abi_.table_address_space != 0) table = LLVM::AddrSpaceCastOp::create(b, loc, ptr, table);
        args.push_back(table);
        break;
      }
    }
  }
  if (array) {
    args.push_back(LLVM::ZExtOp::create(b, loc, i64, entry->getArgument(2)));
    args.push_back(LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(workgroups)));
  }
  LLVM::CallOp::create(b, loc, callee, args);
  LLVM::ReturnOp::create(b, loc, ValueRange());
}

moert::Result<std::vector<KernelEntry>> EntryPointBuilder::AddKernels(ModuleOp module) {
  std::vector<KernelEntry> kernels;
  for (func::FuncOp fn : module.getOps<func::FuncOp>()) {
    if (!fn.isPrivate()) continue;
    MOERT_ASSIGN_OR_RETURN(UkCall call, MatchKernel(fn));
    KernelEntry kernel;
    kernel.function = fn.getSymName().str();
    kernel.symbol = KernelSymbol(kernel.function);
    kernel.num_bindings = KernelBindingCount(fn);
    kernel.workgroups = KernelWorkgroups(fn);
    // After the kernel's own bindings: the live rows, then the workspace.
    auto bindExtra = [&](UkArg::Kind kind) {
      bool used = false;
      for (UkArg& a : call.args) {
        if (a.kind != kind) continue;
        a.binding = kernel.num_bindings;
        used = true;
      }
      if (used) kernel.num_bindings += 1;
      return used;
    };
    kernel.live_rows = bindExtra(UkArg::Kind::kLiveRows);
    if (bindExtra(UkArg::Kind::kWorkspace)) kernel.workspace_bytes = call.workspace_bytes;
    Add(kernel.symbol, call, kernel.num_bindings, kernel.workgroups);
    kernels.push_back(std::move(kernel));
  }
  return kernels;
}

moert::Result<std::unique_ptr<llvm::Module>> EntryPointBuilder::Translate(llvm::LLVMContext& context,
                                                                        const std::string& name) {
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  registerROCDLDialectTranslation(registry);
  builder_.getContext()->appendDialectRegistry(registry);
  std::unique_ptr<llvm::Module> ir = translateModuleToLLVMIR(*module_, context, name);
  if (!ir) return moert::Internal("translating the kernel entry points to LLVM IR failed");
  return ir;
}

}  // namespace moec
