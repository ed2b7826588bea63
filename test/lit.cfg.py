# lit configuration for moec: FileCheck tests over the tools' output.
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "moec"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "unit"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.moec_obj_root, "test")

config.environment["FILECHECK_OPTS"] = "--enable-var-scope --dump-input=fail"
config.substitutions.append(("%testdata", config.moec_testdata_dir))
config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))
# For tests over the sources themselves (the generated docs in docs/Dialects).
config.substitutions.append(("%moec_src_root", config.moec_src_root))
config.substitutions.append(("%mlir_include_dir", os.path.join(os.path.dirname(config.llvm_tools_dir), "include")))

llvm_config.with_system_environment(["HOME", "TMPDIR"])
llvm_config.use_default_substitutions()
# FileCheck, not, count and friends come from LLVM 22, never the system's LLVM 14.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.moec_tools_dir, append_path=True)
tool_dirs = [config.moec_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(["moec", "moec-opt", "moert-run"], tool_dirs)

# CPU features of this host, for tests of code that needs them.
try:
    with open("/proc/cpuinfo") as cpuinfo:
        flags = next((line.split(":", 1)[1].split() for line in cpuinfo if line.startswith("flags")), [])
except OSError:
    flags = []
if all(f in flags for f in ("avx512f", "avx512bw", "avx512vl", "avx512dq")):
    config.available_features.add("avx512")

# ptxas (CUDA toolkit), for tests that assemble the GPU microkernels' PTX.
if os.path.exists("/usr/local/cuda/bin/ptxas"):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", "/usr/local/cuda/bin/ptxas"))

# A GPU this host can run artifacts on (cuda-device: an NVIDIA driver and
# device; hip-device: the ROCm runtime and a KFD device), for the tests that
# run compiled GPU artifacts. CI machines have neither; utils/gpu-check.sh
# runs the same checks on GPU machines that cannot run lit.
def _loadable(library):
    import ctypes
    try:
        ctypes.CDLL(library)
        return True
    except OSError:
        return False

if os.path.exists("/dev/nvidiactl") and _loadable("libcuda.so.1"):
    config.available_features.add("cuda-device")
if os.path.exists("/dev/kfd") and _loadable("libamdhip64.so"):
    config.available_features.add("hip-device")
