// The few HIP runtime ABI types and enums moert uses, declared here instead of
// including hip_runtime_api.h: the runtime builds and its loader is tested on
// machines with no ROCm. Values are those of HIP 6 (hipDeviceAttribute_t
// numbering changed in HIP 6; the properties struct did too, so moert reads
// attributes only).
#ifndef MOERT_HAL_HIP_HIP_TYPES_H_
#define MOERT_HAL_HIP_HIP_TYPES_H_

#include <cstddef>
#include <cstdint>

extern "C" {

typedef int hipError_t;
enum : hipError_t {
  hipSuccess = 0,
  hipErrorInvalidValue = 1,
  hipErrorOutOfMemory = 2,
  hipErrorNotInitialized = 3,
  hipErrorNoDevice = 100,
  hipErrorInvalidDevice = 101,
  hipErrorInvalidImage = 200,
  hipErrorNoBinaryForGpu = 209,
  hipErrorInvalidKernelFile = 218,
  hipErrorInvalidHandle = 400,
  hipErrorNotFound = 500,
  hipErrorNotSupported = 801,
  hipErrorUnknown = 999,
};

typedef int hipDevice_t;
typedef void* hipDeviceptr_t;
typedef struct ihipModule_t* hipModule_t;
typedef struct ihipModuleSymbol_t* hipFunction_t;
typedef struct ihipStream_t* hipStream_t;
typedef struct ihipGraph* hipGraph_t;
typedef struct hipGraphExec* hipGraphExec_t;
typedef struct hipGraphNode* hipGraphNode_t;

typedef int hipDeviceAttribute_t;
enum : hipDeviceAttribute_t {
  hipDeviceAttributeComputeCapabilityMajor = 23,
  hipDeviceAttributeMaxThreadsPerBlock = 56,
  hipDeviceAttributeComputeCapabilityMinor = 61,
  hipDeviceAttributeMultiprocessorCount = 63,
  hipDeviceAttributeSharedMemPerBlockOptin = 75,
  hipDeviceAttributeTotalGlobalMem = 84,
  hipDeviceAttributeWarpSize = 87,
};

typedef int hipStreamCaptureMode;
enum : hipStreamCaptureMode {
  hipStreamCaptureModeGlobal = 0,
  hipStreamCaptureModeThreadLocal = 1,
  hipStreamCaptureModeRelaxed = 2,
};

}  // extern "C"

#endif  // MOERT_HAL_HIP_HIP_TYPES_H_
