// moert-run: opens a .moex artifact and acts on it.
//
//   moert-run ARTIFACT            verifies the artifact and checks that this host
//                                 can run its target
//   moert-run ARTIFACT --inspect  prints what the artifact holds
//   moert-run ARTIFACT --tokens 1,2,3 [--generate N] [--temperature T --top-p P
//             --seed S] [--out FILE.safetensors]
//                                 runs the prompt (and generates) on the CPU, or
//                                 on the GPU for a CUDA or HIP artifact
//   moert-run ARTIFACT --verify   runs the self-test probe and checks checksums
//   moert-run ARTIFACT --bench    prefill and decode speed, weight bandwidth
//   moert-run ARTIFACT --prompt "..." [--reasoning low|medium|high] [--system "..."]
//             [--tools tools.json] [--show-analysis] [--max-tokens N] [--chat]
//                                 chats in the harmony format (--chat: one user
//                                 message per stdin line)
//
// Every artifact is verified once when opened; a damaged one is refused with a
// message on stderr and exit code 1. Actions are rows of the table in Actions():
// add a flag there and a function beside the others.
#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>

#include "artifact/artifact.h"
#include "artifact/synthetic.h"
#include "base/flags.h"
#include "base/safetensors.h"
#include "base/tensor_compare.h"
#include "chat/chat.h"
#include "harmony/tool_schema.h"
#include "exec/dispatch_trace.h"
#include "exec/gpu_session.h"
#include "exec/runner.h"
#include "exec/sampler.h"
#include "exec/session.h"

