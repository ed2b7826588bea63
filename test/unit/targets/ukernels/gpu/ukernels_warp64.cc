// The GPU microkernels built for the host SIMT emulator with 64-lane warps
// (the AMD wavefront: DPP, ds_swizzle, readlane), in namespace warp64.
#define MOEC_UK_SIMT_HOST warp64
#define MOEC_UK_SIMT_WARP_SIZE 64
#include "ukernels.cpp"
