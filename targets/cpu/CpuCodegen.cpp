#include "targets/cpu/CpuCodegen.h"

#include "targets/common/EntryPoints.h"
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

namespace moec::cpu {

using moert::Result;
using moert::Status;
using moert::StrCat;
using namespace mlir;

Result<CpuImage> GenerateCpuImage(ModuleOp module, const TargetDescription& target) {
  if (target.kind != TargetKind::kCpu) return moert::InvalidArgument("target ", target.name, " is not a CPU");
  EntryPointBuilder entries(module.getContext(), EntryPointAbi{EntryPointAbi::Bindings::kArray, "", 0});
  CpuImage image;
  MOERT_ASSIGN_OR_RETURN(image.kernels, entries.AddKernels(module));

  llvm::LLVMContext llvmContext;
  MOERT_ASSIGN_OR_RETURN(std::unique_ptr<llvm::Module> ir, entries.Translate(llvmContext, "moec_kernels"));

  char dir_template[] = "/tmp/moec-cpu-XXXXXX";
  if (!mkdtemp(dir_template)) return moert::Unavailable("cannot create a temporary directory");
  const std::string dir = dir_template;
  std::string text;
  llvm::raw_string_ostream os(text);
  ir->print(os, nullptr);
  MOERT_RETURN_IF_ERROR(moert::WriteStringToFile(dir + "/kernels.ll", text));
  const std::string bitcode = std::string(MOEC_UKERNEL_DIR) + "/ukernels-" + target.ukernels + ".bc";
  if (!moert::PathExists(bitcode)) return moert::NotFound("CPU microkernels for ", target.name, " not found at ", bitcode);
  // -flto: lld links the entry points and the microkernels as one module, so
  // the microkernels are inlined into each entry point with its immediates.
  Status status = RunTool({MOEC_CLANG, "-O3", "-flto", "-march=" + target.cpu_march, "-fPIC", "-shared", "-fuse-ld=lld",
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