namespace moert {
namespace {

std::vector<FlagSpec> Flags() {
  return {
      {"inspect", false, "", "print target, model, segments, weights, images and kernels, "
                             "buffers and each entry point's dispatches"},
      {"tokens", true, "IDS", "run this prompt (comma-separated token ids) and print or save the result"},
      {"generate", true, "N", "with --tokens: generate N tokens after the prompt"},
      {"temperature", true, "T", "sampling temperature (default 0: greedy)"},
      {"top-p", true, "P", "nucleus sampling threshold in (0, 1] (default 1)"},
      {"seed", true, "S", "sampling seed (default 0)"},
      {"out", true, "FILE", "with --tokens: write logits f32 [T, vocab] and generated i32 [N] to FILE"},
      {"compare", true, "FILE", "with --tokens (or alone, taking FILE's input_ids as the prompt): compare the "
                                "prompt's logits with FILE's `logits`"},
      {"tolerance", true, "X", "relative error --compare allows (default 1e-4)"},
      {"stepwise", false, "", "run the prompt one token at a time through the decode plan"},
      {"trace", true, "FILE", "with --tokens: save what every dispatch writes (activations, logits) to FILE, "
                              "for --compare-trace in another run"},
      {"compare-trace", true, "FILE", "with --tokens: compare what every dispatch writes with FILE's trace (the "
                                      "same tokens on another target or executor) and name the first write "
                                      "further than --trace-tolerance"},
      {"trace-tolerance", true, "X", "relative error --compare-trace allows per write (default 1e-3)"},
      {"verify", false, "", "run the self-test probe and check every segment's checksum"},
      {"bench", false, "", "measure prefill and decode tokens/s and the weight bandwidth"},
      {"bench-tokens", true, "N", "with --bench: tokens to decode (default 64)"},
      {"bench-context", true, "N", "with --bench: prompt tokens prefilled before decoding (default: --bench-tokens)"},
      {"profile", false, "", "with --bench: time every kernel of the decode step (CPU or GPU) and, on the "
                             "CPU, of a prefill chunk"},
      {"threads", true, "N", "worker threads (default: one per core)"},
      {"prompt", true, "TEXT", "chat: render TEXT as the user's message (harmony), generate the assistant's turn "
                               "and stream its final answer to stdout; stats on stderr"},
      {"chat", false, "", "chat interactively: one user message per stdin line until EOF (after --prompt's turn)"},
      {"system", true, "TEXT", "chat: the developer message's instructions"},
      {"reasoning", true, "EFFORT", "chat: reasoning effort low, medium or high (default medium)"},
      {"tools", true, "FILE", "chat: function tools (JSON array of {name, description, parameters}) the model may "
                              "call; each call is printed as one JSON line"},
      {"show-analysis", false, "", "chat: show the chain of thought (analysis channel) on stderr"},
      {"max-tokens", true, "N", "chat: tokens to generate per turn at most (default 256)"},
      {"print-prompt-ids", false, "", "chat: print the rendered prompt's token ids instead of generating"},
      {"help", false, "", "print this help", 'h'},
  };
}

exec::SegmentResolver Segments(const Artifact& artifact) {
  return [&artifact](uint32_t index) -> Result<exec::SegmentBytes> {
    if (index >= artifact.num_segments()) return OutOfRange("segment ", index, " does not exist");
    ByteSpan span = artifact.segment(index);
    return exec::SegmentBytes{span.data, span.size};
  };
}

// The executor over an opened artifact: loads the device images and checks
// every size once.
Result<std::shared_ptr<const exec::Program>> LoadProgram(const Artifact& artifact) {
  MOERT_RETURN_IF_ERROR(artifact.CheckTargetRunsOnHost());
  exec::ProgramOptions options;
  options.source = artifact.source();
  return exec::Program::Create(artifact.manifest(), Segments(artifact), options);
}

bool TargetsGpu(const Artifact& artifact) {
  const moex::TargetKind kind = artifact.manifest().target()->kind();
  return kind == moex::TargetKind::CUDA || kind == moex::TargetKind::HIP;
}

// Whether this host can run the artifact: the CPU's features for a CPU
// artifact; for a GPU artifact, that its HAL opens GPU 0 and finds the
// target's architecture (the device is closed again).
Status CheckHostRuns(const Artifact& artifact) {
  if (!TargetsGpu(artifact)) return artifact.CheckTargetRunsOnHost();
  return exec::OpenGpuDevice(*artifact.manifest().target(), 0).status();
}

Result<std::unique_ptr<exec::Session>> NewSession(const std::shared_ptr<const exec::Program>& program,
                                                  const ParsedFlags& flags) {
  MOERT_ASSIGN_OR_RETURN(int64_t threads, flags.GetInt("threads", 0, 0, 4096));
  exec::SessionOptions options;
  options.threads = static_cast<uint32_t>(threads);
  options.profile = flags.Has("profile");
  return exec::Session::Create(program, options);
}

// What --tokens, --verify, --bench and the chat run: a GPU session on device 0 for a
// CUDA or HIP artifact (refused by the driver probe where there is none),
// else a CPU session.
Result<std::unique_ptr<exec::Runner>> NewRunner(const Artifact& artifact, const ParsedFlags& flags) {
  if (TargetsGpu(artifact)) {
    exec::GpuSessionOptions options;
    options.source = artifact.source();
    MOERT_ASSIGN_OR_RETURN(std::unique_ptr<exec::GpuSession> session,
                           exec::OpenGpuSession(artifact.manifest(), Segments(artifact), options));
    return std::unique_ptr<exec::Runner>(std::move(session));
  }
  MOERT_ASSIGN_OR_RETURN(std::shared_ptr<const exec::Program> program, LoadProgram(artifact));
  MOERT_ASSIGN_OR_RETURN(std::unique_ptr<exec::Session> session, NewSession(program, flags));
  return std::unique_ptr<exec::Runner>(std::make_unique<exec::SessionRunner>(std::move(session)));
}


// --compare-trace: every write of `want` against this run's, one line per
// write of the first call and one per later call (its largest error), then
// the first write over `tolerance`, if any, which fails the check.
Status CheckTraceAgainst(const exec::DispatchTrace& got, const exec::DispatchTrace& want, const std::string& path,
                         double tolerance) {
  const std::vector<exec::WriteComparison> compared = exec::CompareTraces(got, want);
  std::printf("dispatch writes vs %s (%u calls here, %u there; relative error per write):\n", path.c_str(),
              got.calls(), want.calls());
  const exec::WriteComparison* first_over = nullptr;
  const exec::WriteComparison* worst = nullptr;
  const exec::WriteComparison* call_worst = nullptr;
  std::string call;
  auto print_call_worst = [&] {
    if (call_worst != nullptr) {
      std::printf("  %-64s %.3g (the call's largest)\n", call_worst->name.c_str(), call_worst->relative_error);
    }
  };
  for (const exec::WriteComparison& c : compared) {
    // "call N/kernel/binding B": the first call's writes one by one.
    const std::string this_call = c.name.substr(0, c.name.find('/'));
    const bool over = !(c.relative_error <= tolerance);  // NaN is over
    if (over && first_over == nullptr) first_over = &c;
    if (worst == nullptr || !(c.relative_error <= worst->relative_error)) worst = &c;
    if (this_call == "call 0") {
      std::printf("  %-64s %10" PRIu64 " values  %.3g%s%s\n", c.name.c_str(), c.values, c.relative_error,
                  c.mismatch ? ": " : "", c.mismatch ? c.mismatch : "");
      continue;
    }
    if (this_call != call) {
      print_call_worst();
      call = this_call;
      call_worst = nullptr;
    }
    if (call_worst == nullptr || !(c.relative_error <= call_worst->relative_error)) call_worst = &c;
  }
  print_call_worst();
  if (compared.empty()) return FailedPrecondition("no dispatch wrote anything in either trace");
  if (first_over != nullptr) {
    std::printf("trace vs %s: first write over %g: %s (relative error %.3g%s%s): FAIL\n", path.c_str(), tolerance,
                first_over->name.c_str(), first_over->relative_error, first_over->mismatch ? ", " : "",
                first_over->mismatch ? first_over->mismatch : "");
    return DataLoss("dispatch ", first_over->name, " differs from ", path, " by ", first_over->relative_error,
                    " (tolerance ", tolerance, ")");
  }
  if (worst->relative_error == 0) {
    std::printf("trace vs %s: %zu writes, every one identical: PASS\n", path.c_str(), compared.size());
  } else {
    std::printf("trace vs %s: %zu writes, largest relative error %.3g at %s (tolerance %g): PASS\n", path.c_str(),
                compared.size(), worst->relative_error, worst->name.c_str(), tolerance);
  }
  return Status::Ok();
}

Status RunTokens(const Artifact& artifact, const ParsedFlags& flags) {
  MOERT_ASSIGN_OR_RETURN(std::unique_ptr<exec::Runner> session, NewRunner(artifact, flags));
  // Tracing: the reference trace is read before anything runs.
  const bool tracing = flags.Has("trace") || flags.Has("compare-trace");
  std::optional<exec::DispatchTrace> reference_trace;
  if (flags.Has("compare-trace")) {
    MOERT_ASSIGN_OR_RETURN(reference_trace, exec::DispatchTrace::Load(flags.GetString("compare-trace")));
  }
  MOERT_ASSIGN_OR_RETURN(double trace_tolerance, flags.GetDouble("trace-tolerance", 1e-3, 0, 1e30));
  exec::DispatchTrace trace;
  if (tracing) session->set_trace(&trace);
  const uint32_t vocab = session->vocab_size();
  std::optional<SafetensorsFile> expected;
  if (flags.Has("compare")) {
    MOERT_ASSIGN_OR_RETURN(expected, SafetensorsFile::Open(flags.GetString("compare")));
  }
  std::vector<int64_t> ids;
  if (flags.Has("tokens")) {
    MOERT_ASSIGN_OR_RETURN(ids, ParseIntList(flags.GetString("tokens"), 0, vocab - 1, "--tokens"));
  } else {
    MOERT_ASSIGN_OR_RETURN(ids, ReadTokenIds(*expected, "input_ids", vocab));
  }
  MOERT_ASSIGN_OR_RETURN(int64_t generate, flags.GetInt("generate", 0, 0, session->max_context()));
  exec::SamplingParams params;
  MOERT_ASSIGN_OR_RETURN(double temperature, flags.GetDouble("temperature", 0, 0, 1e6));
  MOERT_ASSIGN_OR_RETURN(double top_p, flags.GetDouble("top-p", 1, 0, 1));
  MOERT_ASSIGN_OR_RETURN(int64_t seed, flags.GetInt("seed", 0, 0, INT64_MAX));
  params.temperature = static_cast<float>(temperature);
  params.top_p = static_cast<float>(top_p);
  params.seed = static_cast<uint64_t>(seed);
  MOERT_RETURN_IF_ERROR(exec::ValidateSamplingParams(params));
  if (ids.size() + static_cast<uint64_t>(generate) > session->max_context()) {
    return OutOfRange("prompt of ", ids.size(), " tokens plus --generate ", generate,
                      " exceeds the artifact's context of ", session->max_context());
  }
  std::vector<int32_t> prompt(ids.begin(), ids.end());
  std::vector<float> logits(prompt.size() * vocab);
  if (flags.Has("stepwise")) {
    for (size_t i = 0; i < prompt.size(); ++i) {
      const uint32_t slot = 0;
      MOERT_RETURN_IF_ERROR(session->Decode(&slot, &prompt[i], 1));
      std::memcpy(&logits[i * vocab], session->logits(0), vocab * sizeof(float));
    }
  } else {
    MOERT_RETURN_IF_ERROR(session->Prefill(0, prompt.data(), prompt.size(), logits.data()));
  }
  // A failed logits check still reports the trace, which says where it went
  // wrong.
  Status logits_check = Status::Ok();
  if (expected) {
    MOERT_ASSIGN_OR_RETURN(double tolerance, flags.GetDouble("tolerance", 1e-4, 0, 1));
    logits_check = CheckLogitsAgainstFile(*expected, logits, static_cast<int64_t>(prompt.size()), vocab, tolerance);
    if (!logits_check.ok() && !tracing) return logits_check;
  }
  std::vector<int32_t> generated;
  if (generate > 0) {
    MOERT_ASSIGN_OR_RETURN(exec::Sampler sampler, exec::Sampler::Create(vocab, params));
    for (int64_t n = 0; n < generate; ++n) {
      MOERT_ASSIGN_OR_RETURN(int32_t next, session->Sample(0, sampler));
      generated.push_back(next);
      if (n + 1 == generate) break;
      const uint32_t slot = 0;
      MOERT_RETURN_IF_ERROR(session->Decode(&slot, &next, 1));
    }
  }
  session->set_trace(nullptr);
  if (flags.Has("trace")) MOERT_RETURN_IF_ERROR(trace.Save(flags.GetString("trace")));
  if (reference_trace) {
    MOERT_RETURN_IF_ERROR(
        CheckTraceAgainst(trace, *reference_trace, flags.GetString("compare-trace"), trace_tolerance));
  }
  MOERT_RETURN_IF_ERROR(logits_check);
  const std::string out = flags.GetString("out");
  if (!out.empty()) {
    std::vector<TensorSpec> specs = {{"logits", DType::kF32, {static_cast<int64_t>(prompt.size()), vocab}}};
    std::vector<const void*> data = {logits.data()};
    if (flags.Has("generate")) {
      specs.push_back({"generated", DType::kI32, {static_cast<int64_t>(generated.size())}});
      data.push_back(generated.data());
    }
    return WriteSafetensors(out, specs, data, {{"producer", "moert-run"}});
  }
  if (flags.Has("generate")) {
    std::string line;
    for (size_t i = 0; i < generated.size(); ++i) line += (i ? "," : "") + std::to_string(generated[i]);
    std::printf("%s\n", line.c_str());
  } else {
    const float* last = &logits[(prompt.size() - 1) * vocab];
    uint32_t best = 0;
    for (uint32_t v = 1; v < vocab; ++v) best = last[v] > last[best] ? v : best;
    std::printf("next token: %u\n", best);
  }
  return Status::Ok();
}

Status Verify(const Artifact& artifact, const ParsedFlags& flags) {
  MOERT_RETURN_IF_ERROR(artifact.VerifySegmentChecksums());
  const moex::Probe* probe = artifact.manifest().probe();
  if (probe == nullptr || probe->tokens() == nullptr || probe->tokens()->size() == 0) {
    if (artifact.manifest().synthetic() != nullptr) {
      uint64_t bytes = 0;
      for (uint32_t i = 0; i < artifact.num_weights(); ++i) bytes += artifact.weight(i).size();
      return FailedPrecondition(artifact.source(), ": the artifact has no self-test probe: its weights are synthetic "
                                "(seed ", artifact.manifest().synthetic()->seed(), ") and, at ", bytes,
                                " bytes, too large for the compiler's reference executor; only the segment "
                                "checksums were verified");
    }
    return FailedPrecondition(artifact.source(), ": the artifact has no self-test probe");
  }
  MOERT_ASSIGN_OR_RETURN(std::unique_ptr<exec::Runner> session, NewRunner(artifact, flags));
  std::vector<int32_t> tokens(probe->tokens()->begin(), probe->tokens()->end());
  std::vector<float> logits(tokens.size() * session->vocab_size());
  MOERT_RETURN_IF_ERROR(session->Prefill(0, tokens.data(), tokens.size(), logits.data()));
  ByteSpan expected = artifact.segment(probe->logits_segment());
  std::vector<float> want(logits.size());
  std::memcpy(want.data(), expected.data, want.size() * sizeof(float));  // size checked at open
  const double error = RelativeError(logits.data(), want.data(), logits.size());
  const bool pass = error <= probe->tolerance();
  std::printf("probe: %zu tokens, relative error %.3e (tolerance %.1e): %s\n", tokens.size(), error,
              static_cast<double>(probe->tolerance()), pass ? "PASS" : "FAIL");
  if (!pass) {
    return DataLoss(artifact.source(), ": the self-test probe's logits differ by ", error, " relative, above ",
                    probe->tolerance());
  }
  return Status::Ok();
}

// Bytes of weights one decode step reads: every weight once, except the
// experts, of which only the routed top-k of E are read.
double WeightBytesPerDecodedToken(const Artifact& artifact) {
  const moex::Manifest& m = artifact.manifest();
  const double experts = m.model()->num_experts(), top_k = m.model()->experts_per_token();
  double bytes = 0;
  for (uint32_t i = 0; i < artifact.num_weights(); ++i) {
    const moex::Weight& w = artifact.weight(i);
    const std::string name = w.name()->str();
    const bool expert = name.find(".mlp.experts.") != std::string::npos;
    const bool embedding = name == "model.embed_tokens.weight";  // one row per token
    if (embedding) continue;
    bytes += expert ? static_cast<double>(w.size()) * std::min(1.0, top_k / experts) : static_cast<double>(w.size());
  }
  return bytes;
}

// This machine's memory-copy bandwidth (read + write counted), copying with
// as many threads as the session uses, as the decode step reads.
double MeasureCopyBandwidth(uint32_t threads) {
  const size_t size = size_t{512} << 20;
  std::vector<uint8_t> a(size, 1), b(size, 0);
  double best = 0;
  for (int round = 0; round < 3; ++round) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    const size_t slice = size / threads;
    for (uint32_t t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] { std::memcpy(b.data() + t * slice, a.data() + t * slice, slice); });
    }
    for (std::thread& w : workers) w.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, 2.0 * static_cast<double>(slice * threads) / s);
    a[static_cast<size_t>(round)] = b[size - 1 - static_cast<size_t>(round)];  // keep the copies observable
  }
  return best;
}

