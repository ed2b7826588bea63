#include "hal/cuda/device.h"

#include <cctype>
#include <cstring>

namespace moert::hal::cuda {
namespace {

CUstream Native(GpuStream stream) { return reinterpret_cast<CUstream>(stream); }
CUmodule Native(GpuModule module) { return reinterpret_cast<CUmodule>(module); }
CUfunction Native(GpuFunction function) { return reinterpret_cast<CUfunction>(function); }
CUgraphExec Native(GpuGraph graph) { return reinterpret_cast<CUgraphExec>(graph); }

std::string SmName(int major, int minor) { return StrCat("sm_", major, minor); }

}  // namespace

Result<CudaTarget> ParseCudaTarget(const std::string& target) {
  // sm_<major><minor>[a], the minor one digit: sm_80, sm_90a, sm_100a.
  CudaTarget out;
  std::string digits;
  size_t i = 3;
  if (target.compare(0, 3, "sm_") == 0) {
    while (i < target.size() && std::isdigit(static_cast<unsigned char>(target[i]))) {
      digits += target[i++];
    }
  }
  if (i < target.size() && target[i] == 'a') {
    out.arch_specific = true;
    ++i;
  }
  if (digits.size() < 2 || digits.size() > 3 || i != target.size()) {
    return InvalidArgument("CUDA target \"", target,
                           "\" is not of the form sm_<major><minor>[a] (e.g. sm_90a)");
  }
  for (size_t k = 0; k + 1 < digits.size(); ++k) out.major = out.major * 10 + (digits[k] - '0');
  out.minor = digits.back() - '0';
  return out;
}

Result<std::unique_ptr<CudaDevice>> CudaDevice::Open(int ordinal, const std::string& target) {
  MOERT_ASSIGN_OR_RETURN(std::shared_ptr<const Driver> driver, Driver::Load());
  return Open(std::move(driver), ordinal, target);
}

Result<std::unique_ptr<CudaDevice>> CudaDevice::Open(std::shared_ptr<const Driver> driver,
                                                     int ordinal, const std::string& target) {
  MOERT_ASSIGN_OR_RETURN(CudaTarget wanted, ParseCudaTarget(target));
  const Driver& d = *driver;
  CUresult init = d->cuInit(0);
  if (init == CUDA_ERROR_NO_DEVICE) {
    return Unavailable("moert: no CUDA device found (cuInit: ", d.ErrorText(init),
                       "): this artifact needs an NVIDIA GPU");
  }
  MOERT_RETURN_IF_ERROR(d.Check(init, "cuInit"));
  int driver_version = 0;
  MOERT_RETURN_IF_ERROR(d.Check(d->cuDriverGetVersion(&driver_version), "cuDriverGetVersion"));
  int count = 0;
  MOERT_RETURN_IF_ERROR(d.Check(d->cuDeviceGetCount(&count), "cuDeviceGetCount"));
  if (count <= 0) {
    return Unavailable("moert: no CUDA device found (cuDeviceGetCount: 0, driver ",
                       d.library(), "): this artifact needs an NVIDIA GPU");
  }
  if (ordinal < 0 || ordinal >= count) {
    return InvalidArgument("CUDA device ", ordinal, " requested but the driver reports ", count,
                           " device", count == 1 ? "" : "s", " (0 to ", count - 1, ")");
  }

  std::unique_ptr<CudaDevice> device(new CudaDevice());
  device->driver_ = std::move(driver);
  GpuDeviceInfo& info = device->info_;
  info.api = "CUDA";
  info.ordinal = ordinal;
  info.driver_version = driver_version;
  const std::string where = StrCat(" of device ", ordinal);
  MOERT_RETURN_IF_ERROR(d.Check(d->cuDeviceGet(&device->device_, ordinal), "cuDeviceGet" + where));
  const CUdevice dev = device->device_;
  char name[256] = {};
  MOERT_RETURN_IF_ERROR(
      d.Check(d->cuDeviceGetName(name, sizeof(name) - 1, dev), "cuDeviceGetName" + where));
  info.name = name;
  struct {
    CUdevice_attribute attribute;
    const char* label;
    int* out;
  } attributes[] = {
      {CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, "COMPUTE_CAPABILITY_MAJOR", &info.compute_major},
      {CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, "COMPUTE_CAPABILITY_MINOR", &info.compute_minor},
      {CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, "MULTIPROCESSOR_COUNT", &info.multiprocessor_count},
      {CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, "MAX_SHARED_MEMORY_PER_BLOCK_OPTIN",
       &info.max_shared_memory_per_block_optin},
  };
  for (const auto& a : attributes) {
    MOERT_RETURN_IF_ERROR(d.Check(d->cuDeviceGetAttribute(a.out, a.attribute, dev),
                                  StrCat("cuDeviceGetAttribute(", a.label, ")", where)));
  }
  size_t total = 0;
  MOERT_RETURN_IF_ERROR(d.Check(d->cuDeviceTotalMem_v2(&total, dev), "cuDeviceTotalMem_v2" + where));
  info.total_memory = total;
  info.arch = SmName(info.compute_major, info.compute_minor);

  const bool matches = wanted.arch_specific
                           ? info.compute_major == wanted.major && info.compute_minor == wanted.minor
                           : info.compute_major == wanted.major && info.compute_minor >= wanted.minor;
  if (!matches) {
    return FailedPrecondition("the artifact targets ", target, " but device ", ordinal, " (",
                              info.name, ") is ", info.arch, " (compute capability ",
                              info.compute_major, ".", info.compute_minor, "; ", target,
                              wanted.arch_specific ? " needs exactly " : " needs ", wanted.major,
                              ".", wanted.minor, wanted.arch_specific ? "" : " or a later minor",
                              ")");
  }

  MOERT_RETURN_IF_ERROR(d.Check(d->cuDevicePrimaryCtxRetain(&device->context_, dev),
                                "cuDevicePrimaryCtxRetain" + where));
  MOERT_RETURN_IF_ERROR(device->MakeCurrent());
  return device;
}

CudaDevice::~CudaDevice() {
  if (context_ == nullptr) return;
  const CudaSymbols& s = driver_->symbols();
  // Errors here have nowhere to go; the context is released regardless.
  (void)s.cuCtxSetCurrent(context_);
  for (CUgraphExec graph : graphs_) (void)s.cuGraphExecDestroy(graph);
  for (CUstream stream : streams_) {
    (void)s.cuStreamSynchronize(stream);
    (void)s.cuStreamDestroy_v2(stream);
  }
  for (const auto& module : modules_) (void)s.cuModuleUnload(module.first);
  for (CUdeviceptr buffer : buffers_) (void)s.cuMemFree_v2(buffer);
  (void)s.cuDevicePrimaryCtxRelease_v2(device_);
}

Status CudaDevice::MakeCurrent() { return Check(driver_->symbols().cuCtxSetCurrent(context_), "cuCtxSetCurrent"); }

Result<DeviceBuffer> CudaDevice::Allocate(uint64_t size) {
  if (size == 0) return InvalidArgument("CUDA allocation of 0 bytes");
  if (size > SIZE_MAX) return ResourceExhausted("CUDA allocation of ", size, " bytes exceeds size_t");
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  CUdeviceptr address = 0;
  MOERT_RETURN_IF_ERROR(Check(driver_->symbols().cuMemAlloc_v2(&address, size),
                              StrCat("cuMemAlloc_v2(", size, " bytes) on device ", info_.ordinal,
                                     " (", info_.name, ", ", info_.total_memory, " bytes)")));
  buffers_.insert(address);
  return DeviceBuffer{address, size};
}

Status CudaDevice::Free(DeviceBuffer buffer) {
  auto it = buffers_.find(buffer.address);
  if (it == buffers_.end()) {
    return InvalidArgument("CUDA free of ", buffer.address, ": not a live allocation of device ",
                           info_.ordinal);
  }
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  buffers_.erase(it);
  return Check(driver_->symbols().cuMemFree_v2(buffer.address), "cuMemFree_v2");
}

Status CudaDevice::CopyToDevice(DeviceBuffer dst, uint64_t offset, const void* src, uint64_t size) {
  MOERT_RETURN_IF_ERROR(CheckRange(dst, offset, size, "CUDA copy to device"));
  if (size == 0) return Status::Ok();
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  return Check(driver_->symbols().cuMemcpyHtoD_v2(dst.address + offset, src, size),
               StrCat("cuMemcpyHtoD_v2(", size, " bytes at offset ", offset, ")"));
}

Status CudaDevice::CopyToHost(void* dst, DeviceBuffer src, uint64_t offset, uint64_t size) {
  MOERT_RETURN_IF_ERROR(CheckRange(src, offset, size, "CUDA copy to host"));
  if (size == 0) return Status::Ok();
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  return Check(driver_->symbols().cuMemcpyDtoH_v2(dst, src.address + offset, size),
               StrCat("cuMemcpyDtoH_v2(", size, " bytes at offset ", offset, ")"));
}

Status CudaDevice::Fill(DeviceBuffer dst, uint64_t offset, uint64_t size, uint8_t value) {
  MOERT_RETURN_IF_ERROR(CheckRange(dst, offset, size, "CUDA fill"));
  if (size == 0) return Status::Ok();
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  return Check(driver_->symbols().cuMemsetD8_v2(dst.address + offset, value, size),
               StrCat("cuMemsetD8_v2(", size, " bytes at offset ", offset, ")"));
}

Result<GpuModule> CudaDevice::LoadModule(const std::string& name, const uint8_t* data,
                                         uint64_t size) {
  if (data == nullptr || size == 0) return InvalidArgument("CUDA module ", name, " is empty");
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  // PTX must be NUL-terminated for cuModuleLoadData; a cubin carries its size.
  std::string ptx;
  const void* image = data;
  const bool is_elf = size >= 4 && std::memcmp(data, "\x7f" "ELF", 4) == 0;
  if (!is_elf && data[size - 1] != '\0') {
    ptx.assign(reinterpret_cast<const char*>(data), size);
    image = ptx.c_str();
  }
  CUmodule module = nullptr;
  MOERT_RETURN_IF_ERROR(Check(driver_->symbols().cuModuleLoadData(&module, image),
                              StrCat("cuModuleLoadData(", name, ", ", size, " bytes, ",
                                     is_elf ? "cubin" : "PTX", ") on device ", info_.ordinal, " (",
                                     info_.arch, ")")));
  modules_.emplace(module, name);
  return reinterpret_cast<GpuModule>(module);
}

Status CudaDevice::UnloadModule(GpuModule module) {
  auto it = modules_.find(Native(module));
  if (it == modules_.end()) return InvalidArgument("CUDA unload of a module this device did not load");
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  std::string name = std::move(it->second);
  modules_.erase(it);
  return Check(driver_->symbols().cuModuleUnload(Native(module)), "cuModuleUnload(" + name + ")");
}

Result<GpuFunction> CudaDevice::GetFunction(GpuModule module, const std::string& name) {
  auto it = modules_.find(Native(module));
  if (it == modules_.end()) return InvalidArgument("CUDA function ", name, ": unknown module");
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  CUfunction function = nullptr;
  Status status = Check(driver_->symbols().cuModuleGetFunction(&function, Native(module), name.c_str()),
                        StrCat("cuModuleGetFunction(", it->second, ", \"", name, "\")"));
  if (!status.ok()) return status;
  functions_[function] = name;
  return reinterpret_cast<GpuFunction>(function);
}

Result<GpuStream> CudaDevice::CreateStream() {
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  CUstream stream = nullptr;
  // A blocking stream: the synchronous copies (legacy stream) order after it.
  MOERT_RETURN_IF_ERROR(Check(driver_->symbols().cuStreamCreate(&stream, CU_STREAM_DEFAULT), "cuStreamCreate"));
  streams_.insert(stream);
  return reinterpret_cast<GpuStream>(stream);
}

Status CudaDevice::DestroyStream(GpuStream stream) {
  if (streams_.erase(Native(stream)) == 0) return InvalidArgument("CUDA destroy of an unknown stream");
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  return Check(driver_->symbols().cuStreamDestroy_v2(Native(stream)), "cuStreamDestroy_v2");
}

Status CudaDevice::Synchronize(GpuStream stream) {
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  return Check(driver_->symbols().cuStreamSynchronize(Native(stream)), "cuStreamSynchronize");
}

Status CudaDevice::Launch(GpuStream stream, const KernelLaunch& launch) {
  MOERT_RETURN_IF_ERROR(CheckLaunch(launch, "CUDA"));
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  void* params[kMaxKernelParameters];
  uint32_t n = 0;
  for (uint32_t i = 0; i < launch.binding_count; ++i) {
    params[n++] = const_cast<uint64_t*>(&launch.bindings[i]);
  }
  for (uint32_t i = 0; i < launch.constant_count; ++i) {
    params[n++] = const_cast<uint32_t*>(&launch.constants[i]);
  }
  CUresult result = driver_->symbols().cuLaunchKernel(
      Native(launch.function), launch.grid[0], launch.grid[1], launch.grid[2], launch.block[0],
      launch.block[1], launch.block[2], launch.shared_memory_bytes, Native(stream),
      n > 0 ? params : nullptr, nullptr);
  if (result == CUDA_SUCCESS) return Status::Ok();
  auto it = functions_.find(Native(launch.function));
  return Check(result, StrCat("cuLaunchKernel(", it != functions_.end() ? it->second : "?",
                              ", grid ", launch.grid[0], "x", launch.grid[1], "x", launch.grid[2],
                              ", block ", launch.block[0], "x", launch.block[1], "x",
                              launch.block[2], ", ", launch.shared_memory_bytes,
                              " bytes of shared memory)"));
}

Status CudaDevice::BeginCapture(GpuStream stream) {
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  // Thread-local: other threads may allocate while this one captures.
  return Check(driver_->symbols().cuStreamBeginCapture_v2(Native(stream),
                                                           CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
               "cuStreamBeginCapture_v2");
}

Result<GpuGraph> CudaDevice::EndCapture(GpuStream stream) {
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  const CudaSymbols& s = driver_->symbols();
  CUgraph graph = nullptr;
  MOERT_RETURN_IF_ERROR(Check(s.cuStreamEndCapture(Native(stream), &graph), "cuStreamEndCapture"));
  CUgraphExec exec = nullptr;
  Status status = Check(s.cuGraphInstantiateWithFlags(&exec, graph, 0), "cuGraphInstantiateWithFlags");
  // The executable graph does not need the graph it came from.
  Status destroyed = Check(s.cuGraphDestroy(graph), "cuGraphDestroy");
  if (!status.ok()) return status;
  graphs_.insert(exec);
  if (!destroyed.ok()) {
    (void)DestroyGraph(reinterpret_cast<GpuGraph>(exec));
    return destroyed;
  }
  return reinterpret_cast<GpuGraph>(exec);
}

Status CudaDevice::ReplayGraph(GpuGraph graph, GpuStream stream) {
  if (graphs_.count(Native(graph)) == 0) return InvalidArgument("CUDA replay of an unknown graph");
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  return Check(driver_->symbols().cuGraphLaunch(Native(graph), Native(stream)), "cuGraphLaunch");
}

Status CudaDevice::DestroyGraph(GpuGraph graph) {
  if (graphs_.erase(Native(graph)) == 0) return InvalidArgument("CUDA destroy of an unknown graph");
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  return Check(driver_->symbols().cuGraphExecDestroy(Native(graph)), "cuGraphExecDestroy");
}

}  // namespace moert::hal::cuda
