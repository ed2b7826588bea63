// Every HIP runtime entry point moert calls, one line each, resolved all at
// load with dlsym (HIP exports each ABI under its own name).
//
// MOERT_HIP_SYMBOL(name, result, params): the exported name, its result type
// (hipError_t, or const char* for the two error-text functions) and its
// parameter list. Users define MOERT_HIP_SYMBOL, include this file, and
// undefine it.

MOERT_HIP_SYMBOL(hipGetErrorName, const char*, (hipError_t error))
MOERT_HIP_SYMBOL(hipGetErrorString, const char*, (hipError_t error))
MOERT_HIP_SYMBOL(hipInit, hipError_t, (unsigned int flags))
MOERT_HIP_SYMBOL(hipDriverGetVersion, hipError_t, (int* version))
MOERT_HIP_SYMBOL(hipGetDeviceCount, hipError_t, (int* count))
MOERT_HIP_SYMBOL(hipDeviceGet, hipError_t, (hipDevice_t* device, int ordinal))
MOERT_HIP_SYMBOL(hipDeviceGetAttribute, hipError_t,
                 (int* value, hipDeviceAttribute_t attribute, int device))
MOERT_HIP_SYMBOL(hipDeviceGetName, hipError_t, (char* name, int length, hipDevice_t device))
MOERT_HIP_SYMBOL(hipDeviceTotalMem, hipError_t, (size_t* bytes, hipDevice_t device))
MOERT_HIP_SYMBOL(hipSetDevice, hipError_t, (int device))
MOERT_HIP_SYMBOL(hipMalloc, hipError_t, (void** ptr, size_t bytes))
MOERT_HIP_SYMBOL(hipFree, hipError_t, (void* ptr))
MOERT_HIP_SYMBOL(hipMemcpyHtoD, hipError_t, (hipDeviceptr_t dst, const void* src, size_t bytes))
MOERT_HIP_SYMBOL(hipMemcpyDtoH, hipError_t, (void* dst, hipDeviceptr_t src, size_t bytes))
MOERT_HIP_SYMBOL(hipMemset, hipError_t, (void* dst, int value, size_t bytes))
MOERT_HIP_SYMBOL(hipModuleLoadData, hipError_t, (hipModule_t* module, const void* image))
MOERT_HIP_SYMBOL(hipModuleUnload, hipError_t, (hipModule_t module))
MOERT_HIP_SYMBOL(hipModuleGetFunction, hipError_t,
                 (hipFunction_t* function, hipModule_t module, const char* name))
MOERT_HIP_SYMBOL(hipModuleLaunchKernel, hipError_t,
                 (hipFunction_t f, unsigned int grid_x, unsigned int grid_y, unsigned int grid_z,
                  unsigned int block_x, unsigned int block_y, unsigned int block_z,
                  unsigned int shared_memory_bytes, hipStream_t stream, void** params,
                  void** extra))
MOERT_HIP_SYMBOL(hipStreamCreate, hipError_t, (hipStream_t* stream))
MOERT_HIP_SYMBOL(hipStreamSynchronize, hipError_t, (hipStream_t stream))
MOERT_HIP_SYMBOL(hipStreamDestroy, hipError_t, (hipStream_t stream))
MOERT_HIP_SYMBOL(hipStreamBeginCapture, hipError_t, (hipStream_t stream, hipStreamCaptureMode mode))
MOERT_HIP_SYMBOL(hipStreamEndCapture, hipError_t, (hipStream_t stream, hipGraph_t* graph))
MOERT_HIP_SYMBOL(hipGraphInstantiate, hipError_t,
                 (hipGraphExec_t* exec, hipGraph_t graph, hipGraphNode_t* error_node,
                  char* log, size_t log_size))
MOERT_HIP_SYMBOL(hipGraphLaunch, hipError_t, (hipGraphExec_t exec, hipStream_t stream))
MOERT_HIP_SYMBOL(hipGraphExecDestroy, hipError_t, (hipGraphExec_t exec))
MOERT_HIP_SYMBOL(hipGraphDestroy, hipError_t, (hipGraph_t graph))