// One row of a step profile: a dispatch and its time per call.
struct ProfileRow {
  const moex::Dispatch* dispatch;
  double seconds;
};

// Prints the rows, slowest first, with their share of the step.
void PrintProfileRows(const Artifact& artifact, const char* title, std::vector<ProfileRow> rows) {
  double total = 0;
  for (const ProfileRow& r : rows) total += r.seconds;
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.seconds > b.seconds; });
  std::printf("%s (%zu dispatches, %.1f us per step):\n", title, rows.size(), 1e6 * total);
  std::printf("  %-44s %10s %7s %5s\n", "kernel", "us/call", "share", "wgs");
  for (const ProfileRow& r : rows) {
    const moex::Kernel* k =
        artifact.manifest().images()->Get(r.dispatch->image())->kernels()->Get(r.dispatch->kernel());
    std::printf("  %-44s %10.2f %6.1f%% %5u\n", k->name()->c_str(), 1e6 * r.seconds, 100.0 * r.seconds / total,
                r.dispatch->workgroups_x());
  }
}

// The CPU session's per-kernel times: a prefill call (one chunk) and a
// decode step, each averaged over the calls the bench made.
void PrintCpuProfiles(const Artifact& artifact, const exec::Session& session) {
  for (const char* entry : {"prefill", "decode"}) {
    std::vector<ProfileRow> rows;
    for (const exec::DispatchProfile& p : session.profile()) {
      if (p.calls == 0 || p.entry == nullptr || p.entry->name()->str() != entry) continue;
      rows.push_back({p.entry->dispatches()->Get(p.dispatch), p.seconds / static_cast<double>(p.calls)});
    }
    if (!rows.empty()) PrintProfileRows(artifact, StrCat(entry, " step profile").c_str(), std::move(rows));
  }
}

