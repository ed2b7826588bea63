#include "targets/gpu/GpuCodegen.h"

#include <unistd.h>

#include <cstdlib>

#include "base/file_map.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/IRReader/IRReader.h"
#include "llvm/Linker/Linker.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/LLVMIR/ROCDLDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/ROCDL/ROCDLToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "targets/common/KernelRecipes.h"

namespace moec::gpu {

using moert::Result;
using moert::Status;
using namespace mlir;

namespace {

// What differs between the two GPU targets.
struct GpuTargetHooks {
  const char* kernel_attribute;  // marks an llvm.func as a kernel entry point
  std::vector<std::string> llc_flags;
};

GpuTargetHooks HooksFor(const TargetDescription& target) {
  if (target.kind == TargetKind::kCuda) {
    // sm_90a needs PTX ISA 8.0 or newer (toolchain notes: +ptx60 aborts).
    return {"nvvm.kernel", {"-march=nvptx64", "-mcpu=" + target.name, "-mattr=+ptx80"}};
  }
  return {"rocdl.kernel", {"-march=amdgcn", "-mcpu=" + target.name, "-filetype=obj"}};
}

// The kernel entry point `symbol`: one device pointer per binding, calling
// the microkernel with the recipe's arguments (the microkernel finds its
// share of the work from the block and thread ids).
void BuildKernel(OpBuilder& b, ModuleOp llvmModule, const std::string& symbol, uint32_t numBindings,
                 const UkCall& call, const GpuTargetHooks& hooks, int64_t* tableCounter) {
  MLIRContext* ctx = b.getContext();
  Location loc = b.getUnknownLoc();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto globalPtr = LLVM::LLVMPointerType::get(ctx, /*addressSpace=*/1);
  Type i64 = b.getI64Type(), f32 = b.getF32Type();
  auto voidTy = LLVM::LLVMVoidType::get(ctx);

  auto callee = llvmModule.lookupSymbol<LLVM::LLVMFuncOp>(call.function);
  if (!callee) {
    SmallVector<Type> params;
    for (const UkArg& a : call.args) {
      params.push_back(a.kind == UkArg::Kind::kI64 ? Type(i64) : a.kind == UkArg::Kind::kF32 ? Type(f32) : Type(ptr));
    }
    b.setInsertionPointToEnd(llvmModule.getBody());
    callee = LLVM::LLVMFuncOp::create(b, loc, call.function, LLVM::LLVMFunctionType::get(voidTy, params));
  }
  // Constant tables live in global memory.
  std::vector<LLVM::GlobalOp> tables(call.args.size());
  for (size_t i = 0; i < call.args.size(); ++i) {
    if (call.args[i].kind != UkArg::Kind::kTable) continue;
    const std::vector<float>& values = call.args[i].table;
    auto data = DenseElementsAttr::get(RankedTensorType::get({static_cast<int64_t>(values.size())}, f32),
                                       ArrayRef<float>(values));
    b.setInsertionPointToEnd(llvmModule.getBody());
    tables[i] = LLVM::GlobalOp::create(b, loc, LLVM::LLVMArrayType::get(f32, values.size()), /*isConstant=*/true,
                                       LLVM::Linkage::Internal, "moec_table_" + std::to_string((*tableCounter)++),
                                       data, /*alignment=*/16, /*addrSpace=*/1);
  }

  b.setInsertionPointToEnd(llvmModule.getBody());
  SmallVector<Type> params(numBindings, ptr);
  auto fn = LLVM::LLVMFuncOp::create(b, loc, symbol, LLVM::LLVMFunctionType::get(voidTy, params));
  fn->setAttr(hooks.kernel_attribute, b.getUnitAttr());
  Block* entry = fn.addEntryBlock(b);
  b.setInsertionPointToStart(entry);
  SmallVector<Value> args;
  for (size_t i = 0; i < call.args.size(); ++i) {
    const UkArg& a = call.args[i];
    switch (a.kind) {
      case UkArg::Kind::kBinding:
        args.push_back(entry->getArgument(static_cast<unsigned>(a.binding)));
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
        Value global = LLVM::AddressOfOp::create(b, loc, globalPtr, tables[i].getSymName());
        args.push_back(LLVM::AddrSpaceCastOp::create(b, loc, ptr, global));
        break;
      }
    }
  }
  LLVM::CallOp::create(b, loc, callee, args);
  LLVM::ReturnOp::create(b, loc, ValueRange());
}

// ptxas from CUDA_HOME, /usr/local/cuda or PATH; empty when there is none.
std::string FindPtxas() {
  std::vector<std::string> candidates;
  if (const char* home = std::getenv("CUDA_HOME")) candidates.push_back(std::string(home) + "/bin/ptxas");
  candidates.push_back("/usr/local/cuda/bin/ptxas");
  if (const char* path = std::getenv("PATH")) {
    std::string p = path;
    for (size_t start = 0; start <= p.size();) {
      size_t colon = p.find(':', start);
      if (colon == std::string::npos) colon = p.size();
      if (colon > start) candidates.push_back(p.substr(start, colon - start) + "/ptxas");
      start = colon + 1;
    }
  }
  for (const std::string& c : candidates) {
    if (access(c.c_str(), X_OK) == 0) return c;
  }
  return "";
}

}  // namespace

