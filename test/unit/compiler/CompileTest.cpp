// The compile driver with synthetic weights: `moec synth --seed S` + compile
// and compile --synthetic-weights S give the same weights, byte for byte,
// whether the reader's generator or the CPU executor's (multi-threaded)
// generation produces them; the probe is the same; the output is
// deterministic and holds no weight bytes.
#include "compiler/Compile.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "artifact/artifact.h"
#include "artifact/synthetic.h"
#include "base/file_map.h"
#include "compiler/Registration.h"
#include "exec/session.h"
#include "gpt-oss/synth.h"

namespace moec {
namespace {

constexpr uint64_t kSeed = 3;

// Private to this test process: ctest runs the tests in parallel processes.
std::string TempPath(const std::string& name) {
  return moert::StrCat(::testing::TempDir(), "/moec_compile_", getpid(), "_", name);
}

CompileOptions SmallOptions() {
  static const bool registered = (registerAllPasses(), true);  // the pipeline names passes
  (void)registered;
  CompileOptions options;
  options.import.max_context = 32;
  options.import.prefill_chunk = 8;
  options.compute_units = 2;
  return options;
}

moert::exec::SegmentResolver Segments(const moert::Artifact& artifact) {
  return [&artifact](uint32_t index) -> moert::Result<moert::exec::SegmentBytes> {
    moert::ByteSpan span = artifact.segment(index);
    return moert::exec::SegmentBytes{span.data, span.size};
  };
}

class SyntheticCompileTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    gptoss::SynthOptions synth;
    synth.config = *gptoss::PresetConfig("tiny");
    synth.seed = kSeed;
    dir_ = new std::string(TempPath("tiny"));
    ASSERT_TRUE(gptoss::WriteSyntheticCheckpoint(synth, *dir_).ok());
    moert::Result<gptoss::Checkpoint> checkpoint = gptoss::Checkpoint::Open(*dir_);
    ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
    moert::Status status = CompileToArtifact(*checkpoint, SmallOptions(), TempPath("stored.moex"));
    ASSERT_TRUE(status.ok()) << status.ToString();
  }
  static void TearDownTestSuite() {
    std::system(("rm -rf '" + *dir_ + "'").c_str());
    std::remove(TempPath("stored.moex").c_str());
    delete dir_;
  }
  // Compiles the synthetic checkpoint of tiny and kSeed; with `withData`
  // (and a probe) its weights are generated in memory for the reference.
  static moert::Result<moert::Artifact> CompileSynthetic(const std::string& name, bool withData) {
    MOERT_ASSIGN_OR_RETURN(gptoss::Checkpoint checkpoint,
                           gptoss::OpenSyntheticCheckpoint(*gptoss::PresetConfig("tiny"), kSeed, withData, ""));
    CompileOptions options = SmallOptions();
    options.probe = withData;
    MOERT_RETURN_IF_ERROR(CompileToArtifact(checkpoint, options, TempPath(name)));
    return moert::Artifact::Open(TempPath(name));
  }
  static std::string* dir_;
};

std::string* SyntheticCompileTest::dir_ = nullptr;

TEST_F(SyntheticCompileTest, SameWeightsAsSynthThenCompile) {
  moert::Result<moert::Artifact> stored = moert::Artifact::Open(TempPath("stored.moex"));
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  moert::Result<moert::Artifact> synthetic = CompileSynthetic("synthetic.moex", /*withData=*/false);
  ASSERT_TRUE(synthetic.ok()) << synthetic.status().ToString();
  ASSERT_NE(synthetic->manifest().synthetic(), nullptr);
  EXPECT_EQ(synthetic->manifest().synthetic()->seed(), kSeed);
  EXPECT_EQ(synthetic->manifest().synthetic()->fill_image(), -1);  // the CPU generates on the host
  EXPECT_EQ(synthetic->manifest().probe(), nullptr);
  // No weight bytes: the device image is the only segment.
  EXPECT_EQ(synthetic->num_segments(), 1u);

  ASSERT_EQ(synthetic->num_weights(), stored->num_weights());
  for (uint32_t i = 0; i < stored->num_weights(); ++i) {
    const moex::Weight& a = stored->weight(i);
    const moex::Weight& b = synthetic->weight(i);
    ASSERT_EQ(a.name()->str(), b.name()->str());
    EXPECT_EQ(a.layout()->str(), b.layout()->str());
    EXPECT_EQ(a.dtype(), b.dtype());
    ASSERT_EQ(a.size(), b.size());
    EXPECT_FALSE(moert::IsSynthetic(a));
    ASSERT_TRUE(moert::IsSynthetic(b)) << b.name()->str();
    moert::Result<std::vector<moert::SyntheticRun>> runs = moert::SyntheticWeightRuns(synthetic->manifest(), i);
    ASSERT_TRUE(runs.ok()) << runs.status().ToString();
    std::vector<uint8_t> generated(b.size());
    moert::GenerateSyntheticBytes(*runs, 0, b.size(), generated.data());
    const moert::ByteSpan bytes = stored->weight_bytes(i);
    ASSERT_EQ(0, std::memcmp(generated.data(), bytes.data, bytes.size)) << a.name()->str();
  }

  // The CPU executor's weights (generated on 3 threads, in chunks) are the
  // stored ones too.
  moert::exec::ProgramOptions options;
  options.generate_threads = 3;
  auto program = moert::exec::Program::Create(synthetic->manifest(), Segments(*synthetic), options);
  ASSERT_TRUE(program.ok()) << program.status().ToString();
  auto session = moert::exec::Session::Create(*program, {1, false});
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  const moex::Manifest& m = synthetic->manifest();
  int checked = 0;
  for (uint32_t i = 0; i < m.buffers()->size(); ++i) {
    const moex::Buffer* buffer = m.buffers()->Get(i);
    if (buffer->kind() != moex::BufferKind::WEIGHT) continue;
    const moert::ByteSpan bytes = stored->weight_bytes(static_cast<uint32_t>(buffer->weight()));
    ASSERT_EQ(0, std::memcmp((*session)->buffer_data(i), bytes.data, buffer->size())) << buffer->name()->str();
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(m.weights()->size()));
}