// Per-kernel device times of one decode step (GpuSession::ProfileDecodeDispatches:
// each launch timed alone, replayed from a graph). Run last: it leaves the
// step's activations unspecified.
Status PrintGpuDecodeProfile(const Artifact& artifact, exec::GpuSession& gpu) {
  constexpr uint32_t kRepeats = 50;
  MOERT_ASSIGN_OR_RETURN(std::vector<double> seconds, gpu.ProfileDecodeDispatches(kRepeats));
  const auto* entries = artifact.manifest().entry_points();
  for (uint32_t e = 0; entries != nullptr && e < entries->size(); ++e) {
    const moex::EntryPoint* ep = entries->Get(e);
    if (ep->name() == nullptr || ep->name()->str() != "decode") continue;
    std::vector<ProfileRow> rows;
    for (size_t i = 0; i < seconds.size() && i < ep->dispatches()->size(); ++i) {
      rows.push_back({ep->dispatches()->Get(static_cast<uint32_t>(i)), seconds[i]});
    }
    PrintProfileRows(artifact, "decode step profile on the device, each kernel timed alone", std::move(rows));
  }
  return Status::Ok();
}

Status Bench(const Artifact& artifact, const ParsedFlags& flags) {
  MOERT_ASSIGN_OR_RETURN(std::unique_ptr<exec::Runner> session, NewRunner(artifact, flags));
  // The CPU session behind the runner (threads, profile); null on a GPU.
  const exec::Session* cpu = session->cpu_session();
  const int64_t max_context = session->max_context();
  MOERT_ASSIGN_OR_RETURN(int64_t n, flags.GetInt("bench-tokens", 64, 1, max_context - 1));
  MOERT_ASSIGN_OR_RETURN(int64_t context, flags.GetInt("bench-context", n, 1, max_context - 1));
  if (context + n > max_context) {
    return InvalidArgument("--bench-context ", context, " plus --bench-tokens ", n,
                           " exceed the artifact's context of ", max_context, " tokens");
  }
  const uint32_t vocab = session->vocab_size();
  std::vector<int32_t> prompt;
  for (int64_t i = 0; i < context; ++i) prompt.push_back(static_cast<int32_t>((i * 7919 + 13) % vocab));
  const uint32_t slot = 0;
  // Warm-up, not timed: the first launches load and may JIT-compile the
  // device code, and a GPU's second decode captures its graph.
  MOERT_RETURN_IF_ERROR(session->Prefill(0, prompt.data(), std::min<size_t>(prompt.size(), 16)));
  for (int i = 0; i < 2; ++i) MOERT_RETURN_IF_ERROR(session->Decode(&slot, &prompt[0], 1));
  MOERT_RETURN_IF_ERROR(session->ResetSlot(0));

  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  MOERT_RETURN_IF_ERROR(session->Prefill(0, prompt.data(), prompt.size()));
  const double prefill_s = std::chrono::duration<double>(Clock::now() - start).count();
  int32_t token = prompt.back();
  start = Clock::now();
  for (int64_t i = 0; i < n; ++i) {
    MOERT_RETURN_IF_ERROR(session->Decode(&slot, &token, 1));
    const float* logits = session->logits(0);
    int32_t best = 0;
    for (uint32_t v = 1; v < vocab; ++v) best = logits[v] > logits[best] ? static_cast<int32_t>(v) : best;
    token = best;
  }
  const double decode_s = std::chrono::duration<double>(Clock::now() - start).count();
  const double per_token = WeightBytesPerDecodedToken(artifact);
  const double decode_tps = n / decode_s;
  if (cpu) {
    std::printf("threads: %u\n", cpu->thread_count());
  } else {
    std::printf("device: %s\n", session->description().c_str());
  }
  std::printf("prefill: %" PRId64 " tokens in %.3f s = %.1f tokens/s\n", context, prefill_s, context / prefill_s);
  std::printf("decode: %" PRId64 " tokens at context %" PRId64 "..%" PRId64 " in %.3f s = %.1f tokens/s\n", n, context,
              context + n, decode_s, decode_tps);
  std::printf("weights read per decoded token: %.3f MB; effective %.2f GB/s\n", per_token / 1e6,
              per_token * decode_tps / 1e9);
  if (!cpu) {
    if (flags.Has("profile")) MOERT_RETURN_IF_ERROR(PrintGpuDecodeProfile(artifact, *session->gpu_session()));
    return Status::Ok();
  }
  const double copy = MeasureCopyBandwidth(cpu->thread_count());
  std::printf("memory copy bandwidth of this machine: %.2f GB/s (read + write); decode reaches %.1f%% of it\n",
              copy / 1e9, 100.0 * per_token * decode_tps / copy);
  if (flags.Has("profile")) PrintCpuProfiles(artifact, *cpu);
  return Status::Ok();
}

