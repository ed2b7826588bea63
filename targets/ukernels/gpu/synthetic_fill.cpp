// The GPU microkernel that generates synthetic weights on the device (moec
// compile --synthetic-weights): bytes of one SyntheticPart from the same
// generator the host uses (runtime/src/base/synthetic_weights.h, integer
// only), so a GPU gets bit for bit the weights the CPU runtime and `moec
// synth` produce. The GPU code generator adds an entry point for it
// ("synthetic_fill": bindings dst, descriptor) when the artifact has
// synthetic weights; the GPU session launches it once per part.
#include "gpu_target.h"

#include "base/synthetic_weights.h"

using namespace uk;

// Writes the descriptor's `size` bytes at `dst`: one thread per 8 bytes,
// grid-stride; an 8-byte store where `dst` allows it, bytes otherwise (a
// part's start is not always 8-byte aligned, nor its size a multiple of 8).
UK_EXPORT void moec_uk_synthetic_fill(uint8_t* dst, const moert::synthetic::Part* descriptor) {
  const moert::synthetic::Part part = *(const UK_AS_GLOBAL moert::synthetic::Part*)descriptor;
  UK_AS_GLOBAL uint8_t* out = (UK_AS_GLOBAL uint8_t*)dst;
  const int64_t words = static_cast<int64_t>((part.size + 7) / 8);
  const bool aligned = (reinterpret_cast<uintptr_t>(dst) & 7) == 0;
  for (int64_t w = GlobalThread(); w < words; w += GridThreads()) {
    const uint64_t bits = moert::synthetic::Word(part, static_cast<uint64_t>(w));
    const uint64_t begin = static_cast<uint64_t>(w) * 8;
    if (aligned && begin + 8 <= part.size) {
      *(UK_AS_GLOBAL uint64_t*)(out + begin) = bits;
    } else {
      for (uint64_t i = 0; begin + i < part.size && i < 8; ++i) out[begin + i] = static_cast<uint8_t>(bits >> (8 * i));
    }
  }
}
