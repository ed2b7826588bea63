// The GPU executor (exec/gpu_session.h) against the fake CUDA and HIP drivers
// (test/unit/runtime/hal/fake_cuda.cc, fake_hip.cc): a hand-built manifest
// whose kernels the fake runs on the host ("add_one" counts calls in the KV
// cache and the activation arena; "echo_rows" writes each row's token,
// position and slot into its logits), and moert-run refusing a CUDA artifact
// on a machine without the driver.
#include "exec/gpu_session.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../artifact/test_artifact.h"
#include "../hal/fake_gpu.h"
#include "../hal/fake_gpu_test.h"
#include "artifact/header.h"
#include "artifact/synthetic.h"
#include "base/file_map.h"
#include "base/numeric_formats.h"
#include "flatbuffers/flatbuffers.h"
#include "hal/cuda/driver.h"
#include "hal/hip/driver.h"

namespace moert::exec {
namespace {

using moex::BufferKind;

constexpr uint32_t kV = 8;            // vocabulary
constexpr uint32_t kContext = 10;
constexpr uint32_t kSlots = 3;
constexpr uint32_t kPrefillRows = 4;
constexpr uint32_t kDecodeRows = 2;
// Buffer indices.
enum : uint32_t {
  kW, kCache, kAct, kPTokens, kPPositions, kPSlots, kPLogits, kDTokens, kDPositions, kDSlots, kDLogits, kWorkspace,
  kPLiveRows, kDLiveRows
};

struct GpuManifestSpec {
  moex::TargetKind target = moex::TargetKind::CUDA;
  std::string target_name = "sm_90a";
  moex::ImageFormat format = moex::ImageFormat::PTX;
  std::string echo_symbol = "echo_rows";
  uint64_t logits_binding_size = uint64_t{kPrefillRows} * kV * 4;
  // The weight "w" synthetic (BF16 [8], two runs of 8 bytes from seed 42)
  // and a "fill" kernel (synthetic_fill) for it, unless fill_kernel is -1.
  bool synthetic = false;
  int32_t fill_kernel = 2;
};

// The manifest (FlatBuffer bytes) and its segments: 0 = 16 bytes of padding
// then the 16 weight bytes, 1 = the fake's module text.
struct GpuManifest {
  std::string fb;
  std::vector<std::string> segments;
  const moex::Manifest& manifest() const { return *moex::GetManifest(fb.data()); }
  SegmentResolver resolver() const {
    return [this](uint32_t index) -> Result<SegmentBytes> {
      if (index >= segments.size()) return OutOfRange("no segment ", index);
      return SegmentBytes{reinterpret_cast<const uint8_t*>(segments[index].data()), segments[index].size()};
    };
  }
};

std::vector<uint8_t> WeightBytes() {
  std::vector<uint8_t> w(16);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<uint8_t>(0xA0 + i);
  return w;
}

GpuManifest BuildGpuManifest(const GpuManifestSpec& spec = {}) {
  GpuManifest out;
  std::vector<uint8_t> w = WeightBytes();
  out.segments.push_back(std::string(16, '\0') + std::string(w.begin(), w.end()));
  out.segments.push_back(std::string(moert_fake::kFakeModuleMagic) + " echo_rows add_one synthetic_fill");

  flatbuffers::FlatBufferBuilder fbb;
  auto model = moex::CreateModelConfigDirect(fbb, 1, 8, 1, 1, 8, 1, 1, 8, kV);
  auto target = moex::CreateTargetDirect(fbb, spec.target, spec.target_name.c_str());
  std::vector<moex::Segment> segments = {{0, out.segments[0].size(), 0}, {4096, out.segments[1].size(), 0}};
  std::vector<int64_t> shape = {16};
  std::vector<flatbuffers::Offset<moex::Weight>> weights;
  flatbuffers::Offset<moex::SyntheticWeights> synthetic;
  if (spec.synthetic) {
    std::vector<int64_t> elements = {8};
    std::vector<flatbuffers::Offset<moex::SyntheticPart>> parts = {
        moex::CreateSyntheticPart(fbb, 0, 8, 0x1234, moex::SyntheticDistribution::UNIFORM_BF16, 0, int64_t{1} << 32),
        moex::CreateSyntheticPart(fbb, 8, 8, 0x5678, moex::SyntheticDistribution::UNIFORM_BF16, int64_t{1} << 32,
                                  int64_t{1} << 30)};
    weights.push_back(
        moex::CreateWeightDirect(fbb, "w", 0, 0, 16, moex::DType::BF16, &elements, "row_major", &parts));
    synthetic = moex::CreateSyntheticWeights(fbb, 42, spec.fill_kernel < 0 ? -1 : 0, spec.fill_kernel);
  } else {
    weights.push_back(moex::CreateWeightDirect(fbb, "w", 0, 16, 16, moex::DType::U8, &shape, "row_major"));
  }
  std::vector<flatbuffers::Offset<moex::Kernel>> kernels = {
      moex::CreateKernelDirect(fbb, "echo", spec.echo_symbol.c_str(), 4, 2, 128, 0),
      moex::CreateKernelDirect(fbb, "count", "add_one", 1, 1, 32, 16),
      moex::CreateKernelDirect(fbb, "fill", "synthetic_fill", 2, 0, 256, 0)};
  std::vector<flatbuffers::Offset<moex::DeviceImage>> images = {
      moex::CreateDeviceImageDirect(fbb, spec.format, 1, &kernels)};
  const uint64_t pl = uint64_t{kPrefillRows} * kV * 4, dl = uint64_t{kDecodeRows} * kV * 4;
  std::vector<flatbuffers::Offset<moex::Buffer>> buffers = {
      moex::CreateBufferDirect(fbb, "w", BufferKind::WEIGHT, 16, 64, 0),
      moex::CreateBufferDirect(fbb, "cache", BufferKind::KV_CACHE, 16),
      moex::CreateBufferDirect(fbb, "act", BufferKind::ACTIVATION, 16, 64, -1, 64),
      moex::CreateBufferDirect(fbb, "prefill.tokens", BufferKind::INPUT, kPrefillRows * 4),
      moex::CreateBufferDirect(fbb, "prefill.positions", BufferKind::INPUT, kPrefillRows * 4),
      moex::CreateBufferDirect(fbb, "prefill.slots", BufferKind::INPUT, kPrefillRows * 4),
      moex::CreateBufferDirect(fbb, "prefill.logits", BufferKind::OUTPUT, pl),
      moex::CreateBufferDirect(fbb, "decode.tokens", BufferKind::INPUT, kDecodeRows * 4),
      moex::CreateBufferDirect(fbb, "decode.positions", BufferKind::INPUT, kDecodeRows * 4),
      moex::CreateBufferDirect(fbb, "decode.slots", BufferKind::INPUT, kDecodeRows * 4),
      moex::CreateBufferDirect(fbb, "decode.logits", BufferKind::OUTPUT, dl),
      moex::CreateBufferDirect(fbb, "workspace", BufferKind::WORKSPACE, 32),
      moex::CreateBufferDirect(fbb, "prefill.live_rows", BufferKind::INPUT, 8),
      moex::CreateBufferDirect(fbb, "decode.live_rows", BufferKind::INPUT, 8),
  };
  auto dispatch = [&](uint32_t kernel, uint32_t wg, std::vector<moex::Binding> bindings,
                      std::vector<uint32_t> constants) {
    return moex::CreateDispatchDirect(fbb, 0, kernel, wg, 1, 1, &bindings, &constants);
  };
  std::vector<flatbuffers::Offset<moex::Dispatch>> prefill = {
      dispatch(1, 1, {{kCache, 0, 16}}, {4}),
      dispatch(0, kPrefillRows,
               {{kPTokens, 0, kPrefillRows * 4}, {kPPositions, 0, kPrefillRows * 4},
                {kPSlots, 0, kPrefillRows * 4}, {kPLogits, 0, spec.logits_binding_size}},
               {kPrefillRows, kV})};
  std::vector<flatbuffers::Offset<moex::Dispatch>> decode = {
      dispatch(1, 1, {{kCache, 8, 8}}, {2}),
      dispatch(1, 1, {{kAct, 0, 8}}, {2}),
      dispatch(0, kDecodeRows,
               {{kDTokens, 0, kDecodeRows * 4}, {kDPositions, 0, kDecodeRows * 4},
                {kDSlots, 0, kDecodeRows * 4}, {kDLogits, 0, dl}},
               {kDecodeRows, kV})};
  std::vector<flatbuffers::Offset<moex::EntryPoint>> entries = {
      moex::CreateEntryPointDirect(fbb, "prefill", kPrefillRows, kPTokens, kPPositions, kPSlots, kPLogits, &prefill,
                                   kPLiveRows),
      moex::CreateEntryPointDirect(fbb, "decode", kDecodeRows, kDTokens, kDPositions, kDSlots, kDLogits, &decode,
                                   kDLiveRows)};
  auto manifest = moex::CreateManifestDirect(fbb, kFormatVersion, "test", model, target, kContext, kSlots, &segments, 0,
                                             &weights, &images, &buffers, 128, &entries, 0, synthetic);
  moex::FinishManifestBuffer(fbb, manifest);
  out.fb.assign(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
  return out;
}

class GpuSessionTest : public moert_fake::FakeGpuTest {
 protected:
  void SetUp() override {
    LoadFake(MOERT_FAKE_CUDA_PATH, "moert_fake_cuda", "MOERT_FAKE_CUDA");
    if (HasFatalFailure()) return;
    fake_.set_device("NVIDIA H100 80GB HBM3", 9, 0, 1);
    setenv(hal::cuda::kDriverLibraryEnv, MOERT_FAKE_CUDA_PATH, 1);
  }
  void TearDown() override {
    unsetenv(hal::cuda::kDriverLibraryEnv);
    FakeGpuTest::TearDown();
  }
  std::unique_ptr<GpuSession> Open(const GpuManifest& m) {
    auto session = OpenGpuSession(m.manifest(), m.resolver(), {"test.moex"});
    EXPECT_TRUE(session.ok()) << session.status().ToString();
    return session.ok() ? std::move(session).value() : nullptr;
  }
  template <typename T>
  static std::vector<T> Read(const GpuSession& s, uint32_t buffer, size_t count) {
    std::vector<T> out(count);
    hal::DeviceBuffer b{s.buffer_address(buffer), count * sizeof(T)};
    EXPECT_TRUE(s.device().CopyToHost(out.data(), b, 0, b.size).ok());
    return out;
  }
  // The log line of one launch ("launch", "capture", "replay").
  static std::string EchoLine(const char* how, const GpuSession& s, bool prefill) {
    const uint32_t base = prefill ? kPTokens : kDTokens;
    const uint32_t rows = prefill ? kPrefillRows : kDecodeRows;
    return StrCat(how, " echo_rows grid=", rows, ",1,1 block=128,1,1 shared=0 args=", s.buffer_address(base), ",",
                  s.buffer_address(base + 1), ",", s.buffer_address(base + 2), ",", s.buffer_address(base + 3), ",",
                  rows, ",", kV, "\n");
  }
  // The expected logits row of (token, position, slot).
  static std::vector<float> Row(int32_t token, int32_t position, int32_t slot) {
    std::vector<float> row(kV, 0.0f);
    row[static_cast<uint32_t>(token + 1) % kV] = static_cast<float>(1 + position + 1000 * slot);
    return row;
  }
  static std::vector<float> Logits(const GpuSession& s, uint32_t slot) {
    const float* p = s.logits(slot);
    return p ? std::vector<float>(p, p + kV) : std::vector<float>();
  }
};

TEST_F(GpuSessionTest, CreationUploadsWeightsZeroesCachesAndFreesOnDestruction) {
  GpuManifest m = BuildGpuManifest();
  std::unique_ptr<GpuSession> s = Open(m);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(Count(Log(), "load module\n"), 1);
  EXPECT_EQ(Count(Log(), "launch"), 0);
  EXPECT_EQ(Read<uint8_t>(*s, kW, 16), WeightBytes());
  EXPECT_EQ(Read<uint32_t>(*s, kCache, 4), std::vector<uint32_t>(4, 0));
  EXPECT_EQ(Read<uint32_t>(*s, kWorkspace, 8), std::vector<uint32_t>(8, 0));
  // The arena, the weight, the cache, 10 input/output buffers and the workspace.
  EXPECT_EQ(fake_.live_allocations(), 14);
  EXPECT_EQ(s->vocab_size(), kV);
  EXPECT_EQ(s->max_context(), kContext);
  EXPECT_EQ(s->num_slots(), kSlots);
  EXPECT_CONTAINS(s->description(), "CUDA device 0: NVIDIA H100 80GB HBM3 (sm_90)");
  for (uint32_t slot = 0; slot < kSlots; ++slot) {
    EXPECT_EQ(s->position(slot), 0u);
    EXPECT_EQ(s->logits(slot), nullptr);
  }
  s.reset();
  EXPECT_EQ(fake_.live_allocations(), 0);
}

TEST_F(GpuSessionTest, ChunkedPrefillPadsAndLaunchesInOrder) {
  GpuManifest m = BuildGpuManifest();
  std::unique_ptr<GpuSession> s = Open(m);
  ASSERT_NE(s, nullptr);
  const std::vector<int32_t> tokens = {3, 1, 4, 1, 5, 6};
  std::vector<float> all(tokens.size() * kV, -1.0f);
  ASSERT_TRUE(s->Prefill(1, tokens.data(), tokens.size(), all.data()).ok());
  // The last chunk as uploaded: two real rows, two padding rows.
  EXPECT_EQ(Read<int32_t>(*s, kPTokens, 4), (std::vector<int32_t>{5, 6, 0, 0}));
  EXPECT_EQ(Read<int32_t>(*s, kPPositions, 4), (std::vector<int32_t>{4, 5, -1, -1}));
  EXPECT_EQ(Read<int32_t>(*s, kPSlots, 4), (std::vector<int32_t>{1, 1, 1, 1}));
  // Two live rows, and every row's logits are read.
  EXPECT_EQ(Read<int32_t>(*s, kPLiveRows, 2), (std::vector<int32_t>{2, 0}));
  for (size_t i = 0; i < tokens.size(); ++i) {
    EXPECT_EQ(std::vector<float>(all.begin() + i * kV, all.begin() + (i + 1) * kV),
              Row(tokens[i], static_cast<int32_t>(i), 1))
        << "row " << i;
  }
  EXPECT_EQ(s->position(1), 6u);
  EXPECT_EQ(Logits(*s, 1), Row(6, 5, 1));
  EXPECT_EQ(s->logits(0), nullptr);
  // Two chunks, each the two dispatches in order with the manifest's shapes
  // and the buffers' addresses.
  const std::string chunk = "launch add_one grid=1,1,1 block=32,1,1 shared=16\n" + EchoLine("launch", *s, true);
  EXPECT_CONTAINS(Log(), "load module\n" + chunk + chunk);
  EXPECT_EQ(Count(Log(), "launch "), 4);
  EXPECT_EQ(Read<uint32_t>(*s, kCache, 4), std::vector<uint32_t>(4, 2));

  // A continuation without all_logits: only the last row comes back.
  const std::vector<int32_t> more = {7, 2};
  ASSERT_TRUE(s->Prefill(1, more.data(), more.size()).ok());
  EXPECT_EQ(s->position(1), 8u);
  EXPECT_EQ(Logits(*s, 1), Row(2, 7, 1));
  EXPECT_EQ(Read<int32_t>(*s, kPPositions, 4), (std::vector<int32_t>{6, 7, -1, -1}));
  EXPECT_EQ(Read<int32_t>(*s, kPLiveRows, 2), (std::vector<int32_t>{2, 1}));
  // A chunk before the last one needs no logits at all.
  const std::vector<int32_t> five = {1, 2, 3, 4, 5};
  ASSERT_TRUE(s->Prefill(0, five.data(), 4).ok());
  EXPECT_EQ(Read<int32_t>(*s, kPLiveRows, 2), (std::vector<int32_t>{4, 3}));
  ASSERT_TRUE(s->ResetSlot(0).ok());
  const std::string launches_before = Log();
  ASSERT_TRUE(s->Prefill(0, five.data(), 5).ok());
  EXPECT_EQ(Read<int32_t>(*s, kPLiveRows, 2), (std::vector<int32_t>{1, 0}));
  EXPECT_EQ(Count(Log().substr(launches_before.size()), "launch echo_rows"), 2);
}

TEST_F(GpuSessionTest, DecodeCapturesOnceThenReplays) {
  GpuManifest m = BuildGpuManifest();
  std::unique_ptr<GpuSession> s = Open(m);
  ASSERT_NE(s, nullptr);
  const int32_t p0[] = {1, 2}, p2[] = {3};
  ASSERT_TRUE(s->Prefill(0, p0, 2).ok());
  ASSERT_TRUE(s->Prefill(2, p2, 1).ok());
  const std::string after_prefill = Log();

  const uint32_t slots[] = {0, 2};
  const int32_t first[] = {5, 6};
  ASSERT_TRUE(s->Decode(slots, first, 2).ok());
  EXPECT_FALSE(s->decode_graph_captured());
  EXPECT_EQ(Logits(*s, 0), Row(5, 2, 0));
  EXPECT_EQ(Logits(*s, 2), Row(6, 1, 2));
  const std::string direct = "launch add_one grid=1,1,1 block=32,1,1 shared=16\n"
                             "launch add_one grid=1,1,1 block=32,1,1 shared=16\n" +
                             EchoLine("launch", *s, false);
  EXPECT_EQ(Log(), after_prefill + direct);

  const int32_t second[] = {6, 7};
  ASSERT_TRUE(s->Decode(slots, second, 2).ok());
  EXPECT_TRUE(s->decode_graph_captured());
  EXPECT_EQ(Logits(*s, 0), Row(6, 3, 0));
  EXPECT_EQ(Logits(*s, 2), Row(7, 2, 2));
  const std::string replay = "replay add_one grid=1,1,1 block=32,1,1 shared=16\n"
                             "replay add_one grid=1,1,1 block=32,1,1 shared=16\n" +
                             EchoLine("replay", *s, false);
  EXPECT_EQ(Log(), after_prefill + direct + "capture add_one\ncapture add_one\ncapture echo_rows\n" + replay);

  // One sequence: row 1 is padding (token 0, position -1, slot 2).
  const uint32_t one[] = {2};
  const int32_t third[] = {4};
  ASSERT_TRUE(s->Decode(one, third, 1).ok());
  EXPECT_EQ(Logits(*s, 2), Row(4, 3, 2));
  EXPECT_EQ(Logits(*s, 0), Row(6, 3, 0));
  EXPECT_EQ(Read<int32_t>(*s, kDTokens, 2), (std::vector<int32_t>{4, 0}));
  EXPECT_EQ(Read<int32_t>(*s, kDPositions, 2), (std::vector<int32_t>{3, -1}));
  EXPECT_EQ(Read<int32_t>(*s, kDSlots, 2), (std::vector<int32_t>{2, 2}));
  EXPECT_EQ(Read<int32_t>(*s, kDLiveRows, 2), (std::vector<int32_t>{1, 0}));
  EXPECT_EQ(Count(Log(), "capture "), 3);
  EXPECT_EQ(Count(Log(), "replay echo_rows"), 2);
  EXPECT_EQ(s->position(0), 4u);
  EXPECT_EQ(s->position(2), 4u);
  // Two prefills counted in the whole cache, three decodes in its upper half
  // and in the activation arena.
  EXPECT_EQ(Read<uint32_t>(*s, kCache, 4), (std::vector<uint32_t>{2, 2, 5, 5}));
  EXPECT_EQ(Read<uint32_t>(*s, kAct, 2), (std::vector<uint32_t>{3, 3}));

  // Argument errors change nothing.
  const uint32_t twice[] = {1, 1};
  EXPECT_CONTAINS(s->Decode(twice, second, 2).message(), "slot 1 appears twice");
  const int32_t bad[] = {kV};
  EXPECT_CONTAINS(s->Decode(one, bad, 1).message(), "outside the vocabulary of 8");
  EXPECT_CONTAINS(s->Decode(slots, second, 3).message(), "exceeds the artifact's 2 decode rows");
}

// Per-kernel profiles: each decode launch captured `repeats` times into its
// own graph and replayed twice (warm-up, timed); one time per dispatch.
TEST_F(GpuSessionTest, ProfilesEveryDecodeDispatchAlone) {
  GpuManifest m = BuildGpuManifest();
  std::unique_ptr<GpuSession> s = Open(m);
  ASSERT_NE(s, nullptr);
  EXPECT_CONTAINS(s->ProfileDecodeDispatches(3).status().message(), "needs one decode first");
  const int32_t p0[] = {1, 2};
  ASSERT_TRUE(s->Prefill(0, p0, 2).ok());
  const uint32_t slot = 0;
  const int32_t token = 5;
  ASSERT_TRUE(s->Decode(&slot, &token, 1).ok());
  const std::string before = Log();
  Result<std::vector<double>> seconds = s->ProfileDecodeDispatches(3);
  ASSERT_TRUE(seconds.ok()) << seconds.status().message();
  ASSERT_EQ(seconds->size(), 3u);  // add_one, add_one, echo_rows
  const std::string profiled = Log().substr(before.size());
  EXPECT_EQ(Count(profiled, "capture add_one"), 6);
  EXPECT_EQ(Count(profiled, "capture echo_rows"), 3);
  EXPECT_EQ(Count(profiled, "replay add_one"), 12);
  EXPECT_EQ(Count(profiled, "replay echo_rows"), 6);
  EXPECT_CONTAINS(s->ProfileDecodeDispatches(0).status().message(), "at least one repeat");
}

// Traced calls launch one dispatch at a time, never capture or replay a
// graph, and record the activation and logits bindings each launch changed
// (read back from the device), not the KV cache.
TEST_F(GpuSessionTest, TracedCallsLaunchDirectlyAndRecordWrites) {
  GpuManifest m = BuildGpuManifest();
  std::unique_ptr<GpuSession> s = Open(m);
  ASSERT_NE(s, nullptr);
  DispatchTrace trace;
  s->set_trace(&trace);
  const int32_t p0[] = {1, 2};
  ASSERT_TRUE(s->Prefill(0, p0, 2).ok());
  const uint32_t slot = 0;
  const int32_t first = 5, second = 6;
  ASSERT_TRUE(s->Decode(&slot, &first, 1).ok());
  ASSERT_TRUE(s->Decode(&slot, &second, 1).ok());
  EXPECT_EQ(Count(Log(), "capture "), 0);
  EXPECT_EQ(Count(Log(), "replay "), 0);
  EXPECT_EQ(Count(Log(), "launch add_one"), 5);
  EXPECT_EQ(Logits(*s, 0), Row(6, 3, 0));

  EXPECT_EQ(trace.calls(), 3u);
  std::vector<std::string> names;
  for (const DispatchTrace::Write& w : trace.writes()) names.push_back(w.name);
  EXPECT_EQ(names, (std::vector<std::string>{"call 0/echo/binding 3", "call 1/count/binding 0",
                                             "call 1/echo/binding 3", "call 2/count/binding 0",
                                             "call 2/echo/binding 3"}));
  // add_one counts its calls in the 8 bytes of the arena it is bound to.
  auto words = [](const std::vector<uint8_t>& bytes) {
    std::vector<uint32_t> out(bytes.size() / 4);
    std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
  };
  EXPECT_EQ(words(trace.writes()[1].bytes), (std::vector<uint32_t>{1, 1}));
  EXPECT_EQ(words(trace.writes()[3].bytes), (std::vector<uint32_t>{2, 2}));
  std::vector<float> logits(2 * kV);
  std::memcpy(logits.data(), trace.writes()[4].bytes.data(), logits.size() * sizeof(float));
  EXPECT_EQ(std::vector<float>(logits.begin(), logits.begin() + kV), Row(6, 3, 0));

  // Untraced again: the next decode captures the graph.
  s->set_trace(nullptr);
  ASSERT_TRUE(s->Decode(&slot, &first, 1).ok());
  EXPECT_EQ(Count(Log(), "capture echo_rows"), 1);
  EXPECT_EQ(trace.calls(), 3u);
}

TEST_F(GpuSessionTest, GenerateResetAndSample) {
  GpuManifest m = BuildGpuManifest();
  std::unique_ptr<GpuSession> s = Open(m);
  ASSERT_NE(s, nullptr);
  // Greedy: each token's logits peak at token + 1.
  Result<std::vector<int32_t>> out = s->Generate(0, {3}, 4, SamplingParams{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, (std::vector<int32_t>{4, 5, 6, 7}));
  EXPECT_EQ(s->position(0), 4u);
  out = s->Generate(0, {1}, 2, SamplingParams{}, {2});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, (std::vector<int32_t>{2}));  // stops at the stop token
  ASSERT_TRUE(s->ResetSlot(0).ok());
  EXPECT_EQ(s->position(0), 0u);
  EXPECT_EQ(s->logits(0), nullptr);
  Result<Sampler> sampler = Sampler::Create(kV, SamplingParams{});
  ASSERT_TRUE(sampler.ok());
  EXPECT_CONTAINS(s->Sample(0, *sampler).status().message(), "has no logits yet");
  EXPECT_CONTAINS(s->ResetSlot(kSlots).message(), "slot 3 is past the artifact's 3 slots");
}

TEST_F(GpuSessionTest, ContextLimit) {
  GpuManifest m = BuildGpuManifest();
  std::unique_ptr<GpuSession> s = Open(m);
  ASSERT_NE(s, nullptr);
  std::vector<int32_t> long_prompt(kContext + 1, 1);
  Status status = s->Prefill(0, long_prompt.data(), long_prompt.size());
  EXPECT_EQ(status.code(), StatusCode::kOutOfRange);
  EXPECT_CONTAINS(status.message(), "prompt of 11 tokens exceeds the artifact's context of 10");
  EXPECT_EQ(Count(Log(), "launch"), 0);
  ASSERT_TRUE(s->Prefill(0, long_prompt.data(), kContext - 1).ok());
  status = s->Prefill(0, long_prompt.data(), 2);
  EXPECT_CONTAINS(status.message(), "slot 0 holds 9 tokens; 2 more would exceed the artifact's context of 10");
  const uint32_t slot = 0;
  const int32_t token = 1;
  ASSERT_TRUE(s->Decode(&slot, &token, 1).ok());
  status = s->Decode(&slot, &token, 1);
  EXPECT_EQ(status.code(), StatusCode::kOutOfRange);
  EXPECT_CONTAINS(status.message(), "decode: slot 0 is full: its 10 tokens reach the artifact's context of 10");
  Result<std::vector<int32_t>> out = s->Generate(1, std::vector<int32_t>(kContext - 2, 1), 5, SamplingParams{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->size(), 3u);  // two decodes fill the context; the last token is sampled only
}

TEST_F(GpuSessionTest, ManifestErrorsAreNamed) {
  GpuManifestSpec past;
  past.logits_binding_size = uint64_t{kPrefillRows} * kV * 4 + 4;
  GpuManifest m = BuildGpuManifest(past);
  auto s = OpenGpuSession(m.manifest(), m.resolver(), {"test.moex"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kDataLoss);
  EXPECT_CONTAINS(s.status().message(), "test.moex: entry_points[0] (prefill).dispatches[1] (echo).bindings[3] = "
                                        "[0, +132) exceeds buffers[6] (prefill.logits) of 128 bytes");

  GpuManifestSpec missing;
  missing.echo_symbol = "no_such_kernel";
  m = BuildGpuManifest(missing);
  s = OpenGpuSession(m.manifest(), m.resolver(), {"test.moex"});
  ASSERT_FALSE(s.ok());
  EXPECT_CONTAINS(s.status().message(), "test.moex: image 0 (segment 1) kernel 0 (echo): ");
  EXPECT_CONTAINS(s.status().message(), "CUDA_ERROR_NOT_FOUND");

  GpuManifestSpec hsaco;
  hsaco.format = moex::ImageFormat::HSACO;
  m = BuildGpuManifest(hsaco);
  s = OpenGpuSession(m.manifest(), m.resolver(), {"test.moex"});
  ASSERT_FALSE(s.ok());
  EXPECT_CONTAINS(s.status().message(), "image 0 has format HSACO, which a CUDA device does not load");

  GpuManifestSpec cpu;
  cpu.target = moex::TargetKind::CPU;
  m = BuildGpuManifest(cpu);
  s = OpenGpuSession(m.manifest(), m.resolver(), {"test.moex"});
  ASSERT_FALSE(s.ok());
  EXPECT_CONTAINS(s.status().message(), "the artifact targets CPU; the GPU executor runs CUDA and HIP artifacts");
  // Nothing leaks from a failed creation.
  EXPECT_EQ(fake_.live_allocations(), 0);
}

// Synthetic weights are generated on the device: one launch of the fill
// kernel per run (grid of one workgroup: 1 word per thread), each with its
// own descriptor, giving the bytes the host generator gives.
TEST_F(GpuSessionTest, SyntheticWeightsAreGeneratedByTheFillKernel) {
  GpuManifestSpec spec;
  spec.synthetic = true;
  GpuManifest m = BuildGpuManifest(spec);
  std::unique_ptr<GpuSession> s = Open(m);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(Count(Log(), "launch synthetic_fill grid=1,1,1 block=256,1,1 shared=0 size=8\n"), 2);
  Result<std::vector<SyntheticRun>> runs = SyntheticWeightRuns(m.manifest(), 0);
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  ASSERT_EQ(runs->size(), 2u);
  std::vector<uint8_t> expected(16);
  GenerateSyntheticBytes(*runs, 0, 16, expected.data());
  EXPECT_EQ(Read<uint8_t>(*s, kW, 16), expected);
  // The second run is bf16 values in [0.75, 1.25].
  for (int i = 4; i < 8; ++i) {
    const float v = Bf16ToFloat(static_cast<uint16_t>(expected[2 * i] | expected[2 * i + 1] << 8));
    EXPECT_GE(v, 0.75f);
    EXPECT_LE(v, 1.25f);
  }
  // The descriptors are freed once the weights are generated: the arena and
  // the manifest's 13 buffers outside it remain.
  EXPECT_EQ(fake_.live_allocations(), 14);
  s.reset();
  EXPECT_EQ(fake_.live_allocations(), 0);
}

TEST_F(GpuSessionTest, SyntheticWeightsNeedAFillKernel) {
  GpuManifestSpec spec;
  spec.synthetic = true;
  spec.fill_kernel = -1;
  GpuManifest m = BuildGpuManifest(spec);
  auto s = OpenGpuSession(m.manifest(), m.resolver(), {"test.moex"});
  ASSERT_FALSE(s.ok());
  EXPECT_CONTAINS(s.status().message(), "test.moex: weight w is synthetic but manifest.synthetic names no fill "
                                        "kernel (fill_image -1, fill_kernel -1)");

  spec.fill_kernel = 2;
  m = BuildGpuManifest(spec);
  fake_.fail("cuLaunchKernel", 999);
  s = OpenGpuSession(m.manifest(), m.resolver(), {"test.moex"});
  ASSERT_FALSE(s.ok());
  EXPECT_CONTAINS(s.status().message(), "test.moex: generating synthetic buffers[0] (w) bytes [0, +8): ");
  EXPECT_CONTAINS(s.status().message(), "CUDA_ERROR_UNKNOWN");
  EXPECT_EQ(fake_.live_allocations(), 0);
}

TEST_F(GpuSessionTest, LaunchFailureNamesTheDispatch) {
  GpuManifest m = BuildGpuManifest();
  std::unique_ptr<GpuSession> s = Open(m);
  ASSERT_NE(s, nullptr);
  fake_.fail("cuLaunchKernel", 999);
  const int32_t token = 1;
  Status status = s->Prefill(0, &token, 1);
  EXPECT_CONTAINS(status.message(), "prefill dispatch 0 (count): ");
  EXPECT_CONTAINS(status.message(), "CUDA_ERROR_UNKNOWN");
  EXPECT_EQ(s->logits(0), nullptr);
  EXPECT_EQ(s->position(0), 0u);
}

TEST_F(GpuSessionTest, NoDriverIsAClearError) {
  setenv(hal::cuda::kDriverLibraryEnv, "/nonexistent/libcuda.so.1", 1);
  GpuManifest m = BuildGpuManifest();
  auto s = OpenGpuSession(m.manifest(), m.resolver(), {"test.moex"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable);
  EXPECT_CONTAINS(s.status().message(), "moert: CUDA driver /nonexistent/libcuda.so.1 not found (dlopen: ");
  EXPECT_CONTAINS(s.status().message(), "this artifact needs an NVIDIA GPU and its driver");

  setenv(hal::hip::kRuntimeLibraryEnv, "/nonexistent/libamdhip64.so", 1);
  GpuManifestSpec hip;
  hip.target = moex::TargetKind::HIP;
  hip.target_name = "gfx942";
  hip.format = moex::ImageFormat::HSACO;
  m = BuildGpuManifest(hip);
  s = OpenGpuSession(m.manifest(), m.resolver(), {"test.moex"});
  unsetenv(hal::hip::kRuntimeLibraryEnv);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable);
  EXPECT_CONTAINS(s.status().message(), "moert: HIP runtime /nonexistent/libamdhip64.so not found");
}

class HipGpuSessionTest : public moert_fake::FakeGpuTest {
 protected:
  void SetUp() override {
    LoadFake(MOERT_FAKE_HIP_PATH, "moert_fake_hip", "MOERT_FAKE_HIP");
    if (HasFatalFailure()) return;
    fake_.set_device("AMD Instinct MI300X", 9, 4, 1);
    setenv(hal::hip::kRuntimeLibraryEnv, MOERT_FAKE_HIP_PATH, 1);
  }
  void TearDown() override {
    unsetenv(hal::hip::kRuntimeLibraryEnv);
    FakeGpuTest::TearDown();
  }
};

TEST_F(HipGpuSessionTest, RunsOnTheHipHal) {
  GpuManifestSpec hip;
  hip.target = moex::TargetKind::HIP;
  hip.target_name = "gfx942";
  hip.format = moex::ImageFormat::HSACO;
  GpuManifest m = BuildGpuManifest(hip);
  auto s = OpenGpuSession(m.manifest(), m.resolver(), {"test.moex"});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  GpuSession& session = **s;
  EXPECT_CONTAINS(session.description(), "HIP device 0");
  Result<std::vector<int32_t>> out = session.Generate(2, {0, 5}, 3, SamplingParams{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, (std::vector<int32_t>{6, 7, 0}));
  EXPECT_EQ(Count(Log(), "capture echo_rows"), 1);
  EXPECT_EQ(Count(Log(), "replay echo_rows"), 1);
  s->reset();
  EXPECT_EQ(fake_.live_allocations(), 0);
}

TEST_F(HipGpuSessionTest, GeneratesSyntheticWeightsOnTheDevice) {
  GpuManifestSpec hip;
  hip.target = moex::TargetKind::HIP;
  hip.target_name = "gfx942";
  hip.format = moex::ImageFormat::HSACO;
  hip.synthetic = true;
  GpuManifest m = BuildGpuManifest(hip);
  auto s = OpenGpuSession(m.manifest(), m.resolver(), {"test.moex"});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(Count(Log(), "launch synthetic_fill grid=1,1,1 block=256,1,1 shared=0 size=8\n"), 2);
  Result<std::vector<SyntheticRun>> runs = SyntheticWeightRuns(m.manifest(), 0);
  ASSERT_TRUE(runs.ok());
  std::vector<uint8_t> expected(16), got(16);
  GenerateSyntheticBytes(*runs, 0, 16, expected.data());
  ASSERT_TRUE((*s)->device().CopyToHost(got.data(), {(*s)->buffer_address(kW), 16}, 0, 16).ok());
  EXPECT_EQ(got, expected);
}

// moert-run on a CUDA artifact where no driver exists: refused by the driver
// probe with exit code 1 and the HAL's message, for every action that runs
// the model.
TEST(MoertRunGpuTest, CudaArtifactWithoutDriverIsRefused) {
  moert::testing::TestArtifactSpec cuda;
  cuda.target_kind = moex::TargetKind::CUDA;
  cuda.target_name = "sm_90a";
  const std::string path = StrCat(::testing::TempDir(), "/moert_run_gpu_", getpid(), ".moex");
  ASSERT_TRUE(WriteStringToFile(path, moert::testing::BuildTestArtifact(cuda)).ok());
  const std::string err_path = path + ".stderr";
  for (const char* action : {"--tokens 1,2", "--verify", "--bench"}) {
    const std::string command = StrCat("MOERT_CUDA_DRIVER=/nonexistent/libcuda.so.1 ", MOEC_BINARY_DIR,
                                       "/bin/moert-run ", path, " ", action, " >/dev/null 2>", err_path);
    const int status = std::system(command.c_str());
    ASSERT_TRUE(WIFEXITED(status)) << action;
    EXPECT_EQ(WEXITSTATUS(status), 1) << action;
    Result<std::string> err = ReadFileToString(err_path);
    ASSERT_TRUE(err.ok());
    EXPECT_EQ(err->rfind("moert-run: " + path + ": moert: CUDA driver /nonexistent/libcuda.so.1 not found", 0), 0u)
        << action << ": " << *err;
  }
  std::remove(err_path.c_str());
  std::remove(path.c_str());
}

}  // namespace
}  // namespace moert::exec