// Prints a chat turn as it streams: final text to stdout, other channels to
// stderr (only with --show-analysis, each message marked with its channel),
// tool calls as JSON lines on stdout.
class PrintingListener : public chat::TurnListener {
 public:
  explicit PrintingListener(bool show_analysis) : show_analysis_(show_analysis) {}

  void OnMessageBegin(chat::TextKind kind, const std::optional<std::string>& channel) override {
    if (kind == chat::TextKind::kOther && show_analysis_) {
      std::fprintf(stderr, "[%s] ", channel.value_or("no channel").c_str());
    }
  }
  void OnText(chat::TextKind kind, std::string_view text) override {
    if (kind == chat::TextKind::kFinal) {
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
      stdout_open_line_ = text.back() != '\n';
    } else if (show_analysis_) {
      std::fwrite(text.data(), 1, text.size(), stderr);
    }
  }
  void OnMessageEnd(chat::TextKind kind) override {
    if (kind == chat::TextKind::kOther && show_analysis_) std::fprintf(stderr, "\n[end]\n");
  }
  void OnToolCall(const chat::ToolCall& call) override {
    EndLine();
    std::printf("%s\n", chat::ToolCallJsonLine(call).c_str());
    std::fflush(stdout);
  }
  // Ends the turn's output with a newline.
  void EndLine() {
    if (stdout_open_line_) std::fputc('\n', stdout);
    stdout_open_line_ = false;
    std::fflush(stdout);
  }

 private:
  bool show_analysis_;
  bool stdout_open_line_ = false;
};

void PrintTurnStats(const chat::TurnStats& s) {
  const uint32_t prefilled = s.prompt_tokens - s.reused_tokens;
  std::fprintf(stderr,
               "stats: prompt %u tokens (%u cached), generated %u tokens, stop: %s; prefill %u tokens in %.3f s = "
               "%.1f tokens/s; decode %u tokens in %.3f s = %.1f tokens/s\n",
               s.prompt_tokens, s.reused_tokens, s.generated_tokens, chat::StopReasonName(s.stop), prefilled,
               s.prefill_seconds, s.prefill_seconds > 0 ? prefilled / s.prefill_seconds : 0.0, s.generated_tokens,
               s.decode_seconds, s.decode_seconds > 0 ? s.generated_tokens / s.decode_seconds : 0.0);
  if (s.stop == chat::StopReason::kMalformed) {
    std::fprintf(stderr, "moert-run: warning: the turn ended early: %s\n", s.error.c_str());
  }
}

