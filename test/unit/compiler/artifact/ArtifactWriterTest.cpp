// The compiler's .moex writer against the runtime's reader: a round trip of an
// artifact with every kind of entry, byte-for-byte determinism, streamed
// segments, and descriptions the writer refuses before writing anything.
#include "compiler/artifact/ArtifactWriter.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "artifact/artifact.h"
#include "artifact/header.h"
#include "base/file_map.h"

namespace moec {
namespace {

constexpr uint32_t kVocab = 32;
constexpr uint32_t kPrefillRows = 4;
constexpr uint64_t kStreamedSize = 3 * 1000 * 1000 + 17;  // not a multiple of anything

// Private to this test process: ctest runs the tests in parallel processes.
std::string TempPath(const std::string& name) {
  return moert::StrCat(::testing::TempDir(), "/moec_artifact_", getpid(), "_", name);
}

// Deterministic filler bytes.
std::string Bytes(uint64_t size, uint8_t seed) {
  std::string out(size, '\0');
  for (uint64_t i = 0; i < size; ++i) out[i] = static_cast<char>((i * 131 + seed) >> 3);
  return out;
}

// Streams kStreamedSize bytes in 64 KiB chunks: the MXFP4 expert weights.
moert::Status StreamExperts(SegmentSink& sink) {
  std::string chunk(1 << 16, '\0');
  for (uint64_t done = 0; done < kStreamedSize;) {
    uint64_t n = std::min<uint64_t>(chunk.size(), kStreamedSize - done);
    for (uint64_t i = 0; i < n; ++i) chunk[i] = static_cast<char>((done + i) * 2654435761u >> 24);
    MOERT_RETURN_IF_ERROR(sink.Write(chunk.data(), n));
    done += n;
  }
  return moert::Status::Ok();
}

// An artifact with every kind of manifest entry.
void Describe(ArtifactWriter& w) {
  w.setProducer("moec test");
  ModelConfigDesc model;
  model.num_layers = 2;
  model.hidden_size = 64;
  model.num_heads = 4;
  model.num_kv_heads = 2;
  model.head_dim = 16;
  model.num_experts = 4;
  model.experts_per_token = 2;
  model.intermediate_size = 64;
  model.vocab_size = kVocab;
  model.sliding_window = 128;
  model.sliding_layers = {true, false};
  model.rope_theta = 150000;
  model.rope_scaling_factor = 32;
  model.rope_beta_fast = 32;
  model.rope_beta_slow = 1;
  model.rope_original_context = 4096;
  model.rope_truncate = false;
  model.rms_norm_eps = 1e-5;
  model.swiglu_limit = 7;
  model.swiglu_alpha = 1.702;
  model.eos_token_id = 200002 % kVocab;
  w.setModelConfig(model);
  w.setTarget({moex::TargetKind::CPU, "x86-64-v1", {}});
  w.setContext(256, 2);

  // Segments: 0 dense weights (copied), 1 expert weights (streamed), 2 code,
  // 3 tokenizer, 4 probe logits, 5 an empty one.
  uint32_t dense = w.addSegment(Bytes(kVocab * 64 * 2 + 64 * 4, 1));
  uint32_t experts = w.addStreamedSegment(kStreamedSize, StreamExperts);
  std::string elf = "\x7f" "ELF" + Bytes(5000, 2);
  uint32_t code = w.addSegment(elf.data(), elf.size());
  uint32_t ranks = w.addSegment(std::string("IQ== 0\nIg== 1\n"));
  uint32_t probeLogits = w.addSegment(Bytes(3 * kVocab * 4, 3));
  w.addSegment(std::string());

  uint32_t embed = w.addWeight({"model.embed_tokens.weight", dense, 0, kVocab * 64 * 2,
                                moex::DType::BF16, {kVocab, 64}, "row_major", {}});
  uint32_t norm = w.addWeight({"model.norm.weight", dense, kVocab * 64 * 2, 64 * 4,
                               moex::DType::F32, {64}, "row_major", {}});
  // MXFP4 [4, 64, 64] -> 4 * 64 * 2 blocks of 17 bytes = 8704 bytes.
  w.addWeight({"model.layers.0.mlp.experts.gate_up_proj", experts, 4096, 8704,
               moex::DType::MXFP4, {4, 64, 64}, "mxfp4_rows_k32", {}});

  w.addImage({moex::ImageFormat::ELF_SHARED_OBJECT,
              code,
              {{"embed", "moe_embed", 3, 1}, {"final_norm", "moe_norm", 3, 0},
               {"lm_head", "moe_lm_head", 3, 2}}});

  auto io = [&](const std::string& name, moex::BufferKind kind, uint64_t size) {
    return w.addBuffer({name, kind, size});
  };
  uint32_t tokens = io("prefill.tokens", moex::BufferKind::INPUT, kPrefillRows * 4);
  uint32_t positions = io("prefill.positions", moex::BufferKind::INPUT, kPrefillRows * 4);
  uint32_t slots = io("prefill.slots", moex::BufferKind::INPUT, kPrefillRows * 4);
  uint32_t logits = io("prefill.logits", moex::BufferKind::OUTPUT, kPrefillRows * kVocab * 4);
  uint32_t dTokens = io("decode.tokens", moex::BufferKind::INPUT, 2 * 4);
  uint32_t dPositions = io("decode.positions", moex::BufferKind::INPUT, 2 * 4);
  uint32_t dSlots = io("decode.slots", moex::BufferKind::INPUT, 2 * 4);
  uint32_t dLogits = io("decode.logits", moex::BufferKind::OUTPUT, 2 * kVocab * 4);
  uint32_t embedBuf =
      w.addBuffer({"embed", moex::BufferKind::WEIGHT, kVocab * 64 * 2, 64, int32_t(embed)});
  uint32_t normBuf = w.addBuffer({"norm", moex::BufferKind::WEIGHT, 256, 256, int32_t(norm)});
  uint32_t hidden =
      w.addBuffer({"hidden", moex::BufferKind::ACTIVATION, kPrefillRows * 64 * 4, 64, -1, 0});
  uint32_t normed = w.addBuffer(
      {"normed", moex::BufferKind::ACTIVATION, kPrefillRows * 64 * 4, 64, -1, 1024});
  w.addBuffer({"k_cache.0", moex::BufferKind::KV_CACHE, 2 * 256 * 2 * 16 * 2});
  w.addBuffer({"v_cache.0", moex::BufferKind::KV_CACHE, 2 * 256 * 2 * 16 * 2});
  uint32_t liveRows = io("prefill.live_rows", moex::BufferKind::INPUT, 8);
  uint32_t dLiveRows = io("decode.live_rows", moex::BufferKind::INPUT, 8);
  w.setActivationArenaSize(2048);

  auto plan = [&](uint32_t rows, uint32_t t, uint32_t l) {
    std::vector<DispatchDesc> d;
    d.push_back({0, 0, rows, 1, 1, {{t, 0, rows * 4}, {embedBuf, 0, kVocab * 64 * 2},
                                    {hidden, 0, rows * 64 * 4}}, {64}});
    d.push_back({0, 1, rows, 2, 1, {{hidden, 0, rows * 64 * 4}, {normBuf, 0, 256},
                                    {normed, 0, rows * 64 * 4}}, {}});
    d.push_back({0, 2, 1, kVocab / 8, 1, {{normed, 0, rows * 64 * 4},
                                          {embedBuf, 0, kVocab * 64 * 2},
                                          {l, 0, rows * kVocab * 4}}, {kVocab, rows}});
    return d;
  };
  w.addEntryPoint({"prefill", kPrefillRows, tokens, positions, slots, logits,
                   plan(kPrefillRows, tokens, logits), liveRows});
  w.addEntryPoint({"decode", 2, dTokens, dPositions, dSlots, dLogits, plan(2, dTokens, dLogits), dLiveRows});
  w.setTokenizer({ranks, "o200k_harmony"});
  w.setProbe({{1, 2, 3}, probeLogits, 2e-3f});
}

TEST(ArtifactWriterTest, RoundTripsEveryKindOfEntry) {
  ArtifactWriter w;
  Describe(w);
  std::string path = TempPath("round_trip.moex");
  moert::Status status = w.write(path);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_FALSE(moert::PathExists(path + ".tmp"));

  moert::Result<moert::Artifact> opened = moert::Artifact::Open(path);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  const moert::Artifact& a = *opened;
  EXPECT_TRUE(a.VerifySegmentChecksums().ok()) << a.VerifySegmentChecksums().ToString();
  EXPECT_TRUE(a.CheckTargetRunsOnHost().ok());
  const moex::Manifest& m = a.manifest();

  // Header and layout.
  EXPECT_EQ(a.header().manifest_offset, moert::kHeaderSize);
  EXPECT_EQ(a.header().segment_area_offset % moert::kSegmentAlignment, 0u);
  EXPECT_EQ(a.file_size() % moert::kSegmentAlignment, 0u);
  EXPECT_EQ(m.format_version(), moert::kFormatVersion);
  EXPECT_EQ(m.producer()->str(), "moec test");

  // Model, target, context.
  EXPECT_EQ(m.model()->num_layers(), 2u);
  EXPECT_EQ(m.model()->vocab_size(), kVocab);
  ASSERT_EQ(m.model()->sliding_layers()->size(), 2u);
  EXPECT_TRUE(m.model()->sliding_layers()->Get(0));
  EXPECT_FALSE(m.model()->sliding_layers()->Get(1));
  EXPECT_DOUBLE_EQ(m.model()->swiglu_alpha(), 1.702);
  EXPECT_EQ(m.model()->eos_token_id(), int32_t(200002 % kVocab));
  EXPECT_EQ(m.target()->kind(), moex::TargetKind::CPU);
  EXPECT_EQ(m.target()->name()->str(), "x86-64-v1");
  EXPECT_EQ(m.max_context(), 256u);
  EXPECT_EQ(m.num_slots(), 2u);

  // Segments: bytes, alignment, order.
  ASSERT_EQ(a.num_segments(), 6u);
  EXPECT_EQ(a.segment(1).size, kStreamedSize);
  EXPECT_EQ(static_cast<uint8_t>(a.segment(1).data[12345]),
            static_cast<uint8_t>(12345u * 2654435761u >> 24));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(a.segment(3).data), a.segment(3).size),
            "IQ== 0\nIg== 1\n");
  EXPECT_EQ(a.segment(5).size, 0u);
  uint64_t previousEnd = 0;
  for (uint32_t i = 0; i < a.num_segments(); ++i) {
    const moex::Segment* s = m.segments()->Get(i);
    EXPECT_EQ(s->offset() % moert::kSegmentAlignment, 0u) << i;
    EXPECT_GE(s->offset(), previousEnd) << i;
    previousEnd = s->offset() + s->size();
    // Padding after each segment is zero.
    const uint8_t* area = a.segment(0).data;
    uint64_t padEnd = std::min<uint64_t>((previousEnd + 4095) / 4096 * 4096,
                                         a.header().segment_area_size);
    for (uint64_t p = previousEnd; p < padEnd; ++p) ASSERT_EQ(area[p], 0) << i << " " << p;
  }

