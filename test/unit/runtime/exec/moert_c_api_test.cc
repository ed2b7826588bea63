#include "moert/moert.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <unistd.h>

#include <cstring>

#include "api/artifact_source.h"
#include "artifact/header.h"
#include "base/file_map.h"
#include "toy_model.h"

extern "C" int moert_c_api_greedy_next(moert_session* session, uint32_t slot, int32_t* token);

namespace moert::api {
namespace {

using moert::testing::BuildToyModel;
using moert::testing::ToyConfig;
using moert::testing::ToyModel;

class ToySource final : public ArtifactSource {
 public:
  explicit ToySource(std::unique_ptr<ToyModel> model, Status runs = Status::Ok())
      : model_(std::move(model)), resolver_(model_->resolver()), runs_(std::move(runs)) {}
  const std::string& name() const override { return name_; }
  const moex::Manifest& manifest() const override { return model_->manifest(); }
  Result<exec::SegmentBytes> segment(uint32_t index) const override { return resolver_(index); }
  Status CheckRunsOnHost() const override { return runs_; }

 private:
  std::string name_ = "toy.moex";
  std::unique_ptr<ToyModel> model_;
  exec::SegmentResolver resolver_;
  Status runs_;
};

moert_artifact* OpenToy(const ToyConfig& config = {}) {
  moert_artifact* artifact = nullptr;
  moert_status_t status = OpenArtifactFromSource(std::make_unique<ToySource>(BuildToyModel(config)), &artifact);
  EXPECT_EQ(status, MOERT_OK) << moert_last_error();
  return artifact;
}

TEST(MoertCApiTest, PrefillDecodeSampleAndReset) {
  auto reference = BuildToyModel();
  moert_artifact* artifact = OpenToy();
  ASSERT_NE(artifact, nullptr);
  moert_artifact_info info;
  ASSERT_EQ(moert_artifact_get_info(artifact, &info), MOERT_OK);
  EXPECT_EQ(info.vocab_size, 6u);
  EXPECT_EQ(info.max_context, 10u);
  EXPECT_EQ(info.num_slots, 3u);
  EXPECT_EQ(info.prefill_rows, 4u);
  EXPECT_EQ(info.decode_rows, 2u);
  EXPECT_EQ(info.eos_token_id, 0);

  moert_session_options options = {2};
  moert_session* session = nullptr;
  ASSERT_EQ(moert_session_create(artifact, &options, &session), MOERT_OK) << moert_last_error();
  // The session keeps the artifact's data alive.
  moert_artifact_close(artifact);

  const int32_t prompt[5] = {1, 4, 4, 2, 3};
  std::vector<float> all(5 * 6);
  ASSERT_EQ(moert_session_prefill(session, 1, prompt, 5, all.data()), MOERT_OK) << moert_last_error();
  const std::vector<float> want = reference->ExpectedLogits({1, 4, 4, 2, 3});
  const float* logits = nullptr;
  size_t count = 0;
  ASSERT_EQ(moert_session_logits(session, 1, &logits, &count), MOERT_OK);
  ASSERT_EQ(count, 6u);
  for (size_t v = 0; v < 6; ++v) {
    EXPECT_EQ(logits[v], want[v]);
    EXPECT_EQ(all[4 * 6 + v], want[v]);
  }

  int32_t token = -1;
  ASSERT_EQ(moert_session_sample(session, 1, nullptr, &token), MOERT_OK);
  EXPECT_EQ(token, 4);  // 2 x (4 + 1) x 3 = 30 is the largest logit
  int32_t from_c = -1;
  ASSERT_TRUE(moert_c_api_greedy_next(session, 1, &from_c));
  EXPECT_EQ(from_c, token);
  const uint32_t slot = 1;
  ASSERT_EQ(moert_session_decode(session, &slot, &token, 1), MOERT_OK) << moert_last_error();
  uint32_t position = 0;
  ASSERT_EQ(moert_session_position(session, 1, &position), MOERT_OK);
  EXPECT_EQ(position, 6u);

  // Sampling with a seed is reproducible; bad parameters are refused.
  moert_sampling_params params = {2.0f, 0.9f, 1234};
  int32_t a = -1, b = -1;
  ASSERT_EQ(moert_session_sample(session, 1, &params, &a), MOERT_OK);
  ASSERT_EQ(moert_session_sample(session, 1, &params, &b), MOERT_OK);
  EXPECT_EQ(a, b);
  moert_sampling_params bad = {1.0f, 0.0f, 0};
  EXPECT_EQ(moert_session_sample(session, 1, &bad, &a), MOERT_INVALID_ARGUMENT);
  EXPECT_NE(std::string(moert_last_error()).find("top_p"), std::string::npos) << moert_last_error();

  ASSERT_EQ(moert_session_reset_slot(session, 1), MOERT_OK);
  EXPECT_EQ(moert_session_logits(session, 1, &logits, &count), MOERT_FAILED_PRECONDITION);
  EXPECT_NE(std::string(moert_last_error()).find("slot 1 has no logits yet"), std::string::npos);
  EXPECT_EQ(moert_session_sample(session, 1, nullptr, &token), MOERT_FAILED_PRECONDITION);
  moert_session_destroy(session);
}

// The toy model as a real .moex file: header, manifest, segment area (the
// toy manifest already places segment 0 at 0 and segment 1 at the next 4096).
std::string ToyArtifactBytes(const ToyModel& model) {
  const uint64_t manifest_size = model.manifest_bytes.size();
  uint64_t segment_area = 0, image_offset = 0;
  EXPECT_TRUE(AlignUp(kHeaderSize + manifest_size, &segment_area));
  EXPECT_TRUE(AlignUp(model.weights_size, &image_offset));
  const uint64_t file_size = segment_area + image_offset + model.image.size();
  std::string out(file_size, '\0');
  std::memcpy(&out[kHeaderSize], model.manifest_bytes.data(), manifest_size);
  std::memcpy(&out[segment_area], model.weights.get(), model.weights_size);
  std::memcpy(&out[segment_area + image_offset], model.image.data(), model.image.size());
  Header header;
  header.manifest_size = manifest_size;
  header.segment_area_offset = segment_area;
  header.segment_area_size = file_size - segment_area;
  header.file_size = file_size;
  uint8_t* bytes = reinterpret_cast<uint8_t*>(&out[0]);
  EncodeHeader(header, bytes);
  header.checksum = ComputeArtifactChecksum(bytes, bytes + kHeaderSize, manifest_size);
  EncodeHeader(header, bytes);
  return out;
}

TEST(MoertCApiTest, OpensARealArtifactFile) {
  auto model = BuildToyModel();
  const std::string path = ::testing::TempDir() + "/moert_c_api_toy_" + std::to_string(getpid()) + ".moex";
  ASSERT_TRUE(WriteStringToFile(path, ToyArtifactBytes(*model)).ok());
  moert_artifact* artifact = nullptr;
  ASSERT_EQ(moert_artifact_open(path.c_str(), &artifact), MOERT_OK) << moert_last_error();
  unlink(path.c_str());  // the artifact stays mapped
  moert_session* session = nullptr;
  ASSERT_EQ(moert_session_create(artifact, nullptr, &session), MOERT_OK) << moert_last_error();
  const int32_t prompt[3] = {5, 2, 5};
  ASSERT_EQ(moert_session_prefill(session, 2, prompt, 3, nullptr), MOERT_OK) << moert_last_error();
  const float* logits = nullptr;
  ASSERT_EQ(moert_session_logits(session, 2, &logits, nullptr), MOERT_OK);
  const std::vector<float> want = model->ExpectedLogits({5, 2, 5});
  for (size_t v = 0; v < want.size(); ++v) EXPECT_EQ(logits[v], want[v]) << v;
  moert_session_destroy(session);
  moert_artifact_close(artifact);
}

TEST(MoertCApiTest, ErrorsCarryCodesAndMessages) {
  moert_artifact* artifact = OpenToy();
  ASSERT_NE(artifact, nullptr);
  moert_session* session = nullptr;
  ASSERT_EQ(moert_session_create(artifact, nullptr, &session), MOERT_OK);
  std::vector<int32_t> long_prompt(11, 1);
  EXPECT_EQ(moert_session_prefill(session, 0, long_prompt.data(), long_prompt.size(), nullptr),
            MOERT_OUT_OF_RANGE);
  EXPECT_STREQ(moert_last_error(), "prompt of 11 tokens exceeds the artifact's context of 10");
  EXPECT_STREQ(moert_status_name(MOERT_OUT_OF_RANGE), "OUT_OF_RANGE");
  EXPECT_STREQ(moert_status_name(static_cast<moert_status_t>(99)), "UNKNOWN");

  EXPECT_EQ(moert_session_prefill(session, 0, nullptr, 1, nullptr), MOERT_INVALID_ARGUMENT);
  EXPECT_NE(std::string(moert_last_error()).find("tokens is NULL"), std::string::npos);
  EXPECT_EQ(moert_session_prefill(nullptr, 0, long_prompt.data(), 1, nullptr), MOERT_INVALID_ARGUMENT);
  uint32_t position;
  EXPECT_EQ(moert_session_position(session, 7, &position), MOERT_INVALID_ARGUMENT);
  EXPECT_EQ(moert_session_reset_slot(session, 7), MOERT_INVALID_ARGUMENT);
  moert_session_destroy(session);
  moert_session_destroy(nullptr);
  moert_artifact_close(artifact);
  moert_artifact_close(nullptr);
}

TEST(MoertCApiTest, OpenReportsTheReadersAndTheExecutorsErrors) {
  moert_artifact* artifact = nullptr;
  moert_status_t status = moert_artifact_open("/nonexistent/dir/model.moex", &artifact);
  EXPECT_NE(status, MOERT_OK);
  EXPECT_EQ(artifact, nullptr);
  EXPECT_NE(std::string(moert_last_error()).find("/nonexistent/dir/model.moex"), std::string::npos)
      << moert_last_error();
  EXPECT_EQ(moert_artifact_open(nullptr, &artifact), MOERT_INVALID_ARGUMENT);

  // A host that cannot run the target.
  status = OpenArtifactFromSource(
      std::make_unique<ToySource>(BuildToyModel(), Unimplemented("needs avx512f")), &artifact);
  EXPECT_EQ(status, MOERT_UNIMPLEMENTED);
  EXPECT_STREQ(moert_last_error(), "toy.moex: needs avx512f");

  // The executor's checks (a kernel symbol the image lacks).
  ToyConfig broken;
  broken.missing_symbol = true;
  status = OpenArtifactFromSource(std::make_unique<ToySource>(BuildToyModel(broken)), &artifact);
  EXPECT_EQ(status, MOERT_NOT_FOUND);
  EXPECT_NE(std::string(moert_last_error()).find("moert_toy_no_such_kernel"), std::string::npos)
      << moert_last_error();
}

}  // namespace
}  // namespace moert::api
