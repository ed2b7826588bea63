// A fake HIP runtime (a shared library standing in for libamdhip64.so) over
// the in-memory GPU of fake_gpu.h. Every entry point is exported under its
// HIP name, as the real runtime does. dlsym cannot be told to miss a symbol,
// so a second build with MOERT_FAKE_HIP_WITHOUT_GRAPH_DESTROY leaves out
// hipGraphDestroy for the missing-entry-point test.
//
// Test controls (exported, C linkage): moert_fake_hip_reset,
// moert_fake_hip_set_device, moert_fake_hip_fail, moert_fake_hip_log,
// moert_fake_hip_live_allocations; the environment variable
// MOERT_FAKE_HIP_FAIL (see fake_gpu.h).
#include <cstring>

#include "fake_gpu.h"
#include "hal/hip/hip_types.h"

#define EXPORT extern "C" __attribute__((visibility("default")))

namespace {

using moert_fake::FakeGpu;

FakeGpu& Gpu() {
  static FakeGpu* gpu = new FakeGpu("MOERT_FAKE_HIP");
  return *gpu;
}

bool initialized = false;
int current_device = 0;

#define FAKE_FAIL(name)                        \
  do {                                         \
    if (int e = Gpu().Failure(name)) return e; \
  } while (0)

}  // namespace