  // Weights.
  ASSERT_EQ(a.num_weights(), 3u);
  moert::Result<uint32_t> experts = a.FindWeight("model.layers.0.mlp.experts.gate_up_proj");
  ASSERT_TRUE(experts.ok());
  EXPECT_EQ(a.weight(*experts).dtype(), moex::DType::MXFP4);
  EXPECT_EQ(a.weight_bytes(*experts).data, a.segment(1).data + 4096);
  EXPECT_EQ(a.weight(*experts).layout()->str(), "mxfp4_rows_k32");
  EXPECT_EQ(a.weight(0).shape()->Get(1), 64);

  // Images and kernels.
  ASSERT_EQ(m.images()->size(), 1u);
  EXPECT_EQ(m.images()->Get(0)->kernels()->size(), 3u);
  EXPECT_EQ(m.images()->Get(0)->kernels()->Get(2)->symbol()->str(), "moe_lm_head");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(a.segment(2).data), 4), "\x7f" "ELF");

  // Buffers, entry points, dispatches.
  EXPECT_EQ(m.buffers()->size(), 16u);
  EXPECT_EQ(m.buffers()->Get(9)->alignment(), 256u);
  EXPECT_EQ(m.buffers()->Get(11)->arena_offset(), 1024u);
  EXPECT_EQ(m.activation_arena_size(), 2048u);
  ASSERT_EQ(m.entry_points()->size(), 2u);
  const moex::EntryPoint* decode = m.entry_points()->Get(1);
  EXPECT_EQ(decode->name()->str(), "decode");
  EXPECT_EQ(decode->rows(), 2u);
  EXPECT_EQ(m.buffers()->Get(decode->live_rows())->name()->str(), "decode.live_rows");
  ASSERT_EQ(decode->dispatches()->size(), 3u);
  const moex::Dispatch* lmHead = decode->dispatches()->Get(2);
  EXPECT_EQ(lmHead->kernel(), 2u);
  EXPECT_EQ(lmHead->workgroups_y(), kVocab / 8);
  EXPECT_EQ(lmHead->bindings()->Get(2)->buffer(), 7u);
  EXPECT_EQ(lmHead->constants()->Get(1), 2u);

  // Tokenizer and probe.
  EXPECT_EQ(m.tokenizer()->ranks_segment(), 3u);
  EXPECT_EQ(m.tokenizer()->encoding()->str(), "o200k_harmony");
  EXPECT_EQ(m.probe()->tokens()->size(), 3u);
  EXPECT_FLOAT_EQ(m.probe()->tolerance(), 2e-3f);
}