Status RunChatTurn(chat::ChatSession& session, const std::string& text, uint32_t max_tokens,
                   PrintingListener& listener) {
  Result<chat::TurnStats> stats = session.Turn(text, max_tokens, &listener);
  listener.EndLine();
  if (!stats.ok()) return stats.status();
  PrintTurnStats(*stats);
  return Status::Ok();
}

// --prompt / --chat: a harmony chat over the artifact's tokenizer.
Status Chat(const Artifact& artifact, const ParsedFlags& flags) {
  if (!flags.Has("prompt") && !flags.Has("chat")) {
    return InvalidArgument("chat flags need --prompt TEXT or --chat");
  }
  chat::ChatConfig config;
  if (flags.Has("reasoning")) {
    std::optional<harmony::ReasoningEffort> effort = harmony::ParseReasoningEffort(flags.GetString("reasoning"));
    if (!effort) {
      return InvalidArgument("--reasoning must be low, medium or high, got \"", flags.GetString("reasoning"), "\"");
    }
    config.reasoning_effort = *effort;
  }
  if (flags.Has("system")) {
    MOERT_RETURN_IF_ERROR(chat::CheckUtf8(flags.GetString("system"), "--system"));
    config.instructions = flags.GetString("system");
  }
  if (flags.Has("tools")) {
    MOERT_ASSIGN_OR_RETURN(config.functions, harmony::LoadFunctionToolsFile(flags.GetString("tools")));
  }
  const std::string prompt = flags.GetString("prompt");
  if (flags.Has("prompt")) MOERT_RETURN_IF_ERROR(chat::CheckUtf8(prompt, "--prompt"));
  MOERT_ASSIGN_OR_RETURN(Tokenizer tokenizer, chat::TokenizerFromArtifact(artifact));
  MOERT_ASSIGN_OR_RETURN(chat::Conversation conversation, chat::Conversation::Create(std::move(config)));

  MOERT_ASSIGN_OR_RETURN(std::unique_ptr<exec::Runner> runner, NewRunner(artifact, flags));
  MOERT_ASSIGN_OR_RETURN(int64_t max_tokens, flags.GetInt("max-tokens", 256, 1, runner->max_context()));
  exec::SamplingParams params;
  MOERT_ASSIGN_OR_RETURN(double temperature, flags.GetDouble("temperature", 0, 0, 1e6));
  MOERT_ASSIGN_OR_RETURN(double top_p, flags.GetDouble("top-p", 1, 0, 1));
  MOERT_ASSIGN_OR_RETURN(int64_t seed, flags.GetInt("seed", 0, 0, INT64_MAX));
  params.temperature = static_cast<float>(temperature);
  params.top_p = static_cast<float>(top_p);
  params.seed = static_cast<uint64_t>(seed);
  MOERT_ASSIGN_OR_RETURN(std::unique_ptr<chat::ExecModel> model, chat::ExecModel::Create(std::move(runner), params));
  chat::ChatSession chat_session(tokenizer, model.get(), std::move(conversation));

  if (flags.Has("print-prompt-ids")) {
    if (!flags.Has("prompt")) return InvalidArgument("--print-prompt-ids needs --prompt");
    MOERT_ASSIGN_OR_RETURN(std::vector<TokenId> ids, chat_session.PromptFor(prompt));
    std::string line;
    for (size_t i = 0; i < ids.size(); ++i) line += StrCat(i ? " " : "", ids[i]);
    std::printf("%s\n", line.c_str());
    return Status::Ok();
  }
  PrintingListener listener(flags.Has("show-analysis"));
  if (flags.Has("prompt")) {
    MOERT_RETURN_IF_ERROR(RunChatTurn(chat_session, prompt, static_cast<uint32_t>(max_tokens), listener));
  }
  if (!flags.Has("chat")) return Status::Ok();
  // One user message per line; empty lines are skipped. A line that is not
  // UTF-8 is refused and the chat goes on; other errors end it.
  std::string line;
  for (int c; (c = std::fgetc(stdin)) != EOF || !line.empty();) {
    if (c != EOF && c != '\n') {
      line += static_cast<char>(c);
      continue;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) {
      Status utf8 = chat::CheckUtf8(line, "the input line");
      if (!utf8.ok()) {
        std::fprintf(stderr, "moert-run: %s; skipped\n", utf8.message().c_str());
      } else {
        MOERT_RETURN_IF_ERROR(RunChatTurn(chat_session, line, static_cast<uint32_t>(max_tokens), listener));
      }
    }
    line.clear();
    if (c == EOF) break;
  }
  return Status::Ok();
}

void PrintHelp() {
  std::printf(
      "Usage: moert-run ARTIFACT.moex [ACTION]\n\n"
      "Opens a .moex artifact and verifies it (header, checksum, manifest). Without an\n"
      "action, also checks that this host can run the artifact's target and says so.\n\n%s",
      FormatFlagHelp(Flags()).c_str());
}

std::string Str(const flatbuffers::String* s) { return s == nullptr ? std::string() : s->str(); }

template <typename T>
uint32_t Count(const flatbuffers::Vector<T>* v) {
  return v == nullptr ? 0 : v->size();
}

