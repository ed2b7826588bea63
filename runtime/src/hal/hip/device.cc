#include "hal/hip/device.h"

#include <cctype>
#include <cstdint>

namespace moert::hal::hip {
namespace {

hipStream_t Native(GpuStream stream) { return reinterpret_cast<hipStream_t>(stream); }
hipModule_t Native(GpuModule module) { return reinterpret_cast<hipModule_t>(module); }
hipFunction_t Native(GpuFunction function) { return reinterpret_cast<hipFunction_t>(function); }
hipGraphExec_t Native(GpuGraph graph) { return reinterpret_cast<hipGraphExec_t>(graph); }
void* Pointer(uint64_t address) { return reinterpret_cast<void*>(static_cast<uintptr_t>(address)); }

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// What the compute capability tells of a device: "gfx94x" for 9.4.
std::string FamilyName(int major, int minor) {
  const char* hex = "0123456789abcdef";
  return StrCat("gfx", major, minor >= 0 && minor < 16 ? std::string(1, hex[minor]) : "?", "x");
}

}  // namespace

Result<HipTarget> ParseHipTarget(const std::string& target) {
  // gfx<major><minor><stepping>, minor and stepping one hex digit each:
  // gfx942, gfx90a, gfx1100.
  HipTarget out;
  bool ok = target.size() >= 6 && target.size() <= 7 && target.compare(0, 3, "gfx") == 0;
  if (ok) {
    const size_t n = target.size();
    for (size_t i = 3; i + 2 < n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(target[i]))) ok = false;
      out.major = out.major * 10 + (target[i] - '0');
    }
    out.minor = HexDigit(target[n - 2]);
    out.stepping = HexDigit(target[n - 1]);
    ok = ok && out.major > 0 && out.minor >= 0 && out.stepping >= 0;
  }
  if (!ok) {
    return InvalidArgument("HIP target \"", target,
                           "\" is not of the form gfx<major><minor><stepping> (e.g. gfx942)");
  }
  return out;
}

Result<std::unique_ptr<HipDevice>> HipDevice::Open(int ordinal, const std::string& target) {
  MOERT_ASSIGN_OR_RETURN(std::shared_ptr<const Driver> driver, Driver::Load());
  return Open(std::move(driver), ordinal, target);
}

Result<std::unique_ptr<HipDevice>> HipDevice::Open(std::shared_ptr<const Driver> driver,
                                                   int ordinal, const std::string& target) {
  MOERT_ASSIGN_OR_RETURN(HipTarget wanted, ParseHipTarget(target));
  const Driver& d = *driver;
  hipError_t init = d->hipInit(0);
  if (init == hipErrorNoDevice) {
    return Unavailable("moert: no HIP device found (hipInit: ", d.ErrorText(init),
                       "): this artifact needs an AMD GPU");
  }
  MOERT_RETURN_IF_ERROR(d.Check(init, "hipInit"));
  int driver_version = 0;
  MOERT_RETURN_IF_ERROR(d.Check(d->hipDriverGetVersion(&driver_version), "hipDriverGetVersion"));
  int count = 0;
  hipError_t counted = d->hipGetDeviceCount(&count);
  if (counted == hipErrorNoDevice || (counted == hipSuccess && count <= 0)) {
    return Unavailable("moert: no HIP device found (hipGetDeviceCount: ",
                       counted == hipSuccess ? "0" : d.ErrorText(counted), ", runtime ",
                       d.library(), "): this artifact needs an AMD GPU");
  }
  MOERT_RETURN_IF_ERROR(d.Check(counted, "hipGetDeviceCount"));
  if (ordinal < 0 || ordinal >= count) {
    return InvalidArgument("HIP device ", ordinal, " requested but the runtime reports ", count,
                           " device", count == 1 ? "" : "s", " (0 to ", count - 1, ")");
  }

  std::unique_ptr<HipDevice> device(new HipDevice());
  device->driver_ = std::move(driver);
  GpuDeviceInfo& info = device->info_;
  info.api = "HIP";
  info.ordinal = ordinal;
  info.driver_version = driver_version;
  const std::string where = StrCat(" of device ", ordinal);
  MOERT_RETURN_IF_ERROR(d.Check(d->hipDeviceGet(&device->device_, ordinal), "hipDeviceGet" + where));
  const hipDevice_t dev = device->device_;
  char name[256] = {};
  MOERT_RETURN_IF_ERROR(
      d.Check(d->hipDeviceGetName(name, sizeof(name) - 1, dev), "hipDeviceGetName" + where));
  info.name = name;
  struct {
    hipDeviceAttribute_t attribute;
    const char* label;
    int* out;
  } attributes[] = {
      {hipDeviceAttributeComputeCapabilityMajor, "ComputeCapabilityMajor", &info.compute_major},
      {hipDeviceAttributeComputeCapabilityMinor, "ComputeCapabilityMinor", &info.compute_minor},
      {hipDeviceAttributeMultiprocessorCount, "MultiprocessorCount", &info.multiprocessor_count},
      {hipDeviceAttributeSharedMemPerBlockOptin, "SharedMemPerBlockOptin",
       &info.max_shared_memory_per_block_optin},
  };
  for (const auto& a : attributes) {
    MOERT_RETURN_IF_ERROR(d.Check(d->hipDeviceGetAttribute(a.out, a.attribute, ordinal),
                                  StrCat("hipDeviceGetAttribute(", a.label, ")", where)));
  }
  size_t total = 0;
  MOERT_RETURN_IF_ERROR(d.Check(d->hipDeviceTotalMem(&total, dev), "hipDeviceTotalMem" + where));
  info.total_memory = total;
  info.arch = FamilyName(info.compute_major, info.compute_minor);

  if (info.compute_major != wanted.major || info.compute_minor != wanted.minor) {
    return FailedPrecondition("the artifact targets ", target, " but device ", ordinal, " (",
                              info.name, ") is ", info.arch, " (compute capability ",
                              info.compute_major, ".", info.compute_minor, "; ", target, " needs ",
                              wanted.major, ".", wanted.minor, ")");
  }
  device->open_ = true;
  MOERT_RETURN_IF_ERROR(device->MakeCurrent());
  return device;
}