TEST(ArtifactWriterTest, OutputIsDeterministic) {
  std::string first = TempPath("det1.moex"), second = TempPath("det2.moex");
  {
    ArtifactWriter w;
    Describe(w);
    ASSERT_TRUE(w.write(first).ok());
  }
  ArtifactWriter w;
  Describe(w);
  ASSERT_TRUE(w.write(second).ok());
  moert::Result<std::string> a = moert::ReadFileToString(first);
  moert::Result<std::string> b = moert::ReadFileToString(second);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(*a == *b) << "the two writes differ";
  // Writing again from the same writer, and to memory, gives the same bytes.
  moert::Result<std::string> c = w.writeToString();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(*a == *c);
}

TEST(ArtifactWriterTest, RefusesABadDescriptionBeforeWritingSegments) {
  ArtifactWriter w;
  Describe(w);
  bool streamed = false;
  w.addStreamedSegment(10, [&](SegmentSink&) {
    streamed = true;
    return moert::Status::Ok();
  });
  w.addWeight({"bad", 99, 0, 4, moex::DType::F32, {1}, "row_major", {}});
  std::string path = TempPath("bad_description.moex");
  moert::Status status = w.write(path);
  EXPECT_NE(status.message().find("manifest.weights[3] (\"bad\").segment = 99 but the artifact "
                                  "has 7 segments"),
            std::string::npos)
      << status.ToString();
  EXPECT_FALSE(streamed);
  EXPECT_FALSE(moert::PathExists(path));
  EXPECT_FALSE(moert::PathExists(path + ".tmp"));
}

