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
#include "targets/common/EntryPoints.h"
#include "targets/common/KernelRecipes.h"

namespace moec::gpu {

using moert::Result;
using moert::Status;
using namespace mlir;

namespace {

// What differs between the two GPU targets.
struct GpuTargetHooks {
  std::string kernel_attribute;  // marks an llvm.func as a kernel entry point
  std::vector<std::string> llc_flags;
};

GpuTargetHooks HooksFor(const TargetDescription& target) {
  if (target.kind == TargetKind::kCuda) {
    // sm_90a needs PTX ISA 8.0 or newer (toolchain notes: +ptx60 aborts).
    return {"nvvm.kernel", {"-march=nvptx64", "-mcpu=" + target.name, "-mattr=+ptx80"}};
  }
  return {"rocdl.kernel", {"-march=amdgcn", "-mcpu=" + target.name, "-filetype=obj"}};
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

// Links the microkernel bitcode file `path` into `ir`; with `adoptTarget`,
// `ir` takes the bitcode's triple and data layout first.
Status LinkBitcode(llvm::Module& ir, const std::string& path, llvm::LLVMContext& context, bool adoptTarget) {
  if (!moert::PathExists(path)) return moert::NotFound("GPU microkernel bitcode not found at ", path);
  llvm::SMDiagnostic diagnostic;
  std::unique_ptr<llvm::Module> bitcode = llvm::parseIRFile(path, diagnostic, context);
  if (!bitcode) return moert::Internal("cannot read ", path, ": ", diagnostic.getMessage().str());
  if (adoptTarget) {
    ir.setTargetTriple(bitcode->getTargetTriple());
    ir.setDataLayout(bitcode->getDataLayout());
  }
  if (llvm::Linker::linkModules(ir, std::move(bitcode))) return moert::Internal("linking ", path, " failed");
  return Status::Ok();
}

}  // namespace

Result<GpuImage> GenerateGpuImage(ModuleOp module, const TargetDescription& target, const GpuImageOptions& options) {
  if (target.kind == TargetKind::kCpu) return moert::InvalidArgument("target ", target.name, " is not a GPU");
  const bool nvidia = target.kind == TargetKind::kCuda;
  const GpuTargetHooks hooks = HooksFor(target);
  // Every kernel runs with exactly threads_per_workgroup threads: said to the
  // backends (.reqntid; amdgpu-flat-work-group-size and reqd_work_group_size)
  // so that they allocate registers for that size, not for 1024 threads.
  Builder b(module.getContext());
  const int32_t threads = static_cast<int32_t>(target.threads_per_workgroup);
  std::vector<NamedAttribute> launch_bounds;
  if (nvidia) {
    launch_bounds.push_back(b.getNamedAttr("nvvm.reqntid", b.getDenseI32ArrayAttr({threads, 1, 1})));
  } else {
    launch_bounds.push_back(b.getNamedAttr("rocdl.flat_work_group_size",
                                           b.getStringAttr(std::to_string(threads) + "," + std::to_string(threads))));
    launch_bounds.push_back(b.getNamedAttr("rocdl.reqd_work_group_size", b.getDenseI32ArrayAttr({threads, 1, 1})));
  }
  EntryPointBuilder entries(module.getContext(), EntryPointAbi{EntryPointAbi::Bindings::kParameters,
                                                               hooks.kernel_attribute, 1, launch_bounds});
  GpuImage image;
  MOERT_ASSIGN_OR_RETURN(image.kernels, entries.AddKernels(module));
  if (options.synthetic_fill) {
    KernelEntry fill{kSyntheticFillKernel, "moec_kernel_synthetic_fill", 2, 1};
    UkCall call{"moec_uk_synthetic_fill", {}};
    for (int64_t binding = 0; binding < 2; ++binding) {
      UkArg arg;
      arg.kind = UkArg::Kind::kBinding;
      arg.binding = binding;
      call.args.push_back(arg);
    }
    entries.Add(fill.symbol, call, fill.num_bindings, fill.workgroups);
    image.kernels.push_back(fill);
  }

  llvm::LLVMContext llvmContext;
  MOERT_ASSIGN_OR_RETURN(std::unique_ptr<llvm::Module> ir, entries.Translate(llvmContext, "moec_gpu_kernels"));

  // Link the microkernels; the entry points take their triple and layout.
  MOERT_RETURN_IF_ERROR(LinkBitcode(*ir, std::string(MOEC_UKERNEL_DIR) + "/ukernels-" + target.name + ".bc",
                                    llvmContext, /*adoptTarget=*/true));
  if (options.synthetic_fill) {
    MOERT_RETURN_IF_ERROR(LinkBitcode(*ir, std::string(MOEC_UKERNEL_DIR) + "/synthetic-fill-" + target.name + ".bc",
                                      llvmContext, /*adoptTarget=*/false));
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