TEST_F(SyntheticCompileTest, ProbeOfSmallModelsAndDeterminism) {
  moert::Result<moert::Artifact> stored = moert::Artifact::Open(TempPath("stored.moex"));
  ASSERT_TRUE(stored.ok());
  moert::Result<moert::Artifact> probed = CompileSynthetic("probed.moex", /*withData=*/true);
  ASSERT_TRUE(probed.ok()) << probed.status().ToString();
  ASSERT_NE(probed->manifest().probe(), nullptr);
  const moert::ByteSpan a = stored->segment(stored->manifest().probe()->logits_segment());
  const moert::ByteSpan b = probed->segment(probed->manifest().probe()->logits_segment());
  ASSERT_EQ(a.size, b.size);
  EXPECT_EQ(0, std::memcmp(a.data, b.data, a.size));

  // Same options, same bytes.
  ASSERT_TRUE(CompileSynthetic("again.moex", /*withData=*/true).ok());
  moert::Result<std::string> first = moert::ReadFileToString(TempPath("probed.moex"));
  moert::Result<std::string> second = moert::ReadFileToString(TempPath("again.moex"));
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, *second);
  for (const char* name : {"synthetic.moex", "probed.moex", "again.moex"}) std::remove(TempPath(name).c_str());
}

// The live rows: a call computes only its real rows and, without all_logits,
// the unembedding of the last one. The logits read must be bit for bit those
// of a call that computes every row.
TEST_F(SyntheticCompileTest, LiveRowsGiveTheLogitsOfEveryRow) {
  moert::Result<moert::Artifact> artifact = moert::Artifact::Open(TempPath("stored.moex"));
  ASSERT_TRUE(artifact.ok()) << artifact.status().ToString();
  auto program = moert::exec::Program::Create(artifact->manifest(), Segments(*artifact), {});
  ASSERT_TRUE(program.ok()) << program.status().ToString();
  auto created = moert::exec::Session::Create(*program, {2, false});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  moert::exec::Session& session = **created;
  const size_t vocab = (*program)->vocab_size();
  // 13 tokens: a full chunk of 8, then 5 live rows of 8.
  const std::vector<int32_t> prompt = {5, 17, 2, 99, 41, 8, 63, 120, 7, 7, 33, 250, 1};
  std::vector<float> all(prompt.size() * vocab);
  ASSERT_TRUE(session.Prefill(0, prompt.data(), prompt.size(), all.data()).ok());
  auto row = [&](size_t r) { return std::vector<float>(all.begin() + r * vocab, all.begin() + (r + 1) * vocab); };
  auto logits = [&] { return std::vector<float>(session.logits(0), session.logits(0) + vocab); };
  EXPECT_EQ(logits(), row(12));
  for (const size_t count : {size_t{13}, size_t{8}, size_t{3}, size_t{1}}) {
    ASSERT_TRUE(session.ResetSlot(0).ok());
    ASSERT_TRUE(session.Prefill(0, prompt.data(), count).ok());
    EXPECT_EQ(logits(), row(count - 1)) << count << " tokens, last row only";
  }
}

TEST(SyntheticProbeTest, OnlySmallModelsGetAProbe) {
  EXPECT_TRUE(SyntheticProbeFits(*gptoss::PresetConfig("tiny")));
  EXPECT_FALSE(SyntheticProbeFits(*gptoss::PresetConfig("20b")));
  // A probe needs the weights' bytes.
  moert::Result<gptoss::Checkpoint> checkpoint =
      gptoss::OpenSyntheticCheckpoint(*gptoss::PresetConfig("tiny"), kSeed, /*with_data=*/false, "");
  ASSERT_TRUE(checkpoint.ok());
  moert::Status status = CompileToArtifact(*checkpoint, SmallOptions(), TempPath("none.moex"));
  EXPECT_EQ(status.code(), moert::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("the probe needs the synthetic weights in memory"), std::string::npos);
}

}  // namespace
}  // namespace moec
