// The GpuDevice both GPU HALs share, written once over a per-API traits
// struct (cuda::CudaApi in cuda/driver.h, hip::HipApi in hip/driver.h): the
// device probe, handle bookkeeping, range and launch checks, kernel parameter
// packing, capture/instantiate/replay sequencing, the release order of what a
// device still owns, and every message. CudaDevice and HipDevice derive from
// GpuDeviceImpl<Api> and keep only what differs: the target check, how the
// device is made current, and (CUDA) the primary context.
//
// Besides what GpuDriver<Api> reads (gpu_driver.h), Api supplies:
//   Driver                         the API's driver class (a GpuDriver<Api>);
//   Device, Module, Function, Stream, Graph, GraphExec   native handle types;
//   Attribute, kAttributes         the four GpuDeviceInfo attributes queried;
//   kCalls                         the entry point names messages give;
//   kVendorGpu, kDriverNoun        "an NVIDIA GPU", "driver" for messages;
//   kNoDevice, kCountReportsNoDevice   the "no device" result, and whether
//                                  the device count may return it;
//   ArchName(major, minor)         what info().arch reports;
//   one static function per entry point the device calls (Init, MemAlloc,
//   ModuleLoad, LaunchKernel, ...), taking the symbol table first.
#ifndef MOERT_HAL_GPU_DEVICE_IMPL_H_
#define MOERT_HAL_GPU_DEVICE_IMPL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "base/status.h"
#include "hal/gpu_device.h"

namespace moert::hal {

// The entry point names an API's messages use ("cuMemAlloc_v2", "hipMalloc").
struct GpuCallNames {
  const char* init;
  const char* driver_get_version;
  const char* device_get_count;
  const char* device_get;
  const char* device_get_name;
  const char* device_get_attribute;
  const char* device_total_mem;
  const char* mem_alloc;
  const char* mem_free;
  const char* memcpy_htod;
  const char* memcpy_dtoh;
  const char* memset;
  const char* module_load;
  const char* module_unload;
  const char* module_get_function;
  const char* launch_kernel;
  const char* stream_create;
  const char* stream_destroy;
  const char* stream_synchronize;
  const char* begin_capture;
  const char* end_capture;
  const char* graph_instantiate;
  const char* graph_destroy;
  const char* graph_launch;
  const char* graph_exec_destroy;
};

// One device attribute read at open: the API's enum value, its name in
// messages and the GpuDeviceInfo field it fills.
template <typename Attribute>
struct GpuAttributeQuery {
  Attribute attribute;
  const char* label;
  int GpuDeviceInfo::*out;
};

template <typename Api>
class GpuDeviceImpl : public GpuDevice {
 public:
  using Driver = typename Api::Driver;

  const GpuDeviceInfo& info() const override { return info_; }
  const Driver& driver() const { return *driver_; }

  Result<DeviceBuffer> Allocate(uint64_t size) override;
  Status Free(DeviceBuffer buffer) override;
  Status CopyToDevice(DeviceBuffer dst, uint64_t offset, const void* src, uint64_t size) override;
  Status CopyToHost(void* dst, DeviceBuffer src, uint64_t offset, uint64_t size) override;
  Status Fill(DeviceBuffer dst, uint64_t offset, uint64_t size, uint8_t value) override;

  Result<GpuModule> LoadModule(const std::string& name, const uint8_t* data,
                               uint64_t size) override;
  Status UnloadModule(GpuModule module) override;
  Result<GpuFunction> GetFunction(GpuModule module, const std::string& name) override;

  Result<GpuStream> CreateStream() override;
  Status DestroyStream(GpuStream stream) override;
  Status Synchronize(GpuStream stream) override;
  Status Launch(GpuStream stream, const KernelLaunch& launch) override;

  Status BeginCapture(GpuStream stream) override;
  Result<GpuGraph> EndCapture(GpuStream stream) override;
  Status ReplayGraph(GpuGraph graph, GpuStream stream) override;
  Status DestroyGraph(GpuGraph graph) override;

 protected:
  using ApiResult = typename Api::Result;
  using Symbols = typename Api::Symbols;
  using NativeModule = typename Api::Module;
  using NativeFunction = typename Api::Function;
  using NativeStream = typename Api::Stream;
  using NativeGraphExec = typename Api::GraphExec;

  GpuDeviceImpl() = default;

  // Makes this device current on the calling thread.
  virtual Status MakeCurrent() = 0;

  Status Check(ApiResult result, const std::string& call) const {
    return driver_->Check(result, call);
  }
  const Symbols& symbols() const { return driver_->symbols(); }

  // Initializes the driver, checks that device `ordinal` exists and fills
  // info_ and device_ from it. What the device must run is the caller's check.
  Status Probe(std::shared_ptr<const Driver> driver, int ordinal);