EXPORT const char* hipGetErrorName(hipError_t e) {
  switch (e) {
    case hipSuccess: return "hipSuccess";
    case hipErrorInvalidValue: return "hipErrorInvalidValue";
    case hipErrorOutOfMemory: return "hipErrorOutOfMemory";
    case hipErrorNotInitialized: return "hipErrorNotInitialized";
    case hipErrorNoDevice: return "hipErrorNoDevice";
    case hipErrorInvalidDevice: return "hipErrorInvalidDevice";
    case hipErrorInvalidImage: return "hipErrorInvalidImage";
    case hipErrorInvalidHandle: return "hipErrorInvalidHandle";
    case hipErrorNotFound: return "hipErrorNotFound";
    default: return "hipErrorUnknown";
  }
}
EXPORT const char* hipGetErrorString(hipError_t e) {
  switch (e) {
    case hipSuccess: return "no error";
    case hipErrorInvalidValue: return "invalid argument";
    case hipErrorOutOfMemory: return "out of memory";
    case hipErrorNotInitialized: return "initialization error";
    case hipErrorNoDevice: return "no ROCm-capable device is detected";
    case hipErrorInvalidDevice: return "invalid device ordinal";
    case hipErrorInvalidImage: return "device kernel image is invalid";
    case hipErrorInvalidHandle: return "invalid resource handle";
    case hipErrorNotFound: return "named symbol not found";
    default: return "unknown error";
  }
}
EXPORT hipError_t hipInit(unsigned int) {
  FAKE_FAIL("hipInit");
  initialized = true;
  return hipSuccess;
}
EXPORT hipError_t hipDriverGetVersion(int* v) {
  FAKE_FAIL("hipDriverGetVersion");
  *v = 60342134;
  return hipSuccess;
}
EXPORT hipError_t hipGetDeviceCount(int* n) {
  FAKE_FAIL("hipGetDeviceCount");
  *n = Gpu().count;
  // The real runtime reports no device as an error and a count of 0.
  return Gpu().count == 0 ? hipErrorNoDevice : hipSuccess;
}
EXPORT hipError_t hipDeviceGet(hipDevice_t* d, int ordinal) {
  FAKE_FAIL("hipDeviceGet");
  if (ordinal < 0 || ordinal >= Gpu().count) return hipErrorInvalidDevice;
  *d = ordinal;
  return hipSuccess;
}
EXPORT hipError_t hipDeviceGetAttribute(int* v, hipDeviceAttribute_t a, int d) {
  FAKE_FAIL("hipDeviceGetAttribute");
  if (d < 0 || d >= Gpu().count) return hipErrorInvalidDevice;
  switch (a) {
    case hipDeviceAttributeComputeCapabilityMajor: *v = Gpu().major; break;
    case hipDeviceAttributeComputeCapabilityMinor: *v = Gpu().minor; break;
    case hipDeviceAttributeMultiprocessorCount: *v = Gpu().multiprocessors; break;
    case hipDeviceAttributeSharedMemPerBlockOptin: *v = Gpu().shared_optin; break;
    case hipDeviceAttributeMaxThreadsPerBlock: *v = 1024; break;
    case hipDeviceAttributeWarpSize: *v = 64; break;
    default: return hipErrorInvalidValue;
  }
  return hipSuccess;
}
EXPORT hipError_t hipDeviceGetName(char* name, int length, hipDevice_t) {
  FAKE_FAIL("hipDeviceGetName");
  if (length <= 0) return hipErrorInvalidValue;
  std::strncpy(name, Gpu().name.c_str(), static_cast<size_t>(length));
  name[length - 1] = '\0';
  return hipSuccess;
}
EXPORT hipError_t hipDeviceTotalMem(size_t* bytes, hipDevice_t) {
  FAKE_FAIL("hipDeviceTotalMem");
  *bytes = Gpu().total_memory;
  return hipSuccess;
}
EXPORT hipError_t hipSetDevice(int d) {
  FAKE_FAIL("hipSetDevice");
  if (d < 0 || d >= Gpu().count) return hipErrorInvalidDevice;
  current_device = d;
  return hipSuccess;
}
EXPORT hipError_t hipMalloc(void** p, size_t bytes) {
  FAKE_FAIL("hipMalloc");
  *p = Gpu().Allocate(bytes);
  return *p != nullptr ? hipSuccess : hipErrorOutOfMemory;
}
EXPORT hipError_t hipFree(void* p) {
  FAKE_FAIL("hipFree");
  return Gpu().Free(p) ? hipSuccess : hipErrorInvalidValue;
}
EXPORT hipError_t hipMemcpyHtoD(hipDeviceptr_t dst, const void* src, size_t bytes) {
  FAKE_FAIL("hipMemcpyHtoD");
  std::memcpy(dst, src, bytes);
  return hipSuccess;
}
EXPORT hipError_t hipMemcpyDtoH(void* dst, hipDeviceptr_t src, size_t bytes) {
  FAKE_FAIL("hipMemcpyDtoH");
  std::memcpy(dst, src, bytes);
  return hipSuccess;
}
EXPORT hipError_t hipMemset(void* dst, int value, size_t bytes) {
  FAKE_FAIL("hipMemset");
  std::memset(dst, value, bytes);
  return hipSuccess;
}
EXPORT hipError_t hipModuleLoadData(hipModule_t* m, const void* image) {
  FAKE_FAIL("hipModuleLoadData");
  moert_fake::Module* module = Gpu().LoadModule(image);
  if (module == nullptr) return hipErrorInvalidImage;
  *m = reinterpret_cast<hipModule_t>(module);
  return hipSuccess;
}
EXPORT hipError_t hipModuleUnload(hipModule_t m) {
  FAKE_FAIL("hipModuleUnload");
  return Gpu().UnloadModule(reinterpret_cast<moert_fake::Module*>(m)) ? hipSuccess
                                                                       : hipErrorInvalidHandle;
}
EXPORT hipError_t hipModuleGetFunction(hipFunction_t* f, hipModule_t m, const char* name) {
  FAKE_FAIL("hipModuleGetFunction");
  auto* module = reinterpret_cast<moert_fake::Module*>(m);
  if (!Gpu().HasModule(module)) return hipErrorInvalidHandle;
  const moert_fake::Function* fn = FakeGpu::FindFunction(module, name);
  if (fn == nullptr) return hipErrorNotFound;
  *f = reinterpret_cast<hipFunction_t>(const_cast<moert_fake::Function*>(fn));
  return hipSuccess;
}
EXPORT hipError_t hipModuleLaunchKernel(hipFunction_t f, unsigned gx, unsigned gy, unsigned gz,
                                        unsigned bx, unsigned by, unsigned bz, unsigned shared,
                                        hipStream_t s, void** params, void** extra) {
  FAKE_FAIL("hipModuleLaunchKernel");
  const unsigned grid[3] = {gx, gy, gz}, block[3] = {bx, by, bz};
  auto* fn = reinterpret_cast<const moert_fake::Function*>(f);
  Gpu().Launch(reinterpret_cast<moert_fake::Stream*>(s),
               Gpu().Record(fn, grid, block, shared, params));
  return hipSuccess;
}
EXPORT hipError_t hipStreamCreate(hipStream_t* s) {
  FAKE_FAIL("hipStreamCreate");
  *s = reinterpret_cast<hipStream_t>(new moert_fake::Stream());
  return hipSuccess;
}
EXPORT hipError_t hipStreamSynchronize(hipStream_t) {
  FAKE_FAIL("hipStreamSynchronize");
  return hipSuccess;
}
EXPORT hipError_t hipStreamDestroy(hipStream_t s) {
  FAKE_FAIL("hipStreamDestroy");
  delete reinterpret_cast<moert_fake::Stream*>(s);
  return hipSuccess;
}
EXPORT hipError_t hipStreamBeginCapture(hipStream_t s, hipStreamCaptureMode) {
  FAKE_FAIL("hipStreamBeginCapture");
  auto* stream = reinterpret_cast<moert_fake::Stream*>(s);
  if (stream == nullptr || stream->capturing) return hipErrorInvalidValue;
  stream->capturing = true;
  stream->captured.clear();
  return hipSuccess;
}
EXPORT hipError_t hipStreamEndCapture(hipStream_t s, hipGraph_t* g) {
  auto* stream = reinterpret_cast<moert_fake::Stream*>(s);
  if (stream == nullptr || !stream->capturing) return hipErrorInvalidValue;
  stream->capturing = false;
  FAKE_FAIL("hipStreamEndCapture");
  auto* graph = new moert_fake::Graph();
  graph->launches = std::move(stream->captured);
  *g = reinterpret_cast<hipGraph_t>(graph);
  return hipSuccess;
}
EXPORT hipError_t hipGraphInstantiate(hipGraphExec_t* e, hipGraph_t g, hipGraphNode_t*, char*,
                                      size_t) {
  FAKE_FAIL("hipGraphInstantiate");
  *e = reinterpret_cast<hipGraphExec_t>(
      new moert_fake::Graph(*reinterpret_cast<moert_fake::Graph*>(g)));
  return hipSuccess;
}
EXPORT hipError_t hipGraphLaunch(hipGraphExec_t e, hipStream_t) {
  FAKE_FAIL("hipGraphLaunch");
  Gpu().Replay(*reinterpret_cast<moert_fake::Graph*>(e));
  return hipSuccess;
}
EXPORT hipError_t hipGraphExecDestroy(hipGraphExec_t e) {
  FAKE_FAIL("hipGraphExecDestroy");
  delete reinterpret_cast<moert_fake::Graph*>(e);
  return hipSuccess;
}
#ifndef MOERT_FAKE_HIP_WITHOUT_GRAPH_DESTROY
EXPORT hipError_t hipGraphDestroy(hipGraph_t g) {
  FAKE_FAIL("hipGraphDestroy");
  delete reinterpret_cast<moert_fake::Graph*>(g);
  return hipSuccess;
}
#endif

EXPORT void moert_fake_hip_reset() {
  Gpu().Reset();
  initialized = false;
  current_device = 0;
}
EXPORT void moert_fake_hip_set_device(const char* name, int major, int minor, int count) {
  Gpu().name = name;
  Gpu().major = major;
  Gpu().minor = minor;
  Gpu().count = count;
}
EXPORT void moert_fake_hip_fail(const char* entry, int error) { Gpu().Fail(entry, error); }
EXPORT const char* moert_fake_hip_log() { return Gpu().Log(); }
EXPORT int moert_fake_hip_live_allocations() { return Gpu().LiveAllocations(); }