// What refers to each segment, for --inspect.
std::vector<std::string> SegmentUses(const moex::Manifest& m) {
  std::vector<std::string> uses(Count(m.segments()));
  std::vector<uint32_t> weights(uses.size(), 0);
  for (uint32_t i = 0; i < Count(m.weights()); ++i) {
    if (!IsSynthetic(*m.weights()->Get(i))) ++weights[m.weights()->Get(i)->segment()];
  }
  for (size_t s = 0; s < uses.size(); ++s) {
    if (weights[s] != 0) uses[s] += StrCat(" weights:", weights[s]);
  }
  for (uint32_t i = 0; i < Count(m.images()); ++i) {
    uses[m.images()->Get(i)->segment()] += StrCat(" image[", i, "]");
  }
  if (m.tokenizer() != nullptr) uses[m.tokenizer()->ranks_segment()] += " tokenizer";
  if (m.probe() != nullptr) uses[m.probe()->logits_segment()] += " probe-logits";
  return uses;
}

void PrintModel(const moex::ModelConfig& c) {
  uint32_t sliding = 0;
  for (uint32_t i = 0; i < Count(c.sliding_layers()); ++i) sliding += c.sliding_layers()->Get(i);
  std::printf(
      "model: %u layers, hidden %u, %u heads (%u kv) x %u, %u experts (top %u), "
      "intermediate %u, vocab %u, sliding window %u on %u layers, eos %d\n",
      c.num_layers(), c.hidden_size(), c.num_heads(), c.num_kv_heads(), c.head_dim(),
      c.num_experts(), c.experts_per_token(), c.intermediate_size(), c.vocab_size(),
      c.sliding_window(), sliding, c.eos_token_id());
}

void PrintTarget(const Artifact& artifact) {
  const moex::Target& t = *artifact.manifest().target();
  std::string features;
  for (uint32_t i = 0; i < Count(t.required_features()); ++i) {
    features += " " + t.required_features()->Get(i)->str();
  }
  Status runs = CheckHostRuns(artifact);
  std::printf("target: %s %s, requires:%s\n", moex::EnumNameTargetKind(t.kind()),
              Str(t.name()).c_str(), features.empty() ? " nothing" : features.c_str());
  std::printf("runs on this host: %s\n", runs.ok() ? "yes" : ("no, " + runs.message()).c_str());
}

void PrintBuffers(const moex::Manifest& m) {
  constexpr int kKinds = static_cast<int>(moex::BufferKind::MAX) + 1;
  uint64_t count[kKinds] = {}, bytes[kKinds] = {};
  for (uint32_t i = 0; i < Count(m.buffers()); ++i) {
    const moex::Buffer* b = m.buffers()->Get(i);
    ++count[static_cast<int>(b->kind())];
    bytes[static_cast<int>(b->kind())] += b->size();
  }
  std::printf("buffers: %u", Count(m.buffers()));
  for (int k = 0; k < kKinds; ++k) {
    if (count[k] == 0) continue;
    std::printf(", %" PRIu64 " %s (%" PRIu64 " bytes)", count[k],
                moex::EnumNameBufferKind(static_cast<moex::BufferKind>(k)), bytes[k]);
  }
  std::printf("\nactivation arena: %" PRIu64 " bytes\n", m.activation_arena_size());
}

void PrintEntryPoint(const moex::Manifest& m, const moex::EntryPoint& e) {
  auto buffer_name = [&](uint32_t index) { return Str(m.buffers()->Get(index)->name()); };
  std::printf("entry point \"%s\": rows %u, tokens \"%s\", positions \"%s\", slots \"%s\", "
              "live rows \"%s\", logits \"%s\", %u dispatches\n",
              Str(e.name()).c_str(), e.rows(), buffer_name(e.tokens()).c_str(),
              buffer_name(e.positions()).c_str(), buffer_name(e.slots()).c_str(),
              buffer_name(e.live_rows()).c_str(), buffer_name(e.logits()).c_str(), Count(e.dispatches()));
  for (uint32_t d = 0; d < Count(e.dispatches()); ++d) {
    const moex::Dispatch& dispatch = *e.dispatches()->Get(d);
    const moex::Kernel& kernel =
        *m.images()->Get(dispatch.image())->kernels()->Get(dispatch.kernel());
    std::string bindings;
    for (uint32_t b = 0; b < Count(dispatch.bindings()); ++b) {
      const moex::Binding* binding = dispatch.bindings()->Get(b);
      bindings += StrCat(b ? ", " : "", buffer_name(binding->buffer()), "[", binding->offset(),
                         ", +", binding->size(), ")");
    }
    std::string constants;
    for (uint32_t c = 0; c < Count(dispatch.constants()); ++c) {
      constants += StrCat(c ? ", " : "", dispatch.constants()->Get(c));
    }
    std::printf("  [%u] %s (image %u kernel %u) workgroups %ux%ux%u bindings {%s} constants {%s}\n",
                d, Str(kernel.name()).c_str(), dispatch.image(), dispatch.kernel(),
                dispatch.workgroups_x(), dispatch.workgroups_y(), dispatch.workgroups_z(),
                bindings.c_str(), constants.c_str());
  }
}

// Which weights the runtime generates, from which seed, and where.
void PrintSyntheticWeights(const Artifact& artifact) {
  const moex::Manifest& m = artifact.manifest();
  if (m.synthetic() == nullptr) return;
  uint32_t count = 0;
  uint64_t bytes = 0;
  for (uint32_t i = 0; i < artifact.num_weights(); ++i) {
    if (!IsSynthetic(artifact.weight(i))) continue;
    ++count;
    bytes += artifact.weight(i).size();
  }
  std::string where = "on the host";
  if (m.synthetic()->fill_image() >= 0) {
    const moex::Kernel* kernel = m.images()->Get(static_cast<uint32_t>(m.synthetic()->fill_image()))->kernels()->Get(
        static_cast<uint32_t>(m.synthetic()->fill_kernel()));
    where = StrCat("on the device by image ", m.synthetic()->fill_image(), " kernel ", m.synthetic()->fill_kernel(),
                   " (", Str(kernel->name()), ")");
  }
  std::printf("synthetic weights: %u (%" PRIu64 " bytes, none stored), seed %" PRIu64 ", generated %s\n", count,
              bytes, m.synthetic()->seed(), where.c_str());
}