HipDevice::~HipDevice() {
  if (!open_) return;
  const HipSymbols& s = driver_->symbols();
  (void)s.hipSetDevice(info_.ordinal);
  for (hipGraphExec_t graph : graphs_) (void)s.hipGraphExecDestroy(graph);
  for (hipStream_t stream : streams_) {
    (void)s.hipStreamSynchronize(stream);
    (void)s.hipStreamDestroy(stream);
  }
  for (const auto& module : modules_) (void)s.hipModuleUnload(module.first);
  for (void* buffer : buffers_) (void)s.hipFree(buffer);
}

Status HipDevice::MakeCurrent() {
  return Check(driver_->symbols().hipSetDevice(info_.ordinal), StrCat("hipSetDevice(", info_.ordinal, ")"));
}

Result<DeviceBuffer> HipDevice::Allocate(uint64_t size) {
  if (size == 0) return InvalidArgument("HIP allocation of 0 bytes");
  if (size > SIZE_MAX) return ResourceExhausted("HIP allocation of ", size, " bytes exceeds size_t");
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  void* pointer = nullptr;
  MOERT_RETURN_IF_ERROR(Check(driver_->symbols().hipMalloc(&pointer, size),
                              StrCat("hipMalloc(", size, " bytes) on device ", info_.ordinal, " (",
                                     info_.name, ", ", info_.total_memory, " bytes)")));
  buffers_.insert(pointer);
  return DeviceBuffer{reinterpret_cast<uintptr_t>(pointer), size};
}

Status HipDevice::Free(DeviceBuffer buffer) {
  auto it = buffers_.find(Pointer(buffer.address));
  if (it == buffers_.end()) {
    return InvalidArgument("HIP free of ", buffer.address, ": not a live allocation of device ",
                           info_.ordinal);
  }
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  buffers_.erase(it);
  return Check(driver_->symbols().hipFree(Pointer(buffer.address)), "hipFree");
}

Status HipDevice::CopyToDevice(DeviceBuffer dst, uint64_t offset, const void* src, uint64_t size) {
  MOERT_RETURN_IF_ERROR(CheckRange(dst, offset, size, "HIP copy to device"));
  if (size == 0) return Status::Ok();
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  return Check(driver_->symbols().hipMemcpyHtoD(Pointer(dst.address + offset), src, size),
               StrCat("hipMemcpyHtoD(", size, " bytes at offset ", offset, ")"));
}

Status HipDevice::CopyToHost(void* dst, DeviceBuffer src, uint64_t offset, uint64_t size) {
  MOERT_RETURN_IF_ERROR(CheckRange(src, offset, size, "HIP copy to host"));
  if (size == 0) return Status::Ok();
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  return Check(driver_->symbols().hipMemcpyDtoH(dst, Pointer(src.address + offset), size),
               StrCat("hipMemcpyDtoH(", size, " bytes at offset ", offset, ")"));
}

Status HipDevice::Fill(DeviceBuffer dst, uint64_t offset, uint64_t size, uint8_t value) {
  MOERT_RETURN_IF_ERROR(CheckRange(dst, offset, size, "HIP fill"));
  if (size == 0) return Status::Ok();
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  return Check(driver_->symbols().hipMemset(Pointer(dst.address + offset), value, size),
               StrCat("hipMemset(", size, " bytes at offset ", offset, ")"));
}

Result<GpuModule> HipDevice::LoadModule(const std::string& name, const uint8_t* data,
                                        uint64_t size) {
  if (data == nullptr || size == 0) return InvalidArgument("HIP module ", name, " is empty");
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  hipModule_t module = nullptr;
  MOERT_RETURN_IF_ERROR(Check(driver_->symbols().hipModuleLoadData(&module, data),
                              StrCat("hipModuleLoadData(", name, ", ", size, " bytes) on device ",
                                     info_.ordinal, " (", info_.arch, ")")));
  modules_.emplace(module, name);
  return reinterpret_cast<GpuModule>(module);
}

