// The GPU microkernels built for the host SIMT emulator with 32-lane warps
// (the NVIDIA warp: butterfly shuffles ), in namespace warp32.
#define MOEC_UK_SIMT_HOST warp32
#define MOEC_UK_SIMT_WARP_SIZE 32
#include "ukernels.cpp"