Status Inspect(const Artifact& artifact, const ParsedFlags&) {
  const moex::Manifest& m = artifact.manifest();
  std::printf("artifact: %s (%" PRIu64 " bytes, format version %u, producer \"%s\")\n",
              artifact.source().c_str(), artifact.file_size(), artifact.header().format_version,
              Str(m.producer()).c_str());
  PrintTarget(artifact);
  PrintModel(*m.model());
  std::printf("context: %u tokens x %u slots\n", m.max_context(), m.num_slots());

  std::vector<std::string> uses = SegmentUses(m);
  uint64_t segment_bytes = 0;
  for (uint32_t i = 0; i < artifact.num_segments(); ++i) segment_bytes += artifact.segment(i).size;
  std::printf("segments: %u, %" PRIu64 " bytes\n", artifact.num_segments(), segment_bytes);
  for (uint32_t i = 0; i < artifact.num_segments(); ++i) {
    const moex::Segment* s = m.segments()->Get(i);
    std::printf("  [%u] offset %" PRIu64 " size %" PRIu64 " fnv1a64 0x%016" PRIx64 ":%s\n", i,
                s->offset(), s->size(), s->checksum(), uses[i].c_str());
  }
  uint64_t weight_bytes = 0;
  for (uint32_t i = 0; i < artifact.num_weights(); ++i) weight_bytes += artifact.weight(i).size();
  std::printf("weights: %u, %" PRIu64 " bytes\n", artifact.num_weights(), weight_bytes);
  PrintSyntheticWeights(artifact);

  std::printf("images: %u\n", Count(m.images()));
  for (uint32_t i = 0; i < Count(m.images()); ++i) {
    const moex::DeviceImage& image = *m.images()->Get(i);
    std::printf("  [%u] %s in segment %u (%" PRIu64 " bytes), %u kernels\n", i,
                moex::EnumNameImageFormat(image.format()), image.segment(),
                artifact.segment(image.segment()).size, Count(image.kernels()));
    for (uint32_t k = 0; k < Count(image.kernels()); ++k) {
      const moex::Kernel& kernel = *image.kernels()->Get(k);
      std::printf("    [%u] %s symbol %s, %u bindings, %u constants\n", k,
                  Str(kernel.name()).c_str(), Str(kernel.symbol()).c_str(),
                  kernel.num_bindings(), kernel.num_constants());
    }
  }
  PrintBuffers(m);
  if (m.tokenizer() != nullptr) {
    std::printf("tokenizer: %s, ranks in segment %u\n", Str(m.tokenizer()->encoding()).c_str(),
                m.tokenizer()->ranks_segment());
  }
  if (m.probe() != nullptr) {
    std::printf("probe: %u tokens, logits in segment %u, tolerance %g\n",
                Count(m.probe()->tokens()), m.probe()->logits_segment(),
                static_cast<double>(m.probe()->tolerance()));
  }
  for (uint32_t e = 0; e < Count(m.entry_points()); ++e) {
    PrintEntryPoint(m, *m.entry_points()->Get(e));
  }
  return Status::Ok();
}

// The default action: the artifact opened; can this host run it?
Status CheckHost(const Artifact& artifact, const ParsedFlags&) {
  MOERT_RETURN_IF_ERROR(CheckHostRuns(artifact).Annotate(artifact.source()));
  std::printf("%s: ok, a verified .moex artifact this host can run\n", artifact.source().c_str());
  return Status::Ok();
}

struct Action {
  const char* flag;  // nullptr: the default action
  Status (*run)(const Artifact&, const ParsedFlags&);
};

const std::vector<Action>& Actions() {
  static const std::vector<Action>* actions = new std::vector<Action>{
      {"inspect", Inspect},
      {"tokens", RunTokens},
      {"compare", RunTokens},
      {"verify", Verify},
      {"bench", Bench},
      {"prompt", Chat},
      {"chat", Chat},
      {"system", Chat},
      {"reasoning", Chat},
      {"tools", Chat},
      {"show-analysis", Chat},
      {"max-tokens", Chat},
      {"print-prompt-ids", Chat},
      {nullptr, CheckHost},
  };
  return *actions;
}

Status Run(const ParsedFlags& flags) {
  if (flags.positional().size() != 1) {
    return InvalidArgument("expected one artifact path, got ", flags.positional().size(),
                           " arguments (see --help)");
  }
  const Action* chosen = nullptr;
  const Action* fallback = nullptr;
  for (const Action& action : Actions()) {
    if (action.flag == nullptr) {
      fallback = &action;
    } else if (flags.Has(action.flag)) {
      // Flags of one action (--tokens with --compare) go together.
      if (chosen != nullptr && chosen->run != action.run) {
        return InvalidArgument("--", chosen->flag, " and --", action.flag,
                               " cannot be combined");
      }
      chosen = &action;
    }
  }
  if (chosen == nullptr) chosen = fallback;
  for (const char* flag : {"trace", "compare-trace", "trace-tolerance"}) {
    if (flags.Has(flag) && chosen->run != RunTokens) {
      return InvalidArgument("--", flag, " needs --tokens (or --compare): it traces a run of the prompt");
    }
  }
  MOERT_ASSIGN_OR_RETURN(Artifact artifact, Artifact::Open(flags.positional()[0]));
  return chosen->run(artifact, flags);
}

}  // namespace
}  // namespace moert

int main(int argc, char** argv) {
  return moert::RunToolMain(argc, argv, "moert-run", moert::Flags(), moert::PrintHelp, moert::Run);
}
