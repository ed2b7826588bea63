// Synthetic weights in a manifest (Weight.synthetic, Manifest.synthetic; see
// moex.fbs): the checks that make one safe to generate, and its runs as the
// generator's descriptors (base/synthetic_weights.h). The artifact reader,
// the CPU executor (which generates on the host) and the GPU executor (which
// launches the artifact's fill kernel once per run) all go through these.
#ifndef MOERT_ARTIFACT_SYNTHETIC_H_
#define MOERT_ARTIFACT_SYNTHETIC_H_

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "base/synthetic_weights.h"
#include "schema/moex_generated.h"

namespace moert {

// One SyntheticPart, ready for the generator: bytes [offset, offset +
// part.size) of the weight are the stream `part` describes.
struct SyntheticRun {
  uint64_t offset = 0;
  synthetic::Part part;
};

// Whether the weight's bytes are generated (Weight.synthetic is not empty).
bool IsSynthetic(const moex::Weight& weight);

// Checks synthetic weight `index` of `manifest` and returns its runs: the
// manifest has a seed; the weight names no segment or offset; every part has
// a known distribution with parameters in range and fits the weight's dtype
// and layout (bf16 runs of whole elements, MXFP4 codes before its scales);
// the parts follow each other without gaps and cover exactly Weight.size
// (which the caller checks against dtype and shape). Errors name the weight
// ("manifest.weights[3] (\"lm_head.weight\")") and the field at fault.
Result<std::vector<SyntheticRun>> SyntheticWeightRuns(const moex::Manifest& manifest, uint32_t index);

// Writes bytes [begin, end) of the weight whose runs are `runs` to
// dst[0, end - begin).
void GenerateSyntheticBytes(const std::vector<SyntheticRun>& runs, uint64_t begin, uint64_t end, uint8_t* dst);

}  // namespace moert

#endif  // MOERT_ARTIFACT_SYNTHETIC_H_
