#include "exec/session.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "exec/dispatch_trace.h"
#include "toy_model.h"

namespace moert::exec {
namespace {

using moert::testing::BuildToyModel;
using moert::testing::ToyConfig;
using moert::testing::ToyModel;

struct Fixture {
  std::unique_ptr<ToyModel> model;
  std::shared_ptr<const Program> program;
  std::unique_ptr<Session> session;
};

Fixture Make(const ToyConfig& config = {}, uint32_t threads = 2) {
  Fixture f;
  f.model = BuildToyModel(config);
  auto program = Program::Create(f.model->manifest(), f.model->resolver(), {"toy.moex", {}});
  EXPECT_TRUE(program.ok()) << program.status().ToString();
  if (!program.ok()) return f;
  f.program = *program;
  auto session = Session::Create(f.program, {threads});
  EXPECT_TRUE(session.ok()) << session.status().ToString();
  if (session.ok()) f.session = std::move(session).value();
  return f;
}

void ExpectRow(const float* got, const std::vector<float>& want, const std::string& what) {
  ASSERT_NE(got, nullptr) << what;
  for (size_t v = 0; v < want.size(); ++v) EXPECT_EQ(got[v], want[v]) << what << " v=" << v;
}

std::vector<int32_t> Prefix(const std::vector<int32_t>& s, size_t n) {
  return std::vector<int32_t>(s.begin(), s.begin() + n);
}

const int32_t* Ints(const Session& s, uint32_t buffer) {
  return reinterpret_cast<const int32_t*>(s.buffer_data(buffer));
}

TEST(SessionTest, ChunkedPrefillWithPadding) {
  for (uint32_t threads : {1u, 3u}) {
    Fixture f = Make({}, threads);
    ASSERT_TRUE(f.session);
    EXPECT_EQ(f.session->thread_count(), threads);
    // 6 tokens in chunks of 4: the second chunk has 2 padding rows.
    const std::vector<int32_t> prompt = {1, 3, 1, 5, 0, 1};
    std::vector<float> all(prompt.size() * 6, -1.0f);
    ASSERT_TRUE(f.session->Prefill(1, prompt.data(), prompt.size(), all.data()).ok());
    for (size_t i = 0; i < prompt.size(); ++i) {
      ExpectRow(all.data() + i * 6, f.model->ExpectedLogits(Prefix(prompt, i + 1)),
                "row " + std::to_string(i));
    }
    ExpectRow(f.session->logits(1), f.model->ExpectedLogits(prompt), "last");
    EXPECT_EQ(f.session->position(1), 6u);
    EXPECT_EQ(f.session->position(0), 0u);
    EXPECT_EQ(f.session->logits(0), nullptr);
    // The last chunk's inputs: real rows, then padding with position -1 and
    // the same slot.
    const int32_t* tokens = Ints(*f.session, 0);
    const int32_t* positions = Ints(*f.session, 1);
    const int32_t* slots = Ints(*f.session, 2);
    EXPECT_EQ(tokens[0], 0);
    EXPECT_EQ(tokens[1], 1);
    EXPECT_EQ(tokens[2], 0);
    EXPECT_EQ(positions[0], 4);
    EXPECT_EQ(positions[1], 5);
    EXPECT_EQ(positions[2], -1);
    EXPECT_EQ(positions[3], -1);
    for (int r = 0; r < 4; ++r) EXPECT_EQ(slots[r], 1);
  }
}

TEST(SessionTest, PrefillContinuesASequenceAndAnExactChunk) {
  Fixture f = Make();
  ASSERT_TRUE(f.session);
  const std::vector<int32_t> a = {2, 2, 4, 1};  // exactly one chunk
  const std::vector<int32_t> b = {4, 3};
  ASSERT_TRUE(f.session->Prefill(0, a.data(), a.size()).ok());
  ASSERT_TRUE(f.session->Prefill(0, b.data(), b.size()).ok());
  EXPECT_EQ(f.session->position(0), 6u);
  ExpectRow(f.session->logits(0), f.model->ExpectedLogits({2, 2, 4, 1, 4, 3}), "continued");
}

TEST(SessionTest, DecodeAfterPrefillKeepsPositionsPerSlot) {
  for (uint32_t threads : {1u, 2u}) {
    Fixture f = Make({}, threads);
    ASSERT_TRUE(f.session);
    const std::vector<int32_t> s0 = {1, 2}, s2 = {3};
    ASSERT_TRUE(f.session->Prefill(0, s0.data(), s0.size()).ok());
    ASSERT_TRUE(f.session->Prefill(2, s2.data(), s2.size()).ok());

    // Two sequences in one decode batch, in either order.
    const uint32_t slots[2] = {2, 0};
    const int32_t tokens[2] = {4, 5};
    ASSERT_TRUE(f.session->Decode(slots, tokens, 2).ok());
    EXPECT_EQ(f.session->position(0), 3u);
    EXPECT_EQ(f.session->position(2), 2u);
    ExpectRow(f.session->logits(2), f.model->ExpectedLogits({3, 4}), "slot 2");
    ExpectRow(f.session->logits(0), f.model->ExpectedLogits({1, 2, 5}), "slot 0");
    const int32_t* positions = Ints(*f.session, 5);
    EXPECT_EQ(positions[0], 1);
    EXPECT_EQ(positions[1], 2);

    // One sequence: the second row is padding.
    const uint32_t one_slot = 0;
    const int32_t one_token = 0;
    ASSERT_TRUE(f.session->Decode(&one_slot, &one_token, 1).ok());
    ExpectRow(f.session->logits(0), f.model->ExpectedLogits({1, 2, 5, 0}), "slot 0 again");
    ExpectRow(f.session->logits(2), f.model->ExpectedLogits({3, 4}), "slot 2 unchanged");
    EXPECT_EQ(positions[0], 3);
    EXPECT_EQ(positions[1], -1);
    EXPECT_EQ(Ints(*f.session, 6)[1], 0);  // padding slot = the first row's

    // Slot 1 was never used: its part of the KV cache is still zero.
    const float* cache = reinterpret_cast<const float*>(f.session->buffer_data(8));
    const size_t per_slot = 10 * 6;
    for (size_t i = 0; i < per_slot; ++i) ASSERT_EQ(cache[per_slot + i], 0.0f) << i;
  }
}

TEST(SessionTest, ResetSlotStartsANewSequence) {
  Fixture f = Make();
  ASSERT_TRUE(f.session);
  const std::vector<int32_t> first = {5, 5, 5, 5, 5}, second = {1, 2};
  ASSERT_TRUE(f.session->Prefill(0, first.data(), first.size()).ok());
  ASSERT_TRUE(f.session->ResetSlot(0).ok());
  EXPECT_EQ(f.session->position(0), 0u);
  EXPECT_EQ(f.session->logits(0), nullptr);
  ASSERT_TRUE(f.session->Prefill(0, second.data(), second.size()).ok());
  ExpectRow(f.session->logits(0), f.model->ExpectedLogits(second), "after reset");
  EXPECT_FALSE(f.session->ResetSlot(3).ok());
}

TEST(SessionTest, ContextLimitErrors) {
  Fixture f = Make();  // max_context 10
  ASSERT_TRUE(f.session);
  std::vector<int32_t> eleven(11, 1);
  Status s = f.session->Prefill(0, eleven.data(), eleven.size());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
  EXPECT_EQ(s.message(), "prompt of 11 tokens exceeds the artifact's context of 10");
  EXPECT_EQ(f.session->position(0), 0u);

  std::vector<int32_t> eight(8, 2), three(3, 2);
  ASSERT_TRUE(f.session->Prefill(0, eight.data(), eight.size()).ok());
  s = f.session->Prefill(0, three.data(), three.size());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "slot 0 holds 8 tokens; 3 more would exceed the artifact's context of 10");