TEST(ArtifactWriterTest, RefusesAProducerThatBreaksItsWord) {
  auto writeWith = [](uint64_t declared, uint64_t produced) {
    ArtifactWriter w;
    Describe(w);
    w.addStreamedSegment(declared, [produced](SegmentSink& sink) {
      std::string bytes(produced, 'x');
      return sink.Write(bytes.data(), bytes.size());
    });
    return w.write(TempPath("producer.moex"));
  };
  moert::Status tooFew = writeWith(100, 60);
  EXPECT_NE(tooFew.message().find("segment 6: the producer wrote 60 bytes but declared 100"),
            std::string::npos)
      << tooFew.ToString();
  moert::Status tooMany = writeWith(100, 160);
  EXPECT_NE(tooMany.message().find("wrote more than the 100 bytes declared"), std::string::npos)
      << tooMany.ToString();
  EXPECT_FALSE(moert::PathExists(TempPath("producer.moex.tmp")));

  ArtifactWriter w;
  Describe(w);
  w.addStreamedSegment(8, [](SegmentSink&) { return moert::NotFound("shard 3 is missing"); });
  moert::Status failed = w.write(TempPath("failed.moex"));
  EXPECT_EQ(failed.code(), moert::StatusCode::kNotFound);
  EXPECT_NE(failed.message().find("segment 6: shard 3 is missing"), std::string::npos)
      << failed.ToString();
}

int RunMoertRun(const std::string& args, std::string* output) {
  std::string command = std::string(MOEC_BINARY_DIR) + "/bin/moert-run " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output->append(buffer, n);
  int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ArtifactWriterTest, MoertRunInspectsWhatTheWriterWrote) {
  ArtifactWriter w;
  Describe(w);
  std::string path = TempPath("inspect.moex");
  ASSERT_TRUE(w.write(path).ok());
  std::string output;
  ASSERT_EQ(RunMoertRun(path + " --inspect", &output), 0) << output;
  EXPECT_NE(output.find("entry point \"decode\": rows 2"), std::string::npos) << output;
  EXPECT_NE(output.find("  [2] lm_head (image 0 kernel 2) workgroups 1x4x1 bindings "
                        "{normed[0, +512), embed[0, +4096), decode.logits[0, +256)} "
                        "constants {32, 2}"),
            std::string::npos)
      << output;
}

TEST(ArtifactWriterTest, UnverifiedDamageIsCaughtByTheReaderAndMoertRun) {
  ArtifactWriter w;
  Describe(w);
  // A binding past its buffer, written with verification off on purpose.
  w.addEntryPoint({"broken", 2, 4, 5, 6, 7, {{0, 1, 1, 1, 1, {{10, 0, 4096}, {9, 0, 256},
                                                               {7, 0, 256}}, {}}},
                   /*live_rows=*/15});
  std::string path = TempPath("damaged.moex");
  WriteOptions unverified;
  unverified.verify = false;
  ASSERT_TRUE(w.write(path, unverified).ok());
  moert::Result<moert::Artifact> opened = moert::Artifact::Open(path);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().message().find(
                "manifest.entry_points[2] (\"broken\").dispatches[0] (kernel \"final_norm\")"
                ".bindings[0] [offset 0, size 4096] runs past the end of manifest.buffers[10] "
                "(\"hidden\") (1024 bytes)"),
            std::string::npos)
      << opened.status().ToString();
  std::string output;
  EXPECT_EQ(RunMoertRun(path + " --inspect", &output), 1);
  EXPECT_NE(output.find("moert-run: " + path + ": manifest.entry_points[2]"), std::string::npos)
      << output;
}

}  // namespace
}  // namespace moec
