// moert-run: opens a .moex artifact and acts on it.
//
//   moert-run ARTIFACT            verifies the artifact and checks that this host
//                                 can run its target
//   moert-run ARTIFACT --inspect  prints what the artifact holds
//
// Every artifact is verified once when opened; a damaged one is refused with a
// message on stderr and exit code 1. Actions are rows of the table in Actions():
// add a flag there and a function beside the others.
#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "artifact/artifact.h"
#include "base/flags.h"

namespace moert {
namespace {

std::vector<FlagSpec> Flags() {
  return {
      {"inspect", false, "", "print target, model, segments, weights, images and kernels, "
                             "buffers and each entry point's dispatches"},
      {"help", false, "", "print this help", 'h'},
  };
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
  for (uint32_t i = 0; i < Count(m.weights()); ++i) ++weights[m.weights()->Get(i)->segment()];
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
  Status runs = CheckTargetRunsOnHost(t);
  std::printf("target: %s %s, requires:%s\n", moex::EnumNameTargetKind(t.kind()),
              Str(t.name()).c_str(), features.empty() ? " nothing" : features.c_str());
  std::printf("runs on this host: %s\n", runs.ok() ? "yes" : ("no, " + runs.message()).c_str());
}

void PrintBuffers(const moex::Manifest& m) {
  uint64_t count[5] = {}, bytes[5] = {};
  for (uint32_t i = 0; i < Count(m.buffers()); ++i) {
    const moex::Buffer* b = m.buffers()->Get(i);
    ++count[static_cast<int>(b->kind())];
    bytes[static_cast<int>(b->kind())] += b->size();
  }
  std::printf("buffers: %u", Count(m.buffers()));
  for (int k = 0; k < 5; ++k) {
    if (count[k] == 0) continue;
    std::printf(", %" PRIu64 " %s (%" PRIu64 " bytes)", count[k],
                moex::EnumNameBufferKind(static_cast<moex::BufferKind>(k)), bytes[k]);
  }
  std::printf("\nactivation arena: %" PRIu64 " bytes\n", m.activation_arena_size());
}

void PrintEntryPoint(const moex::Manifest& m, const moex::EntryPoint& e) {
  auto buffer_name = [&](uint32_t index) { return Str(m.buffers()->Get(index)->name()); };
  std::printf("entry point \"%s\": rows %u, tokens \"%s\", positions \"%s\", slots \"%s\", "
              "logits \"%s\", %u dispatches\n",
              Str(e.name()).c_str(), e.rows(), buffer_name(e.tokens()).c_str(),
              buffer_name(e.positions()).c_str(), buffer_name(e.slots()).c_str(),
              buffer_name(e.logits()).c_str(), Count(e.dispatches()));
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
  MOERT_RETURN_IF_ERROR(artifact.CheckTargetRunsOnHost());
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
      if (chosen != nullptr) {
        return InvalidArgument("--", chosen->flag, " and --", action.flag,
                               " cannot be combined");
      }
      chosen = &action;
    }
  }
  if (chosen == nullptr) chosen = fallback;
  MOERT_ASSIGN_OR_RETURN(Artifact artifact, Artifact::Open(flags.positional()[0]));
  return chosen->run(artifact, flags);
}

}  // namespace
}  // namespace moert

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  moert::Result<moert::ParsedFlags> flags = moert::ParseFlags(args, moert::Flags());
  if (!flags.ok()) {
    std::fprintf(stderr, "moert-run: %s\n", flags.status().message().c_str());
    return 1;
  }
  if (flags->Has("help")) {
    moert::PrintHelp();
    return 0;
  }
  moert::Status status = moert::Run(*flags);
  if (!status.ok()) {
    std::fprintf(stderr, "moert-run: %s\n", status.message().c_str());
    return 1;
  }
  return 0;
}
