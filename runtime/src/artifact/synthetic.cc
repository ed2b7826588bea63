#include "artifact/synthetic.h"

#include <algorithm>
#include <string>

#include "base/checked_math.h"

namespace moert {

// The generator's numbering is the schema's.
static_assert(synthetic::kUniformBf16 == static_cast<uint32_t>(moex::SyntheticDistribution::UNIFORM_BF16));
static_assert(synthetic::kRandomBytes == static_cast<uint32_t>(moex::SyntheticDistribution::RANDOM_BYTES));
static_assert(synthetic::kE8m0Scales == static_cast<uint32_t>(moex::SyntheticDistribution::E8M0_SCALES));
static_assert(synthetic::kNumKinds == static_cast<uint32_t>(moex::SyntheticDistribution::MAX) + 1);

bool IsSynthetic(const moex::Weight& weight) {
  return weight.synthetic() != nullptr && weight.synthetic()->size() > 0;
}

Result<std::vector<SyntheticRun>> SyntheticWeightRuns(const moex::Manifest& m, uint32_t index) {
  const moex::Weight& w = *m.weights()->Get(index);
  const std::string field =
      StrCat("manifest.weights[", index, "] (\"", w.name() ? w.name()->str() : std::string(), "\")");
  if (!IsSynthetic(w)) return DataLoss(field, " is not synthetic (its synthetic parts are empty)");
  if (m.synthetic() == nullptr) {
    return DataLoss(field, " is synthetic but the manifest has no seed (manifest.synthetic is missing)");
  }
  // Tables are private flatbuffers::Table subclasses; the field's presence is
  // what tells "segment 0" from "no segment".
  const bool names_segment = reinterpret_cast<const flatbuffers::Table*>(&w)->GetOptionalFieldOffset(
                                 moex::Weight::VT_SEGMENT) != 0;
  if (names_segment || w.offset() != 0) {
    return DataLoss(field, " is synthetic but also names segment ", w.segment(), " offset ", w.offset(),
                    ": a synthetic weight has no bytes in the artifact");
  }
  const bool bf16 = w.dtype() == moex::DType::BF16;
  const bool mxfp4 = w.dtype() == moex::DType::MXFP4;
  if (!bf16 && !mxfp4) {
    return DataLoss(field, " is synthetic with dtype ", moex::EnumNameDType(w.dtype()),
                    "; synthetic weights are BF16 or MXFP4");
  }
  // MXFP4 ("mxfp4_blocks_then_scales"): 16 of every 17 bytes are codes, then the scales.
  const std::string layout = w.layout() ? w.layout()->str() : std::string();
  const std::string expected_layout = bf16 ? "row_major" : "mxfp4_blocks_then_scales";
  if (layout != expected_layout) {
    return DataLoss(field, " is synthetic with layout \"", layout, "\"; a synthetic ",
                    moex::EnumNameDType(w.dtype()), " weight has layout \"", expected_layout, "\"");
  }
  const uint64_t codes_end = mxfp4 ? w.size() / 17 * 16 : 0;

  std::vector<SyntheticRun> runs;
  uint64_t covered = 0;
  for (uint32_t i = 0; i < w.synthetic()->size(); ++i) {
    const moex::SyntheticPart& p = *w.synthetic()->Get(i);
    const std::string at = StrCat(field, ".synthetic[", i, "]");
    if (p.distribution() > moex::SyntheticDistribution::MAX) {
      return DataLoss(at, ".distribution = ", static_cast<int>(p.distribution()),
                      " is not a SyntheticDistribution");
    }
    if (p.offset() != covered) {
      return DataLoss(at, ".offset = ", p.offset(), " but the parts before it end at ", covered);
    }
    uint64_t end;
    if (p.size() == 0 || !CheckedAdd(p.offset(), p.size(), &end) || end > w.size()) {
      return DataLoss(at, " [offset ", p.offset(), ", size ", p.size(), "] is empty or runs past the weight's ",
                      w.size(), " bytes");
    }
    SyntheticRun run;
    run.offset = p.offset();
    run.part.key = synthetic::Key(m.synthetic()->seed(), p.name_hash());
    run.part.size = p.size();
    run.part.distribution.kind = static_cast<uint32_t>(p.distribution());
    switch (p.distribution()) {
      case moex::SyntheticDistribution::UNIFORM_BF16:
        if (!bf16) return DataLoss(at, " is UNIFORM_BF16 in a ", moex::EnumNameDType(w.dtype()), " weight");
        if (p.offset() % 2 != 0 || p.size() % 2 != 0) {
          return DataLoss(at, " [offset ", p.offset(), ", size ", p.size(), "] splits a bf16 element");
        }
        if (p.center() < -synthetic::kMaxFixedPoint || p.center() > synthetic::kMaxFixedPoint ||
            p.amplitude() < 0 || p.amplitude() > synthetic::kMaxFixedPoint) {
          return DataLoss(at, ": center ", p.center(), " and amplitude ", p.amplitude(),
                          " (x 2^-32) must lie in [-32, 32] and [0, 32]");
        }
        run.part.distribution.center = p.center();
        run.part.distribution.amplitude = p.amplitude();
        break;
      case moex::SyntheticDistribution::RANDOM_BYTES:
      case moex::SyntheticDistribution::E8M0_SCALES: {
        const bool codes = p.distribution() == moex::SyntheticDistribution::RANDOM_BYTES;
        if (!mxfp4) {
          return DataLoss(at, " is ", moex::EnumNameSyntheticDistribution(p.distribution()), " in a ",
                          moex::EnumNameDType(w.dtype()), " weight");
        }
        if (codes ? end > codes_end : p.offset() < codes_end) {
          return DataLoss(at, " is ", moex::EnumNameSyntheticDistribution(p.distribution()), " at bytes [",
                          p.offset(), ", ", end, ") but the MXFP4 weight's codes are bytes [0, ", codes_end,
                          ") and its scales the rest");
        }
        if (!codes) {
          if (p.exponent() < 1 || p.exponent() > 254) {
            return DataLoss(at, ".exponent = ", p.exponent(), " is outside [1, 254]");
          }
          run.part.distribution.exponent = p.exponent();
        }
        break;
      }
    }
    runs.push_back(run);
    covered = end;
  }
  if (covered != w.size()) {
    return DataLoss(field, ": the synthetic parts cover ", covered, " bytes but the weight is ", w.size());
  }
  return runs;
}

void GenerateSyntheticBytes(const std::vector<SyntheticRun>& runs, uint64_t begin, uint64_t end, uint8_t* dst) {
  for (const SyntheticRun& run : runs) {
    const uint64_t from = std::max(begin, run.offset);
    const uint64_t to = std::min(end, run.offset + run.part.size);
    if (from >= to) continue;
    synthetic::FillRange(run.part, from - run.offset, to - run.offset, dst + (from - begin));
  }
}

}  // namespace moert