  const uint32_t slot = 0;
  const int32_t token = 1;
  ASSERT_TRUE(f.session->Decode(&slot, &token, 1).ok());
  ASSERT_TRUE(f.session->Decode(&slot, &token, 1).ok());
  EXPECT_EQ(f.session->position(0), 10u);
  s = f.session->Decode(&slot, &token, 1);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
  EXPECT_NE(s.message().find("slot 0 is full"), std::string::npos) << s.ToString();
}

TEST(SessionTest, BadArgumentsAreRefusedWithoutSideEffects) {
  Fixture f = Make();
  ASSERT_TRUE(f.session);
  const int32_t bad_token = 6;
  Status s = f.session->Prefill(0, &bad_token, 1);
  EXPECT_NE(s.message().find("token 0 = 6 is outside the vocabulary of 6"), std::string::npos) << s.ToString();
  const int32_t token = 1;
  s = f.session->Prefill(3, &token, 1);
  EXPECT_NE(s.message().find("slot 3 is past the artifact's 3 slots"), std::string::npos) << s.ToString();
  EXPECT_FALSE(f.session->Prefill(0, &token, 0).ok());
  const uint32_t dup[2] = {1, 1};
  const int32_t two[2] = {1, 2};
  s = f.session->Decode(dup, two, 2);
  EXPECT_NE(s.message().find("slot 1 appears twice"), std::string::npos) << s.ToString();
  const uint32_t three_slots[3] = {0, 1, 2};
  const int32_t three_tokens[3] = {1, 1, 1};
  s = f.session->Decode(three_slots, three_tokens, 3);
  EXPECT_NE(s.message().find("batch of 3 sequences exceeds the artifact's 2 decode rows"),
            std::string::npos) << s.ToString();
  for (uint32_t slot = 0; slot < 3; ++slot) EXPECT_EQ(f.session->position(slot), 0u);
}

TEST(SessionTest, GreedyGenerationFollowsTheHandComputedModel) {
  Fixture f = Make();
  ASSERT_TRUE(f.session);
  const std::vector<int32_t> prompt = {1, 2};
  auto out = f.session->Generate(1, prompt, 5, SamplingParams{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // Reference: argmax of the expected logits, fed back.
  std::vector<int32_t> seq = prompt, want;
  for (int i = 0; i < 5; ++i) {
    std::vector<float> l = f.model->ExpectedLogits(seq);
    int32_t best = 0;
    for (int32_t v = 1; v < 6; ++v) if (l[v] > l[best]) best = v;
    want.push_back(best);
    seq.push_back(best);
  }
  EXPECT_EQ(*out, want);
  EXPECT_EQ(f.session->position(1), 2u + 4u);  // the last sampled token is not fed

  // A stop token ends generation and is included.
  ASSERT_TRUE(f.session->ResetSlot(1).ok());
  auto stopped = f.session->Generate(1, prompt, 5, SamplingParams{}, {want[0]});
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(*stopped, Prefix(want, 1));
  EXPECT_EQ(f.session->position(1), 2u);

  // A full context ends generation without an error.
  ASSERT_TRUE(f.session->ResetSlot(1).ok());
  auto full = f.session->Generate(1, {1, 1, 1, 1, 1, 1, 1, 1}, 50, SamplingParams{});
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_EQ(full->size(), 3u);
  EXPECT_EQ(f.session->position(1), 10u);
}

// A traced session records, per call, the ACTIVATION and OUTPUT bindings each
// dispatch changed (not the KV cache kv_write fills), and traces of the same
// calls compare identical, before and after a save and load; another decoded
// token shows in that call's writes only.
TEST(SessionTest, TraceRecordsWhatEachDispatchWrites) {
  const std::vector<int32_t> prompt = {1, 2, 3, 1, 2};  // two prefill chunks of 4 rows
  auto traced_run = [&](int32_t decoded, DispatchTrace* trace) {
    Fixture f = Make();
    EXPECT_TRUE(f.session);
    if (!f.session) return f;
    f.session->set_trace(trace);
    EXPECT_TRUE(f.session->Prefill(0, prompt.data(), prompt.size()).ok());
    const uint32_t slot = 0;
    EXPECT_TRUE(f.session->Decode(&slot, &decoded, 1).ok());
    f.session->set_trace(nullptr);
    EXPECT_TRUE(f.session->Decode(&slot, &decoded, 1).ok());  // not traced
    return f;
  };
  DispatchTrace trace;
  Fixture f = traced_run(4, &trace);
  EXPECT_EQ(trace.calls(), 3u);
  std::vector<std::string> names;
  for (const DispatchTrace::Write& w : trace.writes()) names.push_back(w.name);
  EXPECT_EQ(names, (std::vector<std::string>{"call 0/attend/binding 3", "call 0/logits/binding 2",
                                             "call 1/attend/binding 3", "call 1/logits/binding 2",
                                             "call 2/attend/binding 3", "call 2/logits/binding 2"}));
  // The decode's logits binding as it was after that call: row 0 is the
  // sequence's logits.
  std::vector<int32_t> sequence = prompt;
  sequence.push_back(4);
  const std::vector<uint8_t>& decode_logits = trace.writes().back().bytes;
  ASSERT_EQ(decode_logits.size(), 2u * 6 * sizeof(float));
  ExpectRow(reinterpret_cast<const float*>(decode_logits.data()), f.model->ExpectedLogits(sequence), "decode");

  DispatchTrace again, other_token;
  traced_run(4, &again);
  traced_run(5, &other_token);
  for (const WriteComparison& c : CompareTraces(again, trace)) {
    EXPECT_EQ(c.relative_error, 0.0) << c.name;
    EXPECT_EQ(c.mismatch, nullptr) << c.name;
  }
  for (const WriteComparison& c : CompareTraces(other_token, trace)) {
    EXPECT_EQ(c.relative_error > 0, c.name.rfind("call 2/", 0) == 0) << c.name;
  }

  const std::string path = ::testing::TempDir() + "/session_test.trace";
  ASSERT_TRUE(trace.Save(path).ok());
  Result<DispatchTrace> loaded = DispatchTrace::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->calls(), 3u);
  const std::vector<WriteComparison> round_trip = CompareTraces(*loaded, trace);
  ASSERT_EQ(round_trip.size(), 6u);
  for (const WriteComparison& c : round_trip) EXPECT_EQ(c.relative_error, 0.0) << c.name;

  // Writes one trace lacks are named, both ways.
  DispatchTrace prefill_only;
  {
    Fixture g = Make();
    ASSERT_TRUE(g.session);
    g.session->set_trace(&prefill_only);
    ASSERT_TRUE(g.session->Prefill(0, prompt.data(), prompt.size()).ok());
  }
  std::vector<std::string> missing;
  for (const WriteComparison& c : CompareTraces(prefill_only, trace)) {
    if (c.mismatch) missing.push_back(c.name + ": " + c.mismatch);
  }
  for (const WriteComparison& c : CompareTraces(trace, prefill_only)) {
    if (c.mismatch) missing.push_back(c.name + ": " + c.mismatch);
  }
  EXPECT_EQ(missing, (std::vector<std::string>{"call 2/attend/binding 3: written only in the reference trace",
                                               "call 2/logits/binding 2: written only in the reference trace",
                                               "call 2/attend/binding 3: written only in this run",
                                               "call 2/logits/binding 2: written only in this run"}));
  EXPECT_NE(DispatchTrace::Load(path + ".missing").status().message().find("session_test.trace.missing"),
            std::string::npos);
}

TEST(SessionTest, SampledGenerationIsReproducibleAcrossSessionsAndThreads) {
  SamplingParams params;
  params.temperature = 3.0f;
  params.top_p = 0.95f;
  params.seed = 77;
  std::vector<std::vector<int32_t>> runs;
  for (uint32_t threads : {1u, 2u, 4u}) {
    Fixture f = Make({}, threads);
    ASSERT_TRUE(f.session);
    auto out = f.session->Generate(0, {0, 3}, 7, params);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    runs.push_back(*out);
  }
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_EQ(runs[0], runs[2]);
  Fixture f = Make();
  EXPECT_FALSE(f.session->Generate(0, {0}, 3, {-1.0f, 1.0f, 0}).ok());
  Sampler sampler = std::move(Sampler::Create(6, {})).value();
  Result<int32_t> no_logits = f.session->Sample(2, sampler);
  ASSERT_FALSE(no_logits.ok());
  EXPECT_NE(no_logits.status().message().find("no logits yet"), std::string::npos);
}

Status CreateError(const ToyConfig& config) {
  auto model = BuildToyModel(config);
  auto program = Program::Create(model->manifest(), model->resolver(), {"toy.moex", {}});
  return program.ok() ? Status::Ok() : program.status();
}

TEST(ProgramTest, EveryBindingIsCheckedOnce) {
  ToyConfig config;
  config.binding_past_buffer = true;
  Status s = CreateError(config);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("toy.moex"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("entry_points[0] (prefill).dispatches[2] (logits).bindings[1] = [4, +24) "
                             "exceeds buffers[10] (lm_scale) of 24 bytes"),
            std::string::npos) << s.ToString();
}

TEST(ProgramTest, RefusesBrokenManifests) {
  {
    ToyConfig config;
    config.missing_symbol = true;
    Status s = CreateError(config);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("image 0 (segment 1)"), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find("'moert_toy_no_such_kernel'"), std::string::npos) << s.ToString();
  }
  {
    ToyConfig config;
    config.weight_segment_out_of_range = true;
    Status s = CreateError(config);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("weight embed.weight names segment 7 past the 2 segments"),
              std::string::npos) << s.ToString();
  }
  {
    ToyConfig config;
    config.arena_too_small = true;
    Status s = CreateError(config);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("buffers[11] (hidden) = [64, +96) exceeds the activation arena of 64 bytes"),
              std::string::npos) << s.ToString();
  }
  {
    ToyConfig config;
    config.target = moex::TargetKind::CUDA;
    Status s = CreateError(config);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
    EXPECT_NE(s.message().find("CUDA"), std::string::npos) << s.ToString();
  }
}

TEST(ProgramTest, MissingEntryPointIsReportedWhenUsed) {
  ToyConfig config;
  config.with_decode = false;
  Fixture f = Make(config);
  ASSERT_TRUE(f.session);
  EXPECT_EQ(f.program->decode(), nullptr);
  const uint32_t slot = 0;
  const int32_t token = 1;
  Status s = f.session->Decode(&slot, &token, 1);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("has no \"decode\" entry point"), std::string::npos) << s.ToString();
}

TEST(ProgramTest, SessionsShareOneProgram) {
  Fixture f = Make();
  ASSERT_TRUE(f.session);
  auto other = Session::Create(f.program, {1});
  ASSERT_TRUE(other.ok());
  const int32_t a = 1, b = 2;
  ASSERT_TRUE(f.session->Prefill(0, &a, 1).ok());
  ASSERT_TRUE((*other)->Prefill(0, &b, 1).ok());
  ExpectRow(f.session->logits(0), f.model->ExpectedLogits({1}), "first session");
  ExpectRow((*other)->logits(0), f.model->ExpectedLogits({2}), "second session");
}

}  // namespace
}  // namespace moert::exec