Result<GpuImage> GenerateGpuImage(ModuleOp module, const TargetDescription& target) {
  if (target.kind == TargetKind::kCpu) return moert::InvalidArgument("target ", target.name, " is not a GPU");
  const bool nvidia = target.kind == TargetKind::kCuda;
  const GpuTargetHooks hooks = HooksFor(target);
  MLIRContext* ctx = module.getContext();
  ctx->loadDialect<LLVM::LLVMDialect, NVVM::NVVMDialect, ROCDL::ROCDLDialect>();
  OpBuilder b(ctx);
  OwningOpRef<ModuleOp> llvmModule = ModuleOp::create(b.getUnknownLoc());
  GpuImage image;
  int64_t tables = 0;
  for (func::FuncOp fn : module.getOps<func::FuncOp>()) {
    if (!fn.isPrivate()) continue;
    MOERT_ASSIGN_OR_RETURN(UkCall call, MatchKernel(fn));
    GpuKernel kernel;
    kernel.function = fn.getSymName().str();
    kernel.symbol = KernelSymbol(kernel.function);
    kernel.num_bindings = KernelBindingCount(fn);
    kernel.workgroups = KernelWorkgroups(fn);
    BuildKernel(b, *llvmModule, kernel.symbol, kernel.num_bindings, call, hooks, &tables);
    image.kernels.push_back(kernel);
  }

  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  registerROCDLDialectTranslation(registry);
  ctx->appendDialectRegistry(registry);
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> ir = translateModuleToLLVMIR(*llvmModule, llvmContext, "moec_gpu_kernels");
  if (!ir) return moert::Internal("translating the GPU kernels to LLVM IR failed");

  // Link the microkernels; the entry points take their triple and layout.
  const std::string bitcode = std::string(MOEC_UKERNEL_DIR) + "/ukernels-" + target.name + ".bc";
  if (!moert::PathExists(bitcode)) return moert::NotFound("GPU microkernels for ", target.name, " not found at ", bitcode);
  llvm::SMDiagnostic diagnostic;
  std::unique_ptr<llvm::Module> microkernels = llvm::parseIRFile(bitcode, diagnostic, llvmContext);
  if (!microkernels) return moert::Internal("cannot read ", bitcode, ": ", diagnostic.getMessage().str());
  ir->setTargetTriple(microkernels->getTargetTriple());
  ir->setDataLayout(microkernels->getDataLayout());
  if (llvm::Linker::linkModules(*ir, std::move(microkernels))) {
    return moert::Internal("linking the GPU microkernels failed");
  }
  // The entry points take the microkernels' CPU and features (so the
  // inliner accepts them), and everything but the entry points becomes
  // internal: inlined and dropped, and on AMDGPU only kernels may own the
  // shared-memory arrays the microkernels declare.
  std::string cpu, features;
  for (llvm::Function& f : *ir) {
    if (f.hasFnAttribute("target-features")) {
      cpu = f.getFnAttribute("target-cpu").getValueAsString().str();
      features = f.getFnAttribute("target-features").getValueAsString().str();
      break;
    }
  }
  for (llvm::Function& f : *ir) {
    if (f.isDeclaration()) continue;
    const bool entry = f.getName().starts_with("moec_kernel_");
    if (!entry) f.setLinkage(llvm::GlobalValue::InternalLinkage);
    if (entry && !features.empty()) {
      f.addFnAttr("target-cpu", cpu);
      f.addFnAttr("target-features", features);
    }
  }

  char dir_template[] = "/tmp/moec-gpu-XXXXXX";
  if (!mkdtemp(dir_template)) return moert::Unavailable("cannot create a temporary directory");
  const std::string dir = dir_template;
  auto cleanup = [&dir] { std::system(("rm -rf '" + dir + "'").c_str()); };
  {
    std::error_code error;
    llvm::raw_fd_ostream out(dir + "/kernels.bc", error);
    if (error) {
      cleanup();
      return moert::Unavailable("cannot write ", dir, "/kernels.bc: ", error.message());
    }
    llvm::WriteBitcodeToFile(*ir, out);
  }
  const std::string tools = MOEC_LLVM_TOOLS_DIR;
  Status status = RunTool({tools + "/opt", "-O3", dir + "/kernels.bc", "-o", dir + "/optimized.bc"}, dir + "/log.txt");
  std::vector<std::string> llc = {tools + "/llc", "-O3"};
  llc.insert(llc.end(), hooks.llc_flags.begin(), hooks.llc_flags.end());
  const std::string compiled = dir + (nvidia ? "/kernels.ptx" : "/kernels.o");
  llc.insert(llc.end(), {dir + "/optimized.bc", "-o", compiled});
  if (status.ok()) status = RunTool(llc, dir + "/log.txt");
  if (status.ok() && nvidia) {
    MOERT_ASSIGN_OR_RETURN(image.assembly, moert::ReadFileToString(compiled));
    image.format = GpuImageFormat::kPtx;
    image.bytes = image.assembly;
    const std::string ptxas = FindPtxas();
    if (!ptxas.empty()) {
      status = RunTool({ptxas, "-arch=" + target.name, "-O3", compiled, "-o", dir + "/kernels.cubin"}, dir + "/log.txt");
      if (status.ok()) {
        MOERT_ASSIGN_OR_RETURN(image.bytes, moert::ReadFileToString(dir + "/kernels.cubin"));
        image.format = GpuImageFormat::kCubin;
      }
    }
  } else if (status.ok()) {
    // A code object is a shared ELF: lld links it without any ROCm SDK.
    status = RunTool({tools + "/ld.lld", "-shared", compiled, "-o", dir + "/kernels.hsaco"}, dir + "/log.txt");
    if (status.ok()) status = RunTool({tools + "/llvm-objdump", "-d", "--mcpu=" + target.name, dir + "/kernels.hsaco"},
                                      dir + "/disassembly.txt");
    if (status.ok()) {
      MOERT_ASSIGN_OR_RETURN(image.bytes, moert::ReadFileToString(dir + "/kernels.hsaco"));
      MOERT_ASSIGN_OR_RETURN(image.assembly, moert::ReadFileToString(dir + "/disassembly.txt"));
      // Name the object without the temporary directory, so the text is stable.
      for (size_t at; (at = image.assembly.find(dir + "/")) != std::string::npos;) image.assembly.erase(at, dir.size() + 1);
      image.format = GpuImageFormat::kHsaco;
    }
  }
  cleanup();
  if (!status.ok()) return status;
  return image;
}

}  // namespace moec::gpu
