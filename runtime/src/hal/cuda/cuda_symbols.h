// Every CUDA driver entry point moert calls, one line each (IREE's
// cuda_dynamic_symbol_table.h habit). Loading resolves them all, through
// cuGetProcAddress_v2, before anything runs; nothing links libcuda.
//
// MOERT_CUDA_SYMBOL(member, base_name, version, params):
//   member:    the field of CudaSymbols, named after the ABI variant we call
//              (cuMemAlloc_v2);
//   base_name: what cuGetProcAddress looks up ("cuMemAlloc": the driver keys
//              its table by base name and picks the variant by version);
//   version:   the CUDA version whose ABI `params` declares, as in
//              cudaTypedefs.h (PFN_cuMemAlloc_v3020 -> 3020). Asking for a
//              lower version would return the legacy v1 entry point;
//   params:    the parameter list; every entry point returns CUresult.
//
// Users define MOERT_CUDA_SYMBOL, include this file, and undefine it.
// (cuGetErrorName/cuGetErrorString are in the table too: every message names
// the error, and a driver lacking them is as unusable as one lacking cuInit.)

MOERT_CUDA_SYMBOL(cuGetErrorName, "cuGetErrorName", 6000, (CUresult error, const char** str))
MOERT_CUDA_SYMBOL(cuGetErrorString, "cuGetErrorString", 6000, (CUresult error, const char** str))
MOERT_CUDA_SYMBOL(cuInit, "cuInit", 2000, (unsigned int flags))
MOERT_CUDA_SYMBOL(cuDriverGetVersion, "cuDriverGetVersion", 2020, (int* version))
MOERT_CUDA_SYMBOL(cuDeviceGetCount, "cuDeviceGetCount", 2000, (int* count))
MOERT_CUDA_SYMBOL(cuDeviceGet, "cuDeviceGet", 2000, (CUdevice* device, int ordinal))
MOERT_CUDA_SYMBOL(cuDeviceGetAttribute, "cuDeviceGetAttribute", 2000,
                  (int* value, CUdevice_attribute attribute, CUdevice device))
MOERT_CUDA_SYMBOL(cuDeviceGetName, "cuDeviceGetName", 2000, (char* name, int length, CUdevice device))
MOERT_CUDA_SYMBOL(cuDeviceTotalMem_v2, "cuDeviceTotalMem", 3020, (size_t* bytes, CUdevice device))
MOERT_CUDA_SYMBOL(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", 7000,
                  (CUcontext* context, CUdevice device))
MOERT_CUDA_SYMBOL(cuDevicePrimaryCtxRelease_v2, "cuDevicePrimaryCtxRelease", 11000, (CUdevice device))
MOERT_CUDA_SYMBOL(cuCtxSetCurrent, "cuCtxSetCurrent", 4000, (CUcontext context))
MOERT_CUDA_SYMBOL(cuMemAlloc_v2, "cuMemAlloc", 3020, (CUdeviceptr* dptr, size_t bytes))
MOERT_CUDA_SYMBOL(cuMemFree_v2, "cuMemFree", 3020, (CUdeviceptr dptr))
MOERT_CUDA_SYMBOL(cuMemcpyHtoD_v2, "cuMemcpyHtoD", 3020,
                  (CUdeviceptr dst, const void* src, size_t bytes))
MOERT_CUDA_SYMBOL(cuMemcpyDtoH_v2, "cuMemcpyDtoH", 3020,
                  (void* dst, CUdeviceptr src, size_t bytes))
MOERT_CUDA_SYMBOL(cuMemsetD8_v2, "cuMemsetD8", 3020,
                  (CUdeviceptr dst, unsigned char value, size_t count))
MOERT_CUDA_SYMBOL(cuModuleLoadData, "cuModuleLoadData", 2000, (CUmodule* module, const void* image))
MOERT_CUDA_SYMBOL(cuModuleUnload, "cuModuleUnload", 2000, (CUmodule module))
MOERT_CUDA_SYMBOL(cuModuleGetFunction, "cuModuleGetFunction", 2000,
                  (CUfunction* function, CUmodule module, const char* name))
MOERT_CUDA_SYMBOL(cuLaunchKernel, "cuLaunchKernel", 4000,
                  (CUfunction f, unsigned int grid_x, unsigned int grid_y, unsigned int grid_z,
                   unsigned int block_x, unsigned int block_y, unsigned int block_z,
                   unsigned int shared_memory_bytes, CUstream stream, void** params,
                   void** extra))
MOERT_CUDA_SYMBOL(cuStreamCreate, "cuStreamCreate", 2000, (CUstream* stream, unsigned int flags))
MOERT_CUDA_SYMBOL(cuStreamSynchronize, "cuStreamSynchronize", 2000, (CUstream stream))
MOERT_CUDA_SYMBOL(cuStreamDestroy_v2, "cuStreamDestroy", 4000, (CUstream stream))
MOERT_CUDA_SYMBOL(cuStreamBeginCapture_v2, "cuStreamBeginCapture", 10010,
                  (CUstream stream, CUstreamCaptureMode mode))
MOERT_CUDA_SYMBOL(cuStreamEndCapture, "cuStreamEndCapture", 10000, (CUstream stream, CUgraph* graph))
MOERT_CUDA_SYMBOL(cuGraphInstantiateWithFlags, "cuGraphInstantiateWithFlags", 11040,
                  (CUgraphExec* exec, CUgraph graph, unsigned long long flags))  // NOLINT
MOERT_CUDA_SYMBOL(cuGraphLaunch, "cuGraphLaunch", 10000, (CUgraphExec exec, CUstream stream))
MOERT_CUDA_SYMBOL(cuGraphExecDestroy, "cuGraphExecDestroy", 10000, (CUgraphExec exec))
MOERT_CUDA_SYMBOL(cuGraphDestroy, "cuGraphDestroy", 10000, (CUgraph graph))