  // Releases everything still alive, in order: graphs, streams (each
  // synchronized first), modules, buffers. For destructors: the caller has
  // made the device current, and errors have nowhere to go.
  void ReleaseAll();

  std::shared_ptr<const Driver> driver_;
  GpuDeviceInfo info_;
  typename Api::Device device_{};

 private:
  static NativeStream Native(GpuStream stream) { return reinterpret_cast<NativeStream>(stream); }
  static NativeModule Native(GpuModule module) { return reinterpret_cast<NativeModule>(module); }
  static NativeFunction Native(GpuFunction function) {
    return reinterpret_cast<NativeFunction>(function);
  }
  static NativeGraphExec Native(GpuGraph graph) { return reinterpret_cast<NativeGraphExec>(graph); }

  // Everything still alive, released by ReleaseAll.
  std::unordered_set<uint64_t> buffers_;
  std::unordered_map<NativeModule, std::string> modules_;
  std::unordered_map<NativeFunction, std::string> functions_;
  std::unordered_set<NativeStream> streams_;
  std::unordered_set<NativeGraphExec> graphs_;
};

template <typename Api>
Status GpuDeviceImpl<Api>::Probe(std::shared_ptr<const Driver> driver, int ordinal) {
  driver_ = std::move(driver);
  const Driver& d = *driver_;
  const Symbols& s = d.symbols();
  const GpuCallNames& calls = Api::kCalls;
  ApiResult init = Api::Init(s);
  if (init == Api::kNoDevice) {
    return Unavailable("moert: no ", Api::kName, " device found (", calls.init, ": ",
                       d.ErrorText(init), "): this artifact needs ", Api::kVendorGpu);
  }
  MOERT_RETURN_IF_ERROR(d.Check(init, calls.init));
  int driver_version = 0;
  MOERT_RETURN_IF_ERROR(d.Check(Api::DriverGetVersion(s, &driver_version), calls.driver_get_version));
  int count = 0;
  ApiResult counted = Api::DeviceGetCount(s, &count);
  if ((Api::kCountReportsNoDevice && counted == Api::kNoDevice) ||
      (counted == Api::kSuccess && count <= 0)) {
    return Unavailable("moert: no ", Api::kName, " device found (", calls.device_get_count, ": ",
                       counted == Api::kSuccess ? std::string("0") : d.ErrorText(counted), ", ",
                       Api::kDriverNoun, " ", d.library(), "): this artifact needs ",
                       Api::kVendorGpu);
  }
  MOERT_RETURN_IF_ERROR(d.Check(counted, calls.device_get_count));
  if (ordinal < 0 || ordinal >= count) {
    return InvalidArgument(Api::kName, " device ", ordinal, " requested but the ", Api::kDriverNoun,
                           " reports ", count, " device", count == 1 ? "" : "s", " (0 to ",
                           count - 1, ")");
  }

  info_.api = Api::kName;
  info_.ordinal = ordinal;
  info_.driver_version = driver_version;
  const std::string where = StrCat(" of device ", ordinal);
  MOERT_RETURN_IF_ERROR(d.Check(Api::DeviceGet(s, &device_, ordinal), calls.device_get + where));
  char name[256] = {};
  MOERT_RETURN_IF_ERROR(d.Check(Api::DeviceGetName(s, name, sizeof(name) - 1, device_),
                                calls.device_get_name + where));
  info_.name = name;
  for (const auto& a : Api::kAttributes) {
    MOERT_RETURN_IF_ERROR(
        d.Check(Api::DeviceGetAttribute(s, &(info_.*a.out), a.attribute, device_, ordinal),
                StrCat(calls.device_get_attribute, "(", a.label, ")", where)));
  }
  size_t total = 0;
  MOERT_RETURN_IF_ERROR(
      d.Check(Api::DeviceTotalMem(s, &total, device_), calls.device_total_mem + where));
  info_.total_memory = total;
  info_.arch = Api::ArchName(info_.compute_major, info_.compute_minor);
  return Status::Ok();
}

template <typename Api>
void GpuDeviceImpl<Api>::ReleaseAll() {
  const Symbols& s = symbols();
  for (NativeGraphExec graph : graphs_) (void)Api::GraphExecDestroy(s, graph);
  for (NativeStream stream : streams_) {
    (void)Api::StreamSynchronize(s, stream);
    (void)Api::StreamDestroy(s, stream);
  }
  for (const auto& module : modules_) (void)Api::ModuleUnload(s, module.first);
  for (uint64_t buffer : buffers_) (void)Api::MemFree(s, buffer);
  graphs_.clear();
  streams_.clear();
  modules_.clear();
  functions_.clear();
  buffers_.clear();
}

template <typename Api>
Result<DeviceBuffer> GpuDeviceImpl<Api>::Allocate(uint64_t size) {
  if (size == 0) return InvalidArgument(Api::kName, " allocation of 0 bytes");
  if (size > SIZE_MAX) {
    return ResourceExhausted(Api::kName, " allocation of ", size, " bytes exceeds size_t");
  }
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  uint64_t address = 0;
  MOERT_RETURN_IF_ERROR(Check(Api::MemAlloc(symbols(), &address, size),
                              StrCat(Api::kCalls.mem_alloc, "(", size, " bytes) on device ",
                                     info_.ordinal, " (", info_.name, ", ", info_.total_memory,
                                     " bytes)")));
  buffers_.insert(address);
  return DeviceBuffer{address, size};
}

template <typename Api>
Status GpuDeviceImpl<Api>::Free(DeviceBuffer buffer) {
  auto it = buffers_.find(buffer.address);
  if (it == buffers_.end()) {
    return InvalidArgument(Api::kName, " free of ", buffer.address,
                           ": not a live allocation of device ", info_.ordinal);
  }
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  buffers_.erase(it);
  return Check(Api::MemFree(symbols(), buffer.address), Api::kCalls.mem_free);
}

template <typename Api>
Status GpuDeviceImpl<Api>::CopyToDevice(DeviceBuffer dst, uint64_t offset, const void* src,
                                        uint64_t size) {
  MOERT_RETURN_IF_ERROR(CheckRange(dst, offset, size, Api::kName, "copy to device"));
  if (size == 0) return Status::Ok();
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  return Check(Api::MemcpyHtoD(symbols(), dst.address + offset, src, size),
               StrCat(Api::kCalls.memcpy_htod, "(", size, " bytes at offset ", offset, ")"));
}

template <typename Api>
Status GpuDeviceImpl<Api>::CopyToHost(void* dst, DeviceBuffer src, uint64_t offset,
                                      uint64_t size) {
  MOERT_RETURN_IF_ERROR(CheckRange(src, offset, size, Api::kName, "copy to host"));
  if (size == 0) return Status::Ok();
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  return Check(Api::MemcpyDtoH(symbols(), dst, src.address + offset, size),
               StrCat(Api::kCalls.memcpy_dtoh, "(", size, " bytes at offset ", offset, ")"));
}

template <typename Api>
Status GpuDeviceImpl<Api>::Fill(DeviceBuffer dst, uint64_t offset, uint64_t size, uint8_t value) {
  MOERT_RETURN_IF_ERROR(CheckRange(dst, offset, size, Api::kName, "fill"));
  if (size == 0) return Status::Ok();
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  return Check(Api::Memset(symbols(), dst.address + offset, value, size),
               StrCat(Api::kCalls.memset, "(", size, " bytes at offset ", offset, ")"));
}

template <typename Api>
Result<GpuModule> GpuDeviceImpl<Api>::LoadModule(const std::string& name, const uint8_t* data,
                                                 uint64_t size) {
  if (data == nullptr || size == 0) return InvalidArgument(Api::kName, " module ", name, " is empty");
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  NativeModule module = nullptr;
  // `kind` ("PTX", "cubin") is what the API says of the image, where it
  // tells them apart; it is set by the call, so the message is built after.
  const char* kind = nullptr;
  ApiResult result = Api::ModuleLoad(symbols(), &module, data, size, &kind);
  MOERT_RETURN_IF_ERROR(Check(result, StrCat(Api::kCalls.module_load, "(", name, ", ", size,
                                             " bytes", kind != nullptr ? ", " : "",
                                             kind != nullptr ? kind : "", ") on device ",
                                             info_.ordinal, " (", info_.arch, ")")));
  modules_.emplace(module, name);
  return reinterpret_cast<GpuModule>(module);
}

template <typename Api>
Status GpuDeviceImpl<Api>::UnloadModule(GpuModule module) {
  auto it = modules_.find(Native(module));
  if (it == modules_.end()) {
    return InvalidArgument(Api::kName, " unload of a module this device did not load");
  }
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  std::string name = std::move(it->second);
  modules_.erase(it);
  return Check(Api::ModuleUnload(symbols(), Native(module)),
               StrCat(Api::kCalls.module_unload, "(", name, ")"));
}

template <typename Api>
Result<GpuFunction> GpuDeviceImpl<Api>::GetFunction(GpuModule module, const std::string& name) {
  auto it = modules_.find(Native(module));
  if (it == modules_.end()) return InvalidArgument(Api::kName, " function ", name, ": unknown module");
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  NativeFunction function = nullptr;
  Status status = Check(Api::ModuleGetFunction(symbols(), &function, Native(module), name.c_str()),
                        StrCat(Api::kCalls.module_get_function, "(", it->second, ", \"", name,
                               "\")"));
  if (!status.ok()) return status;
  functions_[function] = name;
  return reinterpret_cast<GpuFunction>(function);
}

template <typename Api>
Result<GpuStream> GpuDeviceImpl<Api>::CreateStream() {
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  NativeStream stream = nullptr;
  MOERT_RETURN_IF_ERROR(Check(Api::StreamCreate(symbols(), &stream), Api::kCalls.stream_create));
  streams_.insert(stream);
  return reinterpret_cast<GpuStream>(stream);
}

template <typename Api>
Status GpuDeviceImpl<Api>::DestroyStream(GpuStream stream) {
  if (streams_.erase(Native(stream)) == 0) {
    return InvalidArgument(Api::kName, " destroy of an unknown stream");
  }
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  return Check(Api::StreamDestroy(symbols(), Native(stream)), Api::kCalls.stream_destroy);
}

template <typename Api>
Status GpuDeviceImpl<Api>::Synchronize(GpuStream stream) {
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  return Check(Api::StreamSynchronize(symbols(), Native(stream)), Api::kCalls.stream_synchronize);
}

template <typename Api>
Status GpuDeviceImpl<Api>::Launch(GpuStream stream, const KernelLaunch& launch) {
  MOERT_RETURN_IF_ERROR(CheckLaunch(launch, Api::kName));
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  // The parameter ABI of gpu_device.h: one pointer per parameter value.
  void* params[kMaxKernelParameters];
  uint32_t n = 0;
  for (uint32_t i = 0; i < launch.binding_count; ++i) {
    params[n++] = const_cast<uint64_t*>(&launch.bindings[i]);
  }
  for (uint32_t i = 0; i < launch.constant_count; ++i) {
    params[n++] = const_cast<uint32_t*>(&launch.constants[i]);
  }
  ApiResult result =
      Api::LaunchKernel(symbols(), Native(launch.function), launch.grid, launch.block,
                        launch.shared_memory_bytes, Native(stream), n > 0 ? params : nullptr);
  if (result == Api::kSuccess) return Status::Ok();
  auto it = functions_.find(Native(launch.function));
  return Check(result, StrCat(Api::kCalls.launch_kernel, "(",
                              it != functions_.end() ? it->second : "?", ", grid ", launch.grid[0],
                              "x", launch.grid[1], "x", launch.grid[2], ", block ",
                              launch.block[0], "x", launch.block[1], "x", launch.block[2], ", ",
                              launch.shared_memory_bytes, " bytes of shared memory)"));
}

template <typename Api>
Status GpuDeviceImpl<Api>::BeginCapture(GpuStream stream) {
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  return Check(Api::BeginCapture(symbols(), Native(stream)), Api::kCalls.begin_capture);
}

template <typename Api>
Result<GpuGraph> GpuDeviceImpl<Api>::EndCapture(GpuStream stream) {
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  const Symbols& s = symbols();
  typename Api::Graph graph = nullptr;
  MOERT_RETURN_IF_ERROR(Check(Api::EndCapture(s, Native(stream), &graph), Api::kCalls.end_capture));
  NativeGraphExec exec = nullptr;
  Status status = Check(Api::GraphInstantiate(s, &exec, graph), Api::kCalls.graph_instantiate);
  // The executable graph does not need the graph it came from.
  Status destroyed = Check(Api::GraphDestroy(s, graph), Api::kCalls.graph_destroy);
  if (!status.ok()) return status;
  graphs_.insert(exec);
  if (!destroyed.ok()) {
    (void)DestroyGraph(reinterpret_cast<GpuGraph>(exec));
    return destroyed;
  }
  return reinterpret_cast<GpuGraph>(exec);
}

template <typename Api>
Status GpuDeviceImpl<Api>::ReplayGraph(GpuGraph graph, GpuStream stream) {
  if (graphs_.count(Native(graph)) == 0) {
    return InvalidArgument(Api::kName, " replay of an unknown graph");
  }
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  return Check(Api::GraphLaunch(symbols(), Native(graph), Native(stream)),
               Api::kCalls.graph_launch);
}

template <typename Api>
Status GpuDeviceImpl<Api>::DestroyGraph(GpuGraph graph) {
  if (graphs_.erase(Native(graph)) == 0) {
    return InvalidArgument(Api::kName, " destroy of an unknown graph");
  }
  MOERT_RETURN_IF_ERROR(MakeCurrent());
  return Check(Api::GraphExecDestroy(symbols(), Native(graph)), Api::kCalls.graph_exec_destroy);
}

}  // namespace moert::hal

#endif  // MOERT_HAL_GPU_DEVICE_IMPL_H_
