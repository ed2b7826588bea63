// The few CUDA driver ABI types and enums moert uses, declared here instead of
// including cuda.h (Triton's cuda_declarations.h habit): the runtime builds
// and its loader is tested on machines with no CUDA SDK. Values are those of
// cuda.h (CUDA 12); they are ABI and never change.
#ifndef MOERT_HAL_CUDA_CUDA_TYPES_H_
#define MOERT_HAL_CUDA_CUDA_TYPES_H_

#include <cstddef>
#include <cstdint>

extern "C" {

typedef int CUresult;
enum : CUresult {
  CUDA_SUCCESS = 0,
  CUDA_ERROR_INVALID_VALUE = 1,
  CUDA_ERROR_OUT_OF_MEMORY = 2,
  CUDA_ERROR_NOT_INITIALIZED = 3,
  CUDA_ERROR_DEINITIALIZED = 4,
  CUDA_ERROR_NO_DEVICE = 100,
  CUDA_ERROR_INVALID_DEVICE = 101,
  CUDA_ERROR_INVALID_IMAGE = 200,
  CUDA_ERROR_INVALID_CONTEXT = 201,
  CUDA_ERROR_NO_BINARY_FOR_GPU = 209,
  CUDA_ERROR_INVALID_PTX = 218,
  CUDA_ERROR_INVALID_HANDLE = 400,
  CUDA_ERROR_NOT_FOUND = 500,
  CUDA_ERROR_LAUNCH_FAILED = 719,
  CUDA_ERROR_NOT_SUPPORTED = 801,
  CUDA_ERROR_STREAM_CAPTURE_INVALIDATED = 901,
  CUDA_ERROR_UNKNOWN = 999,
};

typedef int CUdevice;
typedef unsigned long long CUdeviceptr;  // NOLINT: the ABI's spelling
typedef uint64_t cuuint64_t;
typedef struct CUctx_st* CUcontext;
typedef struct CUmod_st* CUmodule;
typedef struct CUfunc_st* CUfunction;
typedef struct CUstream_st* CUstream;
typedef struct CUgraph_st* CUgraph;
typedef struct CUgraphExec_st* CUgraphExec;

typedef int CUdevice_attribute;
enum : CUdevice_attribute {
  CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 1,
  CU_DEVICE_ATTRIBUTE_WARP_SIZE = 10,
  CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
  CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97,
};

typedef int CUstreamCaptureMode;
enum : CUstreamCaptureMode {
  CU_STREAM_CAPTURE_MODE_GLOBAL = 0,
  CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1,
  CU_STREAM_CAPTURE_MODE_RELAXED = 2,
};

// cuStreamCreate flags.
enum : unsigned int { CU_STREAM_DEFAULT = 0, CU_STREAM_NON_BLOCKING = 1 };

// cuGetProcAddress_v2: flags and what it says about a symbol.
enum : cuuint64_t { CU_GET_PROC_ADDRESS_DEFAULT = 0 };
typedef int CUdriverProcAddressQueryResult;
enum : CUdriverProcAddressQueryResult {
  CU_GET_PROC_ADDRESS_SUCCESS = 0,
  CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND = 1,
  CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT = 2,
};

// CUresult cuGetProcAddress_v2(const char* symbol, void** pfn, int cudaVersion,
//                              cuuint64_t flags,
//                              CUdriverProcAddressQueryResult* symbolStatus);
typedef CUresult (*PFN_cuGetProcAddress_v2)(const char*, void**, int, cuuint64_t,
                                            CUdriverProcAddressQueryResult*);

}  // extern "C"

#endif  // MOERT_HAL_CUDA_CUDA_TYPES_H_
