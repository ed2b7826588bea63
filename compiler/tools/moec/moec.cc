// moec: the compiler driver. Subcommands:
//   reference  run the fp32 reference executor on a checkpoint
//   synth      write a random-weight checkpoint in the HF layout
//   inspect    validate a checkpoint and summarise it
// Every error is printed as "moec: error: ..." with exit code 1.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstring>
#include <optional>
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "base/file_map.h"
#include "base/flags.h"
#include "base/safetensors.h"
#include "base/tensor_compare.h"
#include "tokenizer/tokenizer.h"
#include "compiler/Compile.h"
#include "compiler/Registration.h"
#include "gpt-oss/checkpoint.h"
#include "gpt-oss/importer.h"
#include "gpt-oss/reference.h"
#include "gpt-oss/synth.h"
#include "llvm/Support/raw_ostream.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"

namespace {

using moert::FlagSpec;
using moert::ParsedFlags;
using moert::Result;
using moert::Status;
using namespace moec::gptoss;

struct Command {
  const char* name;
  const char* usage;
  const char* summary;
  std::vector<FlagSpec> flags;
  Status (*run)(const ParsedFlags& flags);
};

FlagSpec HelpFlag() { return {"help", false, "", "show this help", 'h'}; }

Status RunReference(const ParsedFlags& flags) {
  if (flags.positional().size() != 1) {
    return moert::InvalidArgument("reference takes one MODEL_DIR, got ", flags.positional().size(),
                                  " positional arguments");
  }
  const std::string compare_path = flags.GetString("compare");
  if (!flags.Has("tokens") && compare_path.empty()) {
    return moert::InvalidArgument("reference needs --tokens (e.g. --tokens 1,2,3) or --compare FILE");
  }
  MOERT_ASSIGN_OR_RETURN(Checkpoint checkpoint, Checkpoint::Open(flags.positional()[0]));
  const ModelConfig& config = checkpoint.config();
  std::optional<moert::SafetensorsFile> expected;
  if (!compare_path.empty()) {
    MOERT_ASSIGN_OR_RETURN(expected, moert::SafetensorsFile::Open(compare_path));
  }
  std::vector<int64_t> ids;
  if (flags.Has("tokens")) {
    MOERT_ASSIGN_OR_RETURN(ids, moert::ParseIntList(flags.GetString("tokens"), 0, config.vocab_size - 1, "--tokens"));
  } else {
    MOERT_ASSIGN_OR_RETURN(ids, moert::ReadTokenIds(*expected, "input_ids", config.vocab_size));
  }
  MOERT_ASSIGN_OR_RETURN(int64_t generate, flags.GetInt("generate", 0, 0, config.max_position_embeddings));
  MOERT_ASSIGN_OR_RETURN(int64_t max_context, flags.GetInt("max-context", config.max_position_embeddings, 1,
                                                           config.max_position_embeddings));
  std::vector<int32_t> prompt(ids.begin(), ids.end());
  if (static_cast<int64_t>(prompt.size()) + generate > max_context) {
    return moert::OutOfRange("prompt (", prompt.size(), " tokens) plus --generate ", generate,
                             " exceeds the context limit of ", max_context, " tokens");
  }

  ReferenceExecutor executor(checkpoint);
  executor.set_max_context(max_context);
  std::vector<float> logits;
  const auto start = std::chrono::steady_clock::now();
  MOERT_ASSIGN_OR_RETURN(std::vector<int32_t> generated, executor.GenerateGreedy(prompt, generate, &logits));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (expected) {
    MOERT_ASSIGN_OR_RETURN(double tolerance, flags.GetDouble("tolerance", 1e-5, 0, 1));
    MOERT_RETURN_IF_ERROR(moert::CheckLogitsAgainstFile(*expected, logits, static_cast<int64_t>(prompt.size()),
                                                        config.vocab_size, tolerance));
  }
  const std::string out = flags.GetString("out");
  if (!out.empty()) {
    std::vector<moert::TensorSpec> specs = {
        {"logits", moert::DType::kF32, {static_cast<int64_t>(prompt.size()), config.vocab_size}}};
    std::vector<const void*> data = {logits.data()};
    if (flags.Has("generate")) {
      specs.push_back({"generated", moert::DType::kI32, {static_cast<int64_t>(generated.size())}});
      data.push_back(generated.data());
    }
    MOERT_RETURN_IF_ERROR(moert::WriteSafetensors(out, specs, data, {{"producer", "moec reference (fp32)"}}));
  } else if (flags.Has("generate")) {
    std::string line;
    for (size_t i = 0; i < generated.size(); ++i) line += (i ? "," : "") + std::to_string(generated[i]);
    std::printf("%s\n", line.c_str());
  } else {
    const float* last = &logits[logits.size() - static_cast<size_t>(config.vocab_size)];
    std::printf("next token: %" PRId64 "\n", ArgMax(last, config.vocab_size));
  }
  if (flags.Has("stats")) {
    const int64_t tokens = static_cast<int64_t>(prompt.size()) + std::max<int64_t>(generate - 1, 0);
    std::printf("reference: %" PRId64 " tokens in %.3f s (%.1f tokens/s)\n", tokens, seconds,
                 tokens / seconds);
  }
  return Status::Ok();
}

// The model shape of --preset or --config (or of `base`, the configuration
// of a checkpoint directory, when there is one) with the overrides --layers,
// --experts and --vocab. `command` names the subcommand in messages.
Result<ModelConfig> ConfigFromFlags(const ParsedFlags& flags, const char* command,
                                    const std::optional<ModelConfig>& base = std::nullopt) {
  const int sources = (flags.Has("preset") ? 1 : 0) + (flags.Has("config") ? 1 : 0) + (base ? 1 : 0);
  if (sources != 1) {
    const bool takes_dir = std::strcmp(command, "synth") != 0;
    return moert::InvalidArgument(command, " needs exactly one of ", takes_dir ? "MODEL_DIR, " : "",
                                  "--preset NAME or --config FILE");
  }
  ModelConfig config;
  if (base) {
    config = *base;
  } else if (flags.Has("preset")) {
    MOERT_ASSIGN_OR_RETURN(config, PresetConfig(flags.GetString("preset")));
  } else {
    MOERT_ASSIGN_OR_RETURN(config, ParseConfigFile(flags.GetString("config")));
  }
  // Overrides for reduced variants of a shape (e.g. full width, few layers).
  MOERT_ASSIGN_OR_RETURN(int64_t layers, flags.GetInt("layers", config.num_layers, 1, 4096));
  if (layers != config.num_layers) {
    config.num_layers = layers;
    config.layer_types.clear();
    for (int64_t i = 0; i < layers; ++i) {
      config.layer_types.push_back(i % 2 == 0 ? AttentionKind::kSliding : AttentionKind::kFull);
    }
  }
  MOERT_ASSIGN_OR_RETURN(config.num_experts, flags.GetInt("experts", config.num_experts, 1, 65536));
  MOERT_ASSIGN_OR_RETURN(config.vocab_size, flags.GetInt("vocab", config.vocab_size, 1, int64_t{1} << 26));
  if (config.eos_token_id && *config.eos_token_id >= config.vocab_size) config.eos_token_id.reset();
  if (config.pad_token_id && *config.pad_token_id >= config.vocab_size) config.pad_token_id.reset();
  MOERT_RETURN_IF_ERROR(ValidateConfig(config, moert::StrCat(command, " options")));
  return config;
}

Status RunSynth(const ParsedFlags& flags) {
  if (!flags.positional().empty()) {
    return moert::InvalidArgument("synth takes no positional arguments (got \"", flags.positional()[0],
                                  "\"); the output directory is -o DIR");
  }
  const std::string out = flags.GetString("output");
  if (out.empty()) return moert::InvalidArgument("synth needs -o DIR");
  SynthOptions options;
  MOERT_ASSIGN_OR_RETURN(options.config, ConfigFromFlags(flags, "synth"));
  MOERT_ASSIGN_OR_RETURN(int64_t seed, flags.GetInt("seed", 0, 0, INT64_MAX));
  options.seed = static_cast<uint64_t>(seed);
  MOERT_ASSIGN_OR_RETURN(int64_t shard, flags.GetInt("shard-size", int64_t{4} << 30, 1, INT64_MAX));
  options.max_shard_bytes = static_cast<uint64_t>(shard);
  options.sparse = flags.Has("sparse");
  const std::string tokenizer = flags.GetString("tokenizer");
  std::string tokenizer_bytes;
  if (!tokenizer.empty()) {
    MOERT_ASSIGN_OR_RETURN(tokenizer_bytes, moert::ReadFileToString(tokenizer));
    MOERT_ASSIGN_OR_RETURN(moert::Tokenizer loaded, moert::Tokenizer::FromContents(tokenizer_bytes, tokenizer));
    if (static_cast<int64_t>(loaded.vocab_size()) != options.config.vocab_size) {
      return moert::InvalidArgument("--tokenizer ", tokenizer, " has ", loaded.vocab_size(),
                                    " token ids; the model needs --vocab ", loaded.vocab_size(),
                                    " (or --preset tiny-chat, 20b, 120b)");
    }
  }
  MOERT_ASSIGN_OR_RETURN(SynthSummary summary, WriteSyntheticCheckpoint(options, out));
  if (!tokenizer.empty()) {
    // Keep the format's conventional name so `moec compile` finds it.
    const bool json = moert::Tokenizer::IsHuggingFaceJson(tokenizer_bytes);
    MOERT_RETURN_IF_ERROR(moert::WriteStringToFile(
        moert::JoinPath(out, json ? "tokenizer.json" : "tokenizer.tiktoken"), tokenizer_bytes));
  }
  std::printf("wrote %s: %" PRIu64 " tensors, %" PRIu64 " bytes of tensor data in %" PRIu64 " shard%s%s\n",
              out.c_str(), summary.num_tensors, summary.tensor_bytes, summary.num_shards,
              summary.num_shards == 1 ? "" : "s", options.sparse ? " (sparse: data left as holes)" : "");
  return Status::Ok();
}

Status RunInspect(const ParsedFlags& flags) {
  if (flags.positional().size() != 1) return moert::InvalidArgument("inspect takes one MODEL_DIR");
  MOERT_ASSIGN_OR_RETURN(Checkpoint checkpoint, Checkpoint::Open(flags.positional()[0]));
  const ModelConfig& c = checkpoint.config();
  std::printf("layout: %s\n", CheckpointLayoutName(checkpoint.layout()));
  std::printf("files: %zu\n", checkpoint.files().size());
  std::printf("tensors: %" PRIu64 "\n", checkpoint.num_tensors());
  std::printf("tensor bytes: %" PRIu64 "\n", checkpoint.tensor_bytes());
  std::printf("layers: %" PRId64 " (", c.num_layers);
  for (int64_t l = 0; l < c.num_layers; ++l) std::printf("%s%c", l ? "" : "", c.is_sliding(l) ? 'S' : 'F');
  std::printf(")\n");
  std::printf("hidden: %" PRId64 ", heads: %" PRId64 "/%" PRId64 " x %" PRId64 ", experts: %" PRId64
              " (top-%" PRId64 ") x %" PRId64 ", vocab: %" PRId64 ", window: %" PRId64 "\n",
              c.hidden_size, c.num_heads, c.num_kv_heads, c.head_dim, c.num_experts, c.experts_per_token,
              c.intermediate_size, c.vocab_size, c.sliding_window);
  std::printf("rope: theta %g, yarn factor %g, beta_fast %g, beta_slow %g, original context %" PRId64
              ", truncate %s; context %" PRId64 "\n",
              c.rope_theta, c.rope_scaling_factor, c.rope_beta_fast, c.rope_beta_slow, c.rope_original_context,
              c.rope_truncate ? "true" : "false", c.max_position_embeddings);
  return Status::Ok();
}

Status RunImport(const ParsedFlags& flags) {
  if (flags.positional().size() != 1) return moert::InvalidArgument("import takes one MODEL_DIR");
  MOERT_ASSIGN_OR_RETURN(Checkpoint checkpoint, Checkpoint::Open(flags.positional()[0]));
  const ModelConfig& config = checkpoint.config();
  ImportOptions options;
  MOERT_ASSIGN_OR_RETURN(options.max_context, flags.GetInt("max-context", std::min<int64_t>(4096, config.max_position_embeddings),
                                                           1, config.max_position_embeddings));
  MOERT_ASSIGN_OR_RETURN(options.prefill_chunk, flags.GetInt("prefill-chunk", std::min<int64_t>(128, options.max_context),
                                                             1, options.max_context));
  MOERT_ASSIGN_OR_RETURN(options.decode_batch, flags.GetInt("decode-batch", 1, 1, 4096));

  mlir::DialectRegistry registry;
  moec::registerAllDialects(registry);
  mlir::MLIRContext context(registry, mlir::MLIRContext::Threading::DISABLED);
  MOERT_ASSIGN_OR_RETURN(mlir::OwningOpRef<mlir::ModuleOp> module, ImportCheckpoint(checkpoint, options, &context));

  std::string text;
  llvm::raw_string_ostream os(text);
  mlir::OpPrintingFlags printing;
  if (flags.Has("debug-info")) printing.enableDebugInfo();
  module->print(os, printing);
  os << "\n";
  const std::string out = flags.GetString("output");
  if (out.empty() || out == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return Status::Ok();
  }
  return moert::WriteStringToFile(out, text);
}

Result<moec::CompileOptions> CompileOptionsFromFlags(const ParsedFlags& flags, const ModelConfig* config) {
  moec::CompileOptions options;
  const std::string target = flags.GetString("target", "cpu");
  if (target == "cpu") {
    options.target = flags.GetString("cpu", "x86-64-v3");
    // The CPU levels are the CPU targets the target descriptions know.
    std::vector<std::string> levels;
    for (const std::string& name : moec::KnownTargetNames()) {
      Result<moec::TargetDescription> t = moec::LookupTarget(name);
      if (t.ok() && t->kind == moec::TargetKind::kCpu) levels.push_back(name);
    }
    if (std::find(levels.begin(), levels.end(), options.target) == levels.end()) {
      std::string list;
      for (size_t i = 0; i < levels.size(); ++i) {
        list += (i == 0 ? "" : i + 1 == levels.size() ? " or " : ", ") + levels[i];
      }
      return moert::InvalidArgument("--cpu must be ", list, ", got \"", options.target, "\"");
    }
  } else {
    if (flags.Has("cpu")) return moert::InvalidArgument("--cpu applies to --target cpu only");
    options.target = target;
  }
  MOERT_RETURN_IF_ERROR(moec::LookupTarget(options.target).status());
  const int64_t max_positions = config ? config->max_position_embeddings : (int64_t{1} << 40);
  MOERT_ASSIGN_OR_RETURN(options.import.max_context,
                         flags.GetInt("max-context", std::min<int64_t>(4096, max_positions), 1, max_positions));
  MOERT_ASSIGN_OR_RETURN(options.import.prefill_chunk,
                         flags.GetInt("prefill-chunk", std::min<int64_t>(128, options.import.max_context), 1,
                                      options.import.max_context));
  MOERT_ASSIGN_OR_RETURN(options.import.decode_batch, flags.GetInt("decode-batch", 1, 1, 4096));
  MOERT_ASSIGN_OR_RETURN(options.compute_units, flags.GetInt("compute-units", 0, 0, 65536));
  options.kv_cache_type = flags.GetString("kv-cache-type");
  if (!options.kv_cache_type.empty() && options.kv_cache_type != "f32" && options.kv_cache_type != "bf16") {
    return moert::InvalidArgument("--kv-cache-type must be f32 or bf16, got \"", options.kv_cache_type, "\"");
  }
  options.pipeline = flags.GetString("pipeline");
  for (std::string list = flags.GetString("disable-pass"); !list.empty();) {
    const size_t comma = list.find(',');
    options.disabled_passes.push_back(list.substr(0, comma));
    list = comma == std::string::npos ? "" : list.substr(comma + 1);
  }
  options.print_ir_after_all = flags.Has("print-ir-after-all");
  options.tokenizer = flags.GetString("tokenizer");
  return options;
}

// The checkpoint to compile: MODEL_DIR as it is, or with --synthetic-weights
// SEED the synthetic model of MODEL_DIR's config.json (no weight files
// needed) or of --preset/--config, with --layers/--experts/--vocab applied.
// Synthetic weights are generated in memory only when the model is small
// enough for the reference executor's probe (`probe` says whether).
Result<Checkpoint> CheckpointFromFlags(const ParsedFlags& flags, bool* probe) {
  *probe = true;
  const bool shaped = flags.Has("preset") || flags.Has("config") || flags.Has("layers") || flags.Has("experts") ||
                      flags.Has("vocab");
  if (!flags.Has("synthetic-weights")) {
    if (shaped) {
      return moert::InvalidArgument("--preset, --config, --layers, --experts and --vocab shape a synthetic model: "
                                    "they need --synthetic-weights SEED");
    }
    if (flags.positional().size() != 1) return moert::InvalidArgument("compile takes one MODEL_DIR");
    return Checkpoint::Open(flags.positional()[0]);
  }
  MOERT_ASSIGN_OR_RETURN(int64_t seed, flags.GetInt("synthetic-weights", 0, 0, INT64_MAX));
  if (flags.positional().size() > 1) return moert::InvalidArgument("compile takes at most one MODEL_DIR");
  std::optional<ModelConfig> base;
  std::string dir;
  if (flags.positional().size() == 1) {
    dir = flags.positional()[0];
    MOERT_ASSIGN_OR_RETURN(std::string path, CheckpointConfigPath(dir));
    MOERT_ASSIGN_OR_RETURN(base, ParseConfigFile(path));
  }
  MOERT_ASSIGN_OR_RETURN(ModelConfig config, ConfigFromFlags(flags, "compile --synthetic-weights", base));
  *probe = moec::SyntheticProbeFits(config);
  return OpenSyntheticCheckpoint(config, static_cast<uint64_t>(seed), /*with_data=*/*probe, dir);
}

Status RunCompile(const ParsedFlags& flags) {
  mlir::DialectRegistry registry;
  moec::registerAllDialects(registry);
  if (flags.Has("print-pipeline")) {
    MOERT_ASSIGN_OR_RETURN(moec::CompileOptions options, CompileOptionsFromFlags(flags, nullptr));
    MOERT_ASSIGN_OR_RETURN(moec::TargetDescription target, moec::LookupTarget(options.target));
    MOERT_ASSIGN_OR_RETURN(std::string pipeline, moec::EffectivePipeline(options, target));
    std::printf("%s\n", pipeline.c_str());
    return Status::Ok();
  }
  bool probe = true;
  MOERT_ASSIGN_OR_RETURN(Checkpoint checkpoint, CheckpointFromFlags(flags, &probe));
  MOERT_ASSIGN_OR_RETURN(moec::CompileOptions options, CompileOptionsFromFlags(flags, &checkpoint.config()));
  options.probe = probe;
  const std::string emit = flags.GetString("emit", "artifact");
  const std::string out = flags.GetString("output");
  if (emit == "mlir") {
    mlir::MLIRContext context(registry);
    mlir::OwningOpRef<mlir::ModuleOp> module;
    MOERT_RETURN_IF_ERROR(moec::RunPipeline(checkpoint, options, &context, module));
    std::string text;
    llvm::raw_string_ostream os(text);
    module->print(os);
    os << "\n";
    if (out.empty() || out == "-") {
      std::fwrite(text.data(), 1, text.size(), stdout);
      return Status::Ok();
    }
    return moert::WriteStringToFile(out, text);
  }
  if (emit == "device-asm" || emit == "device-code") {
    // The generated device code: as text (PTX, or the AMDGCN disassembly),
    // or the image itself (cubin/PTX, HSACO).
    mlir::MLIRContext context(registry);
    mlir::OwningOpRef<mlir::ModuleOp> module;
    MOERT_RETURN_IF_ERROR(moec::RunPipeline(checkpoint, options, &context, module));
    MOERT_ASSIGN_OR_RETURN(moec::TargetDescription target, moec::LookupTarget(options.target));
    if (target.kind == moec::TargetKind::kCpu) {
      return moert::InvalidArgument("--emit ", emit, " is for GPU targets (--target sm_90a or gfx942)");
    }
    MOERT_ASSIGN_OR_RETURN(moec::DeviceCode code,
                           moec::GenerateDeviceCode(*module, target, checkpoint.synthetic_seed().has_value()));
    const std::string& bytes = emit == "device-asm" ? code.assembly : code.bytes;
    if (out.empty() || out == "-") {
      std::fwrite(bytes.data(), 1, bytes.size(), stdout);
      return Status::Ok();
    }
    return moert::WriteStringToFile(out, bytes);
  }
  if (emit != "artifact") {
    return moert::InvalidArgument("--emit must be artifact, mlir, device-asm or device-code, got \"", emit, "\"");
  }
  if (out.empty()) return moert::InvalidArgument("compile needs -o FILE.moex");
  MOERT_RETURN_IF_ERROR(moec::CompileToArtifact(checkpoint, options, out));
  if (!probe) {
    std::fprintf(stderr, "moec compile: note: no self-test probe: the synthetic model's weights exceed %" PRIu64
                         " MiB, too many for the reference executor\n",
                 moec::kMaxSyntheticProbeWeightBytes >> 20);
  }
  return Status::Ok();
}

std::vector<Command> Commands() {
  return {
      {"reference", "moec reference MODEL_DIR (--tokens 1,2,3 | --compare GOLDEN) [--generate N] [--out FILE.safetensors]",
       "Run the fp32 reference executor (the oracle) on a checkpoint. With --out, FILE gets tensor\n"
       "`logits` (f32 [T, vocab], the prompt positions) and, with --generate, `generated` (i32 [N],\n"
       "greedy through the KV cache). Without --out it prints the generated ids (or the next token).",
       {{"tokens", true, "IDS", "prompt token ids, comma-separated"},
        {"generate", true, "N", "generate N tokens greedily after the prompt"},
        {"out", true, "FILE", "write logits (and generated ids) to a safetensors file"},
        {"max-context", true, "N", "context limit in tokens (default: max_position_embeddings)"},
        {"compare", true, "FILE", "compare the logits with FILE's `logits` (prompt: its `input_ids` unless --tokens)"},
        {"tolerance", true, "X", "relative error allowed by --compare (default 1e-5)"},
        {"stats", false, "", "print tokens/s after the output"},
        HelpFlag()},
       RunReference},
      {"synth", "moec synth (--preset tiny|tiny-chat|20b|120b | --config config.json) -o DIR [--seed S] [--tokenizer FILE]",
       "Write a random-weight gpt-oss checkpoint in the Hugging Face layout (config.json, sharded\n"
       "safetensors with model.safetensors.index.json, MXFP4 experts). Streams: 20b and 120b shapes\n"
       "are written in constant memory. Same options and seed, same bytes.",
       {{"preset", true, "NAME", "tiny, 20b or 120b"},
        {"config", true, "FILE", "a HF or original config.json to take the shape from"},
        {"output", true, "DIR", "output directory (created when missing)", 'o'},
        {"seed", true, "S", "random seed (default 0)"},
        {"layers", true, "N", "override the number of layers"},
        {"experts", true, "N", "override the number of experts"},
        {"vocab", true, "N", "override the vocabulary size"},
        {"shard-size", true, "BYTES", "largest shard (default 4 GiB)"},
        {"sparse", false, "", "leave tensor data as holes (zeros): headers only, for header readers"},
        {"tokenizer", true, "FILE", "copy this o200k tokenizer (.tiktoken or tokenizer.json) into DIR for chats"},
        HelpFlag()},
       RunSynth},
      {"import", "moec import MODEL_DIR [--max-context N] [--prefill-chunk N] [--decode-batch N] [-o FILE.mlir]",
       "Import a checkpoint into the moe dialect: a module with @prefill (a chunk of one sequence) and\n"
       "@decode (one token of each sequence), static shapes from the options, weights referenced by\n"
       "name. Reads headers only.",
       {{"max-context", true, "N", "KV-cache capacity per sequence (default min(4096, max_position_embeddings))"},
        {"prefill-chunk", true, "N", "rows of @prefill (default min(128, max context))"},
        {"decode-batch", true, "N", "sequences of @decode and cache slots (default 1)"},
        {"output", true, "FILE", "write the module to FILE instead of stdout", 'o'},
        {"debug-info", false, "", "print locations (each op names its layer and role)"},
        HelpFlag()},
       RunImport},
      {"compile", "moec compile (MODEL_DIR | --synthetic-weights SEED [MODEL_DIR | --preset NAME | --config FILE]) "
                  "-o FILE.moex [--target T] [pipeline options]",
       "Compile a checkpoint into a .moex artifact for one target: import, the pass pipeline (print it\n"
       "with --print-pipeline, replace it with --pipeline, cut passes with --disable-pass, dump the IR\n"
       "after each pass with --print-ir-after-all), code generation, weights in the kernels' layout,\n"
       "the plans and a self-test probe. --emit mlir stops after the pipeline and prints the IR.\n"
       "With --synthetic-weights SEED the weights are `moec synth --seed SEED`'s, and the artifact holds\n"
       "none of their bytes: the runtime generates them (on the GPU for sm_90a/gfx942). The shape comes\n"
       "from MODEL_DIR/config.json (no weight files needed) or --preset/--config; models over 1 GiB\n"
       "of weights get no self-test probe.",
       {{"output", true, "FILE", "the artifact (or the IR with --emit mlir; default stdout)", 'o'},
        {"synthetic-weights", true, "SEED", "weights the runtime generates from SEED (as moec synth --seed SEED)"},
        {"preset", true, "NAME", "with --synthetic-weights: the shape of preset tiny, tiny-chat, 20b or 120b"},
        {"config", true, "FILE", "with --synthetic-weights: the shape of a HF or original config.json"},
        {"layers", true, "N", "with --synthetic-weights: override the number of layers"},
        {"experts", true, "N", "with --synthetic-weights: override the number of experts"},
        {"vocab", true, "N", "with --synthetic-weights: override the vocabulary size"},
        {"target", true, "T", "cpu (default), sm_90a or gfx942"},
        {"cpu", true, "LEVEL", "x86-64-v3 (AVX2, default), x86-64-v4 (AVX-512), native, or for tests "
                               "x86-64-emulated-sm_90a / x86-64-emulated-gfx942 (that GPU's kernels on a SIMT "
                               "emulator; slow)"},
        {"max-context", true, "N", "KV-cache capacity per sequence (default min(4096, max_position_embeddings))"},
        {"prefill-chunk", true, "N", "rows of the prefill plan (default min(128, max context))"},
        {"decode-batch", true, "N", "sequences decoded together (default 1)"},
        {"compute-units", true, "N", "cores the schedule assumes (default: this machine's)"},
        {"kv-cache-type", true, "T", "f32 or bf16 (default: the target's: f32 on CPUs, bf16 on GPUs)"},
        {"pipeline", true, "TEXT", "the pass pipeline to run instead of the default"},
        {"disable-pass", true, "NAMES", "comma-separated passes to drop from the pipeline"},
        {"print-pipeline", false, "", "print the pipeline and exit"},
        {"print-ir-after-all", false, "", "print the IR after every pass (to stderr)"},
        {"emit", true, "KIND", "artifact (default), mlir, device-asm (GPU: PTX or AMDGCN disassembly) or "
                               "device-code (GPU: the cubin/PTX or HSACO image)"},
        {"tokenizer", true, "FILE", "o200k .tiktoken ranks or tokenizer.json to embed (default: the checkpoint's)"},
        HelpFlag()},
       RunCompile},
      {"inspect", "moec inspect MODEL_DIR",
       "Validate a checkpoint (every file, tensor and config field) and print a summary.",
       {HelpFlag()},
       RunInspect},
  };
}

void PrintTopLevelHelp() {
  std::printf("moec: ahead-of-time compiler for gpt-oss\n\nusage: moec COMMAND [options]\n\ncommands:\n");
  for (const Command& c : Commands()) {
    std::string first_line = c.summary;
    first_line = first_line.substr(0, first_line.find('\n'));
    std::printf("  %-11s %s\n", c.name, first_line.c_str());
  }
  std::printf("\n`moec COMMAND --help` describes a command.\n");
}

}  // namespace

int main(int argc, char** argv) {
  moec::registerAllPasses();
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    PrintTopLevelHelp();
    return args.empty() ? 1 : 0;
  }
  for (const Command& command : Commands()) {
    if (args[0] != command.name) continue;
    Result<ParsedFlags> flags =
        moert::ParseFlags(std::vector<std::string>(args.begin() + 1, args.end()), command.flags);
    if (!flags.ok()) {
      std::fprintf(stderr, "moec %s: error: %s\nusage: %s\n", command.name, flags.status().message().c_str(),
                   command.usage);
      return 1;
    }
    if (flags->Has("help")) {
      std::printf("usage: %s\n\n%s\n\noptions:\n%s", command.usage, command.summary,
                  moert::FormatFlagHelp(command.flags).c_str());
      return 0;
    }
    Status status = command.run(*flags);
    if (!status.ok()) {
      std::fprintf(stderr, "moec %s: error: %s\n", command.name, status.message().c_str());
      return 1;
    }
    return 0;
  }
  std::fprintf(stderr, "moec: error: unknown command \"%s\" (see moec --help)\n", args[0].c_str());
  return 1;
}