Status HipDevice::UnloadModule(GpuModule module) {
  auto it = modules_.find(Native(module));
  if (it == modules_.end()) return InvalidArgument("HIP unload of a module this device did not load");
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  std::string name = std::move(it->second);
  modules_.erase(it);
  return Check(driver_->symbols().hipModuleUnload(Native(module)), "hipModuleUnload(" + name + ")");
}

Result<GpuFunction> HipDevice::GetFunction(GpuModule module, const std::string& name) {
  auto it = modules_.find(Native(module));
  if (it == modules_.end()) return InvalidArgument("HIP function ", name, ": unknown module");
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  hipFunction_t function = nullptr;
  Status status =
      Check(driver_->symbols().hipModuleGetFunction(&function, Native(module), name.c_str()),
            StrCat("hipModuleGetFunction(", it->second, ", \"", name, "\")"));
  if (!status.ok()) return status;
  functions_[function] = name;
  return reinterpret_cast<GpuFunction>(function);
}

Result<GpuStream> HipDevice::CreateStream() {
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  hipStream_t stream = nullptr;
  MOERT_RETURN_IF_ERROR(Check(driver_->symbols().hipStreamCreate(&stream), "hipStreamCreate"));
  streams_.insert(stream);
  return reinterpret_cast<GpuStream>(stream);
}

Status HipDevice::DestroyStream(GpuStream stream) {
  if (streams_.erase(Native(stream)) == 0) return InvalidArgument("HIP destroy of an unknown stream");
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  return Check(driver_->symbols().hipStreamDestroy(Native(stream)), "hipStreamDestroy");
}

Status HipDevice::Synchronize(GpuStream stream) {
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  return Check(driver_->symbols().hipStreamSynchronize(Native(stream)), "hipStreamSynchronize");
}

Status HipDevice::Launch(GpuStream stream, const KernelLaunch& launch) {
  MOERT_RETURN_IF_ERROR(CheckLaunch(launch, "HIP"));
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  void* params[kMaxKernelParameters];
  uint32_t n = 0;
  for (uint32_t i = 0; i < launch.binding_count; ++i) {
    params[n++] = const_cast<uint64_t*>(&launch.bindings[i]);
  }
  for (uint32_t i = 0; i < launch.constant_count; ++i) {
    params[n++] = const_cast<uint32_t*>(&launch.constants[i]);
  }
  hipError_t result = driver_->symbols().hipModuleLaunchKernel(
      Native(launch.function), launch.grid[0], launch.grid[1], launch.grid[2], launch.block[0],
      launch.block[1], launch.block[2], launch.shared_memory_bytes, Native(stream),
      n > 0 ? params : nullptr, nullptr);
  if (result == hipSuccess) return Status::Ok();
  auto it = functions_.find(Native(launch.function));
  return Check(result, StrCat("hipModuleLaunchKernel(", it != functions_.end() ? it->second : "?",
                              ", grid ", launch.grid[0], "x", launch.grid[1], "x", launch.grid[2],
                              ", block ", launch.block[0], "x", launch.block[1], "x",
                              launch.block[2], ", ", launch.shared_memory_bytes,
                              " bytes of shared memory)"));
}

Status HipDevice::BeginCapture(GpuStream stream) {
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  return Check(driver_->symbols().hipStreamBeginCapture(Native(stream),
                                                        hipStreamCaptureModeThreadLocal),
               "hipStreamBeginCapture");
}

Result<GpuGraph> HipDevice::EndCapture(GpuStream stream) {
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  const HipSymbols& s = driver_->symbols();
  hipGraph_t graph = nullptr;
  MOERT_RETURN_IF_ERROR(Check(s.hipStreamEndCapture(Native(stream), &graph), "hipStreamEndCapture"));
  hipGraphExec_t exec = nullptr;
  Status status = Check(s.hipGraphInstantiate(&exec, graph, nullptr, nullptr, 0), "hipGraphInstantiate");
  Status destroyed = Check(s.hipGraphDestroy(graph), "hipGraphDestroy");
  if (!status.ok()) return status;
  graphs_.insert(exec);
  if (!destroyed.ok()) {
    (void)DestroyGraph(reinterpret_cast<GpuGraph>(exec));
    return destroyed;
  }
  return reinterpret_cast<GpuGraph>(exec);
}

Status HipDevice::ReplayGraph(GpuGraph graph, GpuStream stream) {
  if (graphs_.count(Native(graph)) == 0) return InvalidArgument("HIP replay of an unknown graph");
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  return Check(driver_->symbols().hipGraphLaunch(Native(graph), Native(stream)), "hipGraphLaunch");
}

Status HipDevice::DestroyGraph(GpuGraph graph) {
  if (graphs_.erase(Native(graph)) == 0) return InvalidArgument("HIP destroy of an unknown graph");
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  return Check(driver_->symbols().hipGraphExecDestroy(Native(graph)), "hipGraphExecDestroy");
}

}  // namespace moert::hal::hip
