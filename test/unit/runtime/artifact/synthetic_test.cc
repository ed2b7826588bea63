// Synthetic weights in a manifest (artifact/synthetic.h): what the reader
// accepts, the runs it hands the generator, and every refusal, each naming
// the weight and the field at fault.
#include "artifact/synthetic.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "artifact/artifact.h"
#include "artifact/header.h"
#include "flatbuffers/flatbuffers.h"

namespace moert {
namespace {

constexpr int64_t kOne = int64_t{1} << synthetic::kFixedPointBits;

struct PartSpec {
  uint64_t offset, size, name_hash;
  uint8_t distribution;  // raw, so tests can write unknown ones
  int64_t center = 0, amplitude = kOne / 4;
  int32_t exponent = 0;
};

// One weight "w" (bf16 [8]: 16 bytes, or MXFP4 [2, 32]: 68 bytes) and what
// the tests damage.
struct Spec {
  moex::DType dtype = moex::DType::BF16;
  std::vector<int64_t> shape = {8};
  uint64_t size = 16;
  std::string layout = "row_major";
  std::vector<PartSpec> parts = {{0, 10, 0x11, 0}, {10, 6, 0x22, 0, kOne, kOne / 8}};
  uint32_t segment = 0;
  uint64_t offset = 0;
  bool force_defaults = false;  // writes segment 0 explicitly
  bool seed = true;
  int32_t fill_image = -1, fill_kernel = -1;
  uint32_t fill_bindings = 2;
};

std::string Build(const Spec& spec) {
  flatbuffers::FlatBufferBuilder fbb;
  auto model = moex::CreateModelConfigDirect(fbb, 1, 8, 1, 1, 8, 1, 1, 8, 16);
  auto target = moex::CreateTargetDirect(fbb, moex::TargetKind::CUDA, "sm_90a");
  std::vector<moex::Segment> segments = {{0, 16, 0}};
  std::vector<flatbuffers::Offset<moex::Kernel>> kernels = {
      moex::CreateKernelDirect(fbb, "fill", "synthetic_fill", spec.fill_bindings, 0, 256, 0)};
  std::vector<flatbuffers::Offset<moex::DeviceImage>> images = {
      moex::CreateDeviceImageDirect(fbb, moex::ImageFormat::PTX, 0, &kernels)};
  std::vector<flatbuffers::Offset<moex::SyntheticPart>> parts;
  for (const PartSpec& p : spec.parts) {
    parts.push_back(moex::CreateSyntheticPart(fbb, p.offset, p.size, p.name_hash,
                                              static_cast<moex::SyntheticDistribution>(p.distribution), p.center,
                                              p.amplitude, p.exponent));
  }
  fbb.ForceDefaults(spec.force_defaults);
  std::vector<flatbuffers::Offset<moex::Weight>> weights = {moex::CreateWeightDirect(
      fbb, "w", spec.segment, spec.offset, spec.size, spec.dtype, &spec.shape, spec.layout.c_str(), &parts)};
  fbb.ForceDefaults(false);
  flatbuffers::Offset<moex::SyntheticWeights> synthetic;
  if (spec.seed) synthetic = moex::CreateSyntheticWeights(fbb, 7, spec.fill_image, spec.fill_kernel);
  auto manifest = moex::CreateManifestDirect(fbb, kFormatVersion, "test", model, target, 16, 1, &segments, 0,
                                             &weights, &images, nullptr, 0, nullptr, 0, synthetic);
  moex::FinishManifestBuffer(fbb, manifest);
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

Status Verify(const Spec& spec) {
  const std::string fb = Build(spec);
  return VerifyManifest(*moex::GetManifest(fb.data()), 4096, "t.moex");
}

// MXFP4 [2, 64] (68 bytes): 64 bytes of codes, then 4 of scales.
Spec Mxfp4Spec() {
  Spec spec;
  spec.dtype = moex::DType::MXFP4;
  spec.shape = {2, 64};
  spec.size = 68;
  spec.layout = "mxfp4_blocks_then_scales";
  spec.parts = {{0, 64, 0x33, 1}, {64, 4, 0x44, 2, 0, 0, 120}};
  return spec;
}

#define EXPECT_REFUSED(spec, text)                                                      \
  do {                                                                                  \
    Status status = Verify(spec);                                                       \
    EXPECT_EQ(status.code(), StatusCode::kDataLoss) << status.ToString();               \
    EXPECT_NE(status.message().find(text), std::string::npos) << status.message();     \
  } while (0)

TEST(SyntheticManifestTest, AcceptsSyntheticWeightsAndHandsOutTheirRuns) {
  Spec spec;
  ASSERT_TRUE(Verify(spec).ok()) << Verify(spec).ToString();
  const std::string fb = Build(spec);
  const moex::Manifest& m = *moex::GetManifest(fb.data());
  EXPECT_TRUE(IsSynthetic(*m.weights()->Get(0)));
  Result<std::vector<SyntheticRun>> runs = SyntheticWeightRuns(m, 0);
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[1].offset, 10u);
  EXPECT_EQ((*runs)[1].part.size, 6u);
  EXPECT_EQ((*runs)[1].part.key, synthetic::Key(7, 0x22));
  EXPECT_EQ((*runs)[1].part.distribution.center, kOne);
  // The bytes of the weight are those of the two streams.
  std::vector<uint8_t> bytes(16);
  GenerateSyntheticBytes(*runs, 0, 16, bytes.data());
  for (uint64_t i = 0; i < 16; ++i) {
    const SyntheticRun& run = (*runs)[i < 10 ? 0 : 1];
    EXPECT_EQ(bytes[i], synthetic::Byte(run.part, i - run.offset)) << i;
  }
  std::vector<uint8_t> tail(5);
  GenerateSyntheticBytes(*runs, 9, 14, tail.data());
  EXPECT_EQ(tail, std::vector<uint8_t>(bytes.begin() + 9, bytes.begin() + 14));

  // MXFP4: 64 bytes of codes, then 4 of scales; and a GPU fill kernel.
  Spec mxfp4 = Mxfp4Spec();
  mxfp4.fill_image = 0;
  mxfp4.fill_kernel = 0;
  EXPECT_TRUE(Verify(mxfp4).ok()) << Verify(mxfp4).ToString();
}

// The default Spec changed by `damage` is refused with `text` in the message.
void ExpectRefused(const std::function<void(Spec&)>& damage, const std::string& text) {
  Spec spec;
  damage(spec);
  EXPECT_REFUSED(spec, text);
}

TEST(SyntheticManifestTest, RefusesWhatCannotBeGenerated) {
  const std::string w = "t.moex: manifest.weights[0] (\"w\")";
  ExpectRefused([](Spec& s) { s.segment = 1; },
                w + " is synthetic but also names segment 1 offset 0: a synthetic weight has no bytes");
  // Segment 0 named explicitly.
  ExpectRefused([](Spec& s) { s.force_defaults = true; }, w + " is synthetic but also names segment 0 offset 0");
  ExpectRefused([](Spec& s) { s.offset = 32; }, "names segment 0 offset 32");
  ExpectRefused([](Spec& s) { s.parts[1].distribution = 7; },
                w + ".synthetic[1].distribution = 7 is not a SyntheticDistribution");
  ExpectRefused([](Spec& s) { s.parts[1].size = 4; }, w + ": the synthetic parts cover 14 bytes but the weight is 16");
  ExpectRefused([](Spec& s) { s.parts[1].offset = 12; },
                w + ".synthetic[1].offset = 12 but the parts before it end at 10");
  ExpectRefused([](Spec& s) { s.parts[1].size = 8; },
                w + ".synthetic[1] [offset 10, size 8] is empty or runs past the weight's 16 bytes");
  ExpectRefused([](Spec& s) { s.parts = {{0, 9, 1, 0}, {9, 7, 2, 0}}; },
                w + ".synthetic[0] [offset 0, size 9] splits a bf16 element");
  ExpectRefused([](Spec& s) { s.parts[0].amplitude = 33 * kOne; },
                w + ".synthetic[0]: center 0 and amplitude 141733920768 (x 2^-32) must lie in");
  ExpectRefused([](Spec& s) { s.parts[0].distribution = 1; }, w + ".synthetic[0] is RANDOM_BYTES in a BF16 weight");
  ExpectRefused([](Spec& s) { s.seed = false; },
                w + " is synthetic but the manifest has no seed (manifest.synthetic is missing)");
  ExpectRefused(
      [](Spec& s) {
        s.dtype = moex::DType::F32;
        s.shape = {4};
      },
      w + " is synthetic with dtype F32; synthetic weights are BF16 or MXFP4");
  // The weight's own size against its dtype and shape, as for any weight.
  ExpectRefused([](Spec& s) { s.shape = {9}; }, w + ".size = 16 but BF16 of its shape needs 18 bytes");

  Spec mxfp4 = Mxfp4Spec();
  mxfp4.parts = {{0, 60, 0x33, 1}, {60, 8, 0x44, 2, 0, 0, 120}};
  EXPECT_REFUSED(mxfp4, w + ".synthetic[1] is E8M0_SCALES at bytes [60, 68) but the MXFP4 weight's codes are "
                            "bytes [0, 64) and its scales the rest");
  mxfp4 = Mxfp4Spec();
  mxfp4.parts[1].exponent = 255;
  EXPECT_REFUSED(mxfp4, w + ".synthetic[1].exponent = 255 is outside [1, 254]");
  mxfp4 = Mxfp4Spec();
  mxfp4.layout = "mxfp4_rows_k32";
  EXPECT_REFUSED(mxfp4, w + " is synthetic with layout \"mxfp4_rows_k32\"; a synthetic MXFP4 weight has layout "
                            "\"mxfp4_blocks_then_scales\"");

  ExpectRefused(
      [](Spec& s) {
        s.fill_image = 0;
        s.fill_kernel = 3;
      },
      "t.moex: manifest.synthetic.fill_kernel = 3 but the artifact has 1 kernels in");
  ExpectRefused(
      [](Spec& s) {
        s.fill_image = 0;
        s.fill_kernel = 0;
        s.fill_bindings = 3;
      },
      "manifest.synthetic.fill_kernel names kernel \"fill\" with 3 bindings and 0 constants");
}

}  // namespace
}  // namespace moert
