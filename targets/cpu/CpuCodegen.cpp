#include "targets/cpu/CpuCodegen.h"

#include "targets/common/KernelRecipes.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>

#include "base/file_map.h"
#include "dialects/moe/MoeDialect.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/raw_ostream.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

namespace moec::cpu {

using moert::Result;
using moert::Status;
using moert::StrCat;
using namespace mlir;

namespace {

// Builds the LLVM-dialect entry point `symbol` that loads the bindings and
// calls the microkernel.
void BuildShell(OpBuilder& b, ModuleOp llvmModule, const std::string& symbol, const UkCall& call, int64_t workgroups,
                int64_t* tableCounter) {
  MLIRContext* ctx = b.getContext();
  Location loc = b.getUnknownLoc();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  Type i64 = b.getI64Type(), i32 = b.getI32Type(), f32 = b.getF32Type();
  auto voidTy = LLVM::LLVMVoidType::get(ctx);

  // The microkernel's declaration, once per module.
  auto callee = llvmModule.lookupSymbol<LLVM::LLVMFuncOp>(call.function);
  if (!callee) {
    SmallVector<Type> params;
    for (const UkArg& a : call.args) {
      params.push_back(a.kind == UkArg::Kind::kI64 ? Type(i64) : a.kind == UkArg::Kind::kF32 ? Type(f32) : Type(ptr));
    }
    params.append({i64, i64});
    b.setInsertionPointToEnd(llvmModule.getBody());
    callee = LLVM::LLVMFuncOp::create(b, loc, call.function, LLVM::LLVMFunctionType::get(voidTy, params));
  }

  // Constant tables (the YaRN frequencies) become private globals.
  std::vector<LLVM::GlobalOp> tables(call.args.size());
  for (size_t i = 0; i < call.args.size(); ++i) {
    if (call.args[i].kind != UkArg::Kind::kTable) continue;
    const std::vector<float>& values = call.args[i].table;
    auto arrayTy = LLVM::LLVMArrayType::get(f32, values.size());
    auto data = DenseElementsAttr::get(RankedTensorType::get({static_cast<int64_t>(values.size())}, f32),
                                       ArrayRef<float>(values));
    b.setInsertionPointToEnd(llvmModule.getBody());
    tables[i] = LLVM::GlobalOp::create(b, loc, arrayTy, /*isConstant=*/true, LLVM::Linkage::Internal,
                                       "moec_table_" + std::to_string((*tableCounter)++), data);
  }

  b.setInsertionPointToEnd(llvmModule.getBody());
  auto fn = LLVM::LLVMFuncOp::create(b, loc, symbol, LLVM::LLVMFunctionType::get(voidTy, {ptr, ptr, i32, i32, i32}));
  Block* entry = fn.addEntryBlock(b);
  b.setInsertionPointToStart(entry);
  Value bindings = entry->getArgument(0);
  SmallVector<Value> args;
  for (size_t i = 0; i < call.args.size(); ++i) {
    const UkArg& a = call.args[i];
    switch (a.kind) {
      case UkArg::Kind::kBinding: {
        Value slot = LLVM::GEPOp::create(b, loc, ptr, ptr, bindings, ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(a.binding)});
        args.push_back(LLVM::LoadOp::create(b, loc, ptr, slot));
        break;
      }
      case UkArg::Kind::kNull:
        args.push_back(LLVM::ZeroOp::create(b, loc, ptr));
        break;
      case UkArg::Kind::kI64:
        args.push_back(LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(a.i64)));
        break;
      case UkArg::Kind::kF32:
        args.push_back(LLVM::ConstantOp::create(b, loc, f32, b.getF32FloatAttr(a.f32)));
        break;
      case UkArg::Kind::kTable:
        args.push_back(LLVM::AddressOfOp::create(b, loc, tables[i]));
        break;
    }
  }
  args.push_back(LLVM::ZExtOp::create(b, loc, i64, entry->getArgument(2)));
  args.push_back(LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(workgroups)));
  LLVM::CallOp::create(b, loc, callee, args);
  LLVM::ReturnOp::create(b, loc, ValueRange());
}

}  // namespace

Result<CpuImage> GenerateCpuImage(ModuleOp module, const TargetDescription& target) {
  if (target.kind != TargetKind::kCpu) return moert::InvalidArgument("target ", target.name, " is not a CPU");
  MLIRContext* ctx = module.getContext();
  ctx->loadDialect<LLVM::LLVMDialect>();
  OpBuilder b(ctx);
  OwningOpRef<ModuleOp> llvmModule = ModuleOp::create(b.getUnknownLoc());
  CpuImage image;
  int64_t tables = 0;
  for (func::FuncOp fn : module.getOps<func::FuncOp>()) {
    if (!fn.isPrivate()) continue;
    MOERT_ASSIGN_OR_RETURN(UkCall call, MatchKernel(fn));
    CpuKernel kernel;
    kernel.function = fn.getSymName().str();
    kernel.symbol = KernelSymbol(kernel.function);
    kernel.num_bindings = KernelBindingCount(fn);
    kernel.workgroups = KernelWorkgroups(fn);
    BuildShell(b, *llvmModule, kernel.symbol, call, kernel.workgroups, &tables);
    image.kernels.push_back(kernel);
  }

  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  ctx->appendDialectRegistry(registry);
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> ir = translateModuleToLLVMIR(*llvmModule, llvmContext, "moec_kernels");
  if (!ir) return moert::Internal("translating the CPU kernels to LLVM IR failed");

  char dir_template[] = "/tmp/moec-cpu-XXXXXX";
  if (!mkdtemp(dir_template)) return moert::Unavailable("cannot create a temporary directory");
  const std::string dir = dir_template;
  std::string text;
  llvm::raw_string_ostream os(text);
  ir->print(os, nullptr);
  MOERT_RETURN_IF_ERROR(moert::WriteStringToFile(dir + "/kernels.ll", text));
  const std::string bitcode = std::string(MOEC_UKERNEL_DIR) + "/ukernels-" + target.name + ".bc";
  if (!moert::PathExists(bitcode)) return moert::NotFound("CPU microkernels for ", target.name, " not found at ", bitcode);
  // -flto: lld links the entry points and the microkernels as one module, so
  // the microkernels are inlined into each entry point with its immediates.
  Status status = RunTool({MOEC_CLANG, "-O3", "-flto", "-march=" + target.name, "-fPIC", "-shared", "-fuse-ld=lld",
                           "-Wl,--build-id=none", "-Wl,-z,noexecstack", "-nostdlib++", dir + "/kernels.ll", bitcode,
                           "-lm", "-o", dir + "/kernels.so"},
                          dir + "/log.txt");
  Result<std::string> so = status.ok() ? moert::ReadFileToString(dir + "/kernels.so") : Result<std::string>(status);
  std::system(("rm -rf '" + dir + "'").c_str());
  if (!so.ok()) return so.status();
  image.shared_object = std::move(*so);
  return image;
}

}  // namespace moec::cpu
