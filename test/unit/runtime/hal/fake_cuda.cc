// A fake CUDA driver (a shared library standing in for libcuda.so.1) over the
// in-memory GPU of fake_gpu.h. The loader finds only cuGetProcAddress_v2 with
// dlsym; every other entry point is handed out by it, keyed by base name and
// refused below the version it was introduced at, as the real driver does.
// Built a second time with MOERT_FAKE_NO_GET_PROC_ADDRESS for a driver that
// lacks cuGetProcAddress_v2.
//
// Test controls (exported, C linkage): moert_fake_cuda_reset,
// moert_fake_cuda_set_device, moert_fake_cuda_fail, moert_fake_cuda_hide,
// moert_fake_cuda_log, moert_fake_cuda_live_allocations; and the environment
// variables MOERT_FAKE_CUDA_FAIL / MOERT_FAKE_CUDA_HIDE (see fake_gpu.h).
#include <cstring>

#include "fake_gpu.h"
#include "hal/cuda/cuda_types.h"

#define EXPORT extern "C" __attribute__((visibility("default")))

namespace {

using moert_fake::FakeGpu;

FakeGpu& Gpu() {
  static FakeGpu* gpu = new FakeGpu("MOERT_FAKE_CUDA");
  return *gpu;
}

bool initialized = false;

#define FAKE_FAIL(name)                      \
  do {                                       \
    if (int e = Gpu().Failure(name)) return e; \
  } while (0)
#define FAKE_NEEDS_INIT() \
  do {                    \
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED; \
  } while (0)

const char* ErrorName(CUresult e) {
  switch (e) {
    case CUDA_SUCCESS: return "CUDA_SUCCESS";
    case CUDA_ERROR_INVALID_VALUE: return "CUDA_ERROR_INVALID_VALUE";
    case CUDA_ERROR_OUT_OF_MEMORY: return "CUDA_ERROR_OUT_OF_MEMORY";
    case CUDA_ERROR_NOT_INITIALIZED: return "CUDA_ERROR_NOT_INITIALIZED";
    case CUDA_ERROR_NO_DEVICE: return "CUDA_ERROR_NO_DEVICE";
    case CUDA_ERROR_INVALID_DEVICE: return "CUDA_ERROR_INVALID_DEVICE";
    case CUDA_ERROR_INVALID_IMAGE: return "CUDA_ERROR_INVALID_IMAGE";
    case CUDA_ERROR_INVALID_HANDLE: return "CUDA_ERROR_INVALID_HANDLE";
    case CUDA_ERROR_NOT_FOUND: return "CUDA_ERROR_NOT_FOUND";
    case CUDA_ERROR_UNKNOWN: return "CUDA_ERROR_UNKNOWN";
    default: return nullptr;
  }
}
const char* ErrorString(CUresult e) {
  switch (e) {
    case CUDA_SUCCESS: return "no error";
    case CUDA_ERROR_INVALID_VALUE: return "invalid argument";
    case CUDA_ERROR_OUT_OF_MEMORY: return "out of memory";
    case CUDA_ERROR_NOT_INITIALIZED: return "initialization error";
    case CUDA_ERROR_NO_DEVICE: return "no CUDA-capable device is detected";
    case CUDA_ERROR_INVALID_DEVICE: return "invalid device ordinal";
    case CUDA_ERROR_INVALID_IMAGE: return "device kernel image is invalid";
    case CUDA_ERROR_INVALID_HANDLE: return "invalid resource handle";
    case CUDA_ERROR_NOT_FOUND: return "named symbol not found";
    case CUDA_ERROR_UNKNOWN: return "unknown error";
    default: return nullptr;
  }
}

CUresult GetErrorName(CUresult e, const char** out) {
  *out = ErrorName(e);
  return *out != nullptr ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
CUresult GetErrorString(CUresult e, const char** out) {
  *out = ErrorString(e);
  return *out != nullptr ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
CUresult Init(unsigned int) {
  FAKE_FAIL("cuInit");
  if (Gpu().count == 0) return CUDA_ERROR_NO_DEVICE;
  initialized = true;
  return CUDA_SUCCESS;
}
CUresult DriverGetVersion(int* v) {
  FAKE_FAIL("cuDriverGetVersion");
  *v = 12080;
  return CUDA_SUCCESS;
}
CUresult DeviceGetCount(int* n) {
  FAKE_FAIL("cuDeviceGetCount");
  FAKE_NEEDS_INIT();
  *n = Gpu().count;
  return CUDA_SUCCESS;
}
CUresult DeviceGet(CUdevice* d, int ordinal) {
  FAKE_FAIL("cuDeviceGet");
  FAKE_NEEDS_INIT();
  if (ordinal < 0 || ordinal >= Gpu().count) return CUDA_ERROR_INVALID_DEVICE;
  *d = ordinal;
  return CUDA_SUCCESS;
}
CUresult DeviceGetAttribute(int* v, CUdevice_attribute a, CUdevice d) {
  FAKE_FAIL("cuDeviceGetAttribute");
  FAKE_NEEDS_INIT();
  if (d < 0 || d >= Gpu().count) return CUDA_ERROR_INVALID_DEVICE;
  switch (a) {
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *v = Gpu().major; break;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *v = Gpu().minor; break;
    case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: *v = Gpu().multiprocessors; break;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: *v = Gpu().shared_optin; break;
    case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *v = 1024; break;
    case CU_DEVICE_ATTRIBUTE_WARP_SIZE: *v = 32; break;
    default: return CUDA_ERROR_INVALID_VALUE;
  }
  return CUDA_SUCCESS;
}
CUresult DeviceGetName(char* name, int length, CUdevice d) {
  FAKE_FAIL("cuDeviceGetName");
  FAKE_NEEDS_INIT();
  if (length <= 0) return CUDA_ERROR_INVALID_VALUE;
  std::strncpy(name, Gpu().name.c_str(), static_cast<size_t>(length));
  name[length - 1] = '\0';
  return CUDA_SUCCESS;
}
CUresult DeviceTotalMem(size_t* bytes, CUdevice) {
  FAKE_FAIL("cuDeviceTotalMem");
  *bytes = Gpu().total_memory;
  return CUDA_SUCCESS;
}
// The context is a tag: one per device, reference counted.
int context_refs = 0;
CUresult PrimaryCtxRetain(CUcontext* c, CUdevice d) {
  FAKE_FAIL("cuDevicePrimaryCtxRetain");
  FAKE_NEEDS_INIT();
  ++context_refs;
  *c = reinterpret_cast<CUcontext>(static_cast<uintptr_t>(0x1000 + d));
  return CUDA_SUCCESS;
}
CUresult PrimaryCtxRelease(CUdevice) {
  FAKE_FAIL("cuDevicePrimaryCtxRelease");
  if (context_refs == 0) return CUDA_ERROR_INVALID_CONTEXT;
  --context_refs;
  Gpu().Note("release context");
  return CUDA_SUCCESS;
}
CUresult CtxSetCurrent(CUcontext) {
  FAKE_FAIL("cuCtxSetCurrent");
  return CUDA_SUCCESS;
}
CUresult MemAlloc(CUdeviceptr* p, size_t bytes) {
  FAKE_FAIL("cuMemAlloc");
  void* mem = Gpu().Allocate(bytes);
  if (mem == nullptr) return CUDA_ERROR_OUT_OF_MEMORY;
  *p = reinterpret_cast<CUdeviceptr>(mem);
  return CUDA_SUCCESS;
}
CUresult MemFree(CUdeviceptr p) {
  FAKE_FAIL("cuMemFree");
  return Gpu().Free(reinterpret_cast<void*>(p)) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
CUresult MemcpyHtoD(CUdeviceptr dst, const void* src, size_t bytes) {
  FAKE_FAIL("cuMemcpyHtoD");
  std::memcpy(reinterpret_cast<void*>(dst), src, bytes);
  return CUDA_SUCCESS;
}
CUresult MemcpyDtoH(void* dst, CUdeviceptr src, size_t bytes) {
  FAKE_FAIL("cuMemcpyDtoH");
  std::memcpy(dst, reinterpret_cast<const void*>(src), bytes);
  return CUDA_SUCCESS;
}
CUresult MemsetD8(CUdeviceptr dst, unsigned char value, size_t n) {
  FAKE_FAIL("cuMemsetD8");
  std::memset(reinterpret_cast<void*>(dst), value, n);
  return CUDA_SUCCESS;
}
CUresult ModuleLoadData(CUmodule* m, const void* image) {
  FAKE_FAIL("cuModuleLoadData");
  moert_fake::Module* module = Gpu().LoadModule(image);
  if (module == nullptr) return CUDA_ERROR_INVALID_IMAGE;
  *m = reinterpret_cast<CUmodule>(module);
  return CUDA_SUCCESS;
}
CUresult ModuleUnload(CUmodule m) {
  FAKE_FAIL("cuModuleUnload");
  return Gpu().UnloadModule(reinterpret_cast<moert_fake::Module*>(m)) ? CUDA_SUCCESS
                                                                       : CUDA_ERROR_INVALID_HANDLE;
}
CUresult ModuleGetFunction(CUfunction* f, CUmodule m, const char* name) {
  FAKE_FAIL("cuModuleGetFunction");
  auto* module = reinterpret_cast<moert_fake::Module*>(m);
  if (!Gpu().HasModule(module)) return CUDA_ERROR_INVALID_HANDLE;
  const moert_fake::Function* fn = FakeGpu::FindFunction(module, name);
  if (fn == nullptr) return CUDA_ERROR_NOT_FOUND;
  *f = reinterpret_cast<CUfunction>(const_cast<moert_fake::Function*>(fn));
  return CUDA_SUCCESS;
}
CUresult LaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                      unsigned by, unsigned bz, unsigned shared, CUstream s, void** params,
                      void** extra) {
  FAKE_FAIL("cuLaunchKernel");
  const unsigned grid[3] = {gx, gy, gz}, block[3] = {bx, by, bz};
  auto* fn = reinterpret_cast<const moert_fake::Function*>(f);
  Gpu().Launch(reinterpret_cast<moert_fake::Stream*>(s),
               Gpu().Record(fn, grid, block, shared, params));
  return CUDA_SUCCESS;
}
CUresult StreamCreate(CUstream* s, unsigned int) {
  FAKE_FAIL("cuStreamCreate");
  *s = reinterpret_cast<CUstream>(new moert_fake::Stream());
  return CUDA_SUCCESS;
}
CUresult StreamSynchronize(CUstream) {
  FAKE_FAIL("cuStreamSynchronize");
  return CUDA_SUCCESS;
}
CUresult StreamDestroy(CUstream s) {
  FAKE_FAIL("cuStreamDestroy");
  delete reinterpret_cast<moert_fake::Stream*>(s);
  return CUDA_SUCCESS;
}
CUresult StreamBeginCapture(CUstream s, CUstreamCaptureMode) {
  FAKE_FAIL("cuStreamBeginCapture");
  auto* stream = reinterpret_cast<moert_fake::Stream*>(s);
  if (stream == nullptr || stream->capturing) return CUDA_ERROR_INVALID_VALUE;
  stream->capturing = true;
  stream->captured.clear();
  return CUDA_SUCCESS;
}
CUresult StreamEndCapture(CUstream s, CUgraph* g) {
  auto* stream = reinterpret_cast<moert_fake::Stream*>(s);
  if (stream == nullptr || !stream->capturing) return CUDA_ERROR_INVALID_VALUE;
  stream->capturing = false;
  FAKE_FAIL("cuStreamEndCapture");
  auto* graph = new moert_fake::Graph();
  graph->launches = std::move(stream->captured);
  *g = reinterpret_cast<CUgraph>(graph);
  return CUDA_SUCCESS;
}
CUresult GraphInstantiateWithFlags(CUgraphExec* e, CUgraph g, unsigned long long) {  // NOLINT
  FAKE_FAIL("cuGraphInstantiateWithFlags");
  *e = reinterpret_cast<CUgraphExec>(new moert_fake::Graph(*reinterpret_cast<moert_fake::Graph*>(g)));
  return CUDA_SUCCESS;
}
CUresult GraphLaunch(CUgraphExec e, CUstream) {
  FAKE_FAIL("cuGraphLaunch");
  Gpu().Replay(*reinterpret_cast<moert_fake::Graph*>(e));
  return CUDA_SUCCESS;
}
CUresult GraphExecDestroy(CUgraphExec e) {
  FAKE_FAIL("cuGraphExecDestroy");
  delete reinterpret_cast<moert_fake::Graph*>(e);
  return CUDA_SUCCESS;
}
CUresult GraphDestroy(CUgraph g) {
  FAKE_FAIL("cuGraphDestroy");
  delete reinterpret_cast<moert_fake::Graph*>(g);
  return CUDA_SUCCESS;
}

struct Entry {
  const char* name;
  int introduced;  // the version of the ABI this fake implements
  void* fn;
};
#define FAKE_ENTRY(name, version, fn) {name, version, reinterpret_cast<void*>(&fn)}
[[maybe_unused]] const Entry kEntries[] = {
    FAKE_ENTRY("cuGetErrorName", 6000, GetErrorName),
    FAKE_ENTRY("cuGetErrorString", 6000, GetErrorString),
    FAKE_ENTRY("cuInit", 2000, Init),
    FAKE_ENTRY("cuDriverGetVersion", 2020, DriverGetVersion),
    FAKE_ENTRY("cuDeviceGetCount", 2000, DeviceGetCount),
    FAKE_ENTRY("cuDeviceGet", 2000, DeviceGet),
    FAKE_ENTRY("cuDeviceGetAttribute", 2000, DeviceGetAttribute),
    FAKE_ENTRY("cuDeviceGetName", 2000, DeviceGetName),
    FAKE_ENTRY("cuDeviceTotalMem", 3020, DeviceTotalMem),
    FAKE_ENTRY("cuDevicePrimaryCtxRetain", 7000, PrimaryCtxRetain),
    FAKE_ENTRY("cuDevicePrimaryCtxRelease", 11000, PrimaryCtxRelease),
    FAKE_ENTRY("cuCtxSetCurrent", 4000, CtxSetCurrent),
    FAKE_ENTRY("cuMemAlloc", 3020, MemAlloc),
    FAKE_ENTRY("cuMemFree", 3020, MemFree),
    FAKE_ENTRY("cuMemcpyHtoD", 3020, MemcpyHtoD),
    FAKE_ENTRY("cuMemcpyDtoH", 3020, MemcpyDtoH),
    FAKE_ENTRY("cuMemsetD8", 3020, MemsetD8),
    FAKE_ENTRY("cuModuleLoadData", 2000, ModuleLoadData),
    FAKE_ENTRY("cuModuleUnload", 2000, ModuleUnload),
    FAKE_ENTRY("cuModuleGetFunction", 2000, ModuleGetFunction),
    FAKE_ENTRY("cuLaunchKernel", 4000, LaunchKernel),
    FAKE_ENTRY("cuStreamCreate", 2000, StreamCreate),
    FAKE_ENTRY("cuStreamSynchronize", 2000, StreamSynchronize),
    FAKE_ENTRY("cuStreamDestroy", 4000, StreamDestroy),
    FAKE_ENTRY("cuStreamBeginCapture", 10010, StreamBeginCapture),
    FAKE_ENTRY("cuStreamEndCapture", 10000, StreamEndCapture),
    FAKE_ENTRY("cuGraphInstantiateWithFlags", 11040, GraphInstantiateWithFlags),
    FAKE_ENTRY("cuGraphLaunch", 10000, GraphLaunch),
    FAKE_ENTRY("cuGraphExecDestroy", 10000, GraphExecDestroy),
    FAKE_ENTRY("cuGraphDestroy", 10000, GraphDestroy),
};

}  // namespace

#ifndef MOERT_FAKE_NO_GET_PROC_ADDRESS
EXPORT CUresult cuGetProcAddress_v2(const char* symbol, void** pfn, int version, cuuint64_t flags,
                                    CUdriverProcAddressQueryResult* status) {
  *pfn = nullptr;
  if (status != nullptr) *status = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
  if (symbol == nullptr || flags != CU_GET_PROC_ADDRESS_DEFAULT) return CUDA_ERROR_INVALID_VALUE;
  if (Gpu().Hidden(symbol)) return CUDA_ERROR_NOT_FOUND;
  for (const Entry& e : kEntries) {
    if (std::strcmp(e.name, symbol) != 0) continue;
    // The real driver would hand an older ABI below `introduced`; the fake
    // has only this one, so it refuses as for a symbol that is too new.
    if (version < e.introduced) {
      if (status != nullptr) *status = CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT;
      return CUDA_ERROR_NOT_FOUND;
    }
    *pfn = e.fn;
    if (status != nullptr) *status = CU_GET_PROC_ADDRESS_SUCCESS;
    return CUDA_SUCCESS;
  }
  return CUDA_ERROR_NOT_FOUND;
}
#endif

// A legacy entry a plain dlsym would find: the loader must never use it.
EXPORT CUresult cuMemAlloc(unsigned int* p, unsigned int bytes) { return CUDA_ERROR_UNKNOWN; }

EXPORT void moert_fake_cuda_reset() {
  Gpu().Reset();
  initialized = false;
  context_refs = 0;
}
EXPORT void moert_fake_cuda_set_device(const char* name, int major, int minor, int count) {
  Gpu().name = name;
  Gpu().major = major;
  Gpu().minor = minor;
  Gpu().count = count;
}
EXPORT void moert_fake_cuda_fail(const char* entry, int error) { Gpu().Fail(entry, error); }
EXPORT void moert_fake_cuda_hide(const char* entry) { Gpu().Hide(entry); }
EXPORT const char* moert_fake_cuda_log() { return Gpu().Log(); }
EXPORT int moert_fake_cuda_live_allocations() { return Gpu().LiveAllocations(); }
EXPORT int moert_fake_cuda_context_refs() { return context_refs; }
