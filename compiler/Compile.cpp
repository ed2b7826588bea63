//===- Compile.cpp - checkpoint to .moex artifact -------------------------===//
#include "compiler/Compile.h"

#include <cstring>
#include <map>

#include "compiler/artifact/ArtifactWriter.h"
#include "dialects/moe/MoeDialect.h"
#include "dialects/mx/MxDialect.h"
#include "gpt-oss/reference.h"
#include "llvm/Support/raw_ostream.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "base/file_map.h"
#include "targets/cpu/CpuCodegen.h"
#include "targets/gpu/GpuCodegen.h"
#include "tokenizer/tokenizer.h"

namespace moec {

using moert::Result;
using moert::Status;
using moert::StrCat;

std::string DefaultPipeline(const TargetDescription& target, int64_t compute_units,
                            const std::string& kv_cache_type) {
  return StrCat("builtin.module(func.func(canonicalize,moe-assign-kv-cache-type{target=", target.name,
                kv_cache_type.empty() ? "" : " element-type=", kv_cache_type,
                "},moe-split-experts,moe-fuse-norm-into-linear,",
                "moe-fuse-residual-epilogue,moe-form-kernels,moe-schedule-kernels{target=", target.name,
                " compute-units=", compute_units > 0 ? compute_units : target.compute_units,
                "}),moe-assign-weight-layouts{target=", target.name, "},moe-outline-kernels,moe-plan-memory)");
}

namespace {

// Removes `name` (with its options, if any) from a textual pipeline; returns
// how many occurrences were removed.
int RemovePass(std::string& pipeline, const std::string& name) {
  int removed = 0;
  size_t pos = 0;
  while ((pos = pipeline.find(name, pos)) != std::string::npos) {
    const bool starts = pos == 0 || pipeline[pos - 1] == '(' || pipeline[pos - 1] == ',';
    size_t end = pos + name.size();
    if (end < pipeline.size() && pipeline[end] == '{') end = pipeline.find('}', end) + 1;
    const bool ends = end >= pipeline.size() || pipeline[end] == ')' || pipeline[end] == ',';
    if (!starts || !ends) {
      pos = end;
      continue;
    }
    // Take one neighbouring comma with it.
    if (end < pipeline.size() && pipeline[end] == ',') {
      ++end;
    } else if (pos > 0 && pipeline[pos - 1] == ',') {
      --pos;
    }
    pipeline.erase(pos, end - pos);
    ++removed;
  }
  return removed;
}

}  // namespace

Result<std::string> EffectivePipeline(const CompileOptions& options, const TargetDescription& target) {
  std::string pipeline = options.pipeline.empty() ? DefaultPipeline(target, options.compute_units, options.kv_cache_type)
                                                : options.pipeline;
  for (const std::string& name : options.disabled_passes) {
    if (!mlir::PassInfo::lookup(name)) return moert::InvalidArgument("--disable-pass: unknown pass \"", name, "\"");
    if (RemovePass(pipeline, name) == 0) {
      return moert::InvalidArgument("--disable-pass: \"", name, "\" is not in the pipeline ", pipeline);
    }
  }
  return pipeline;
}

Status RunPipeline(const gptoss::Checkpoint& checkpoint, const CompileOptions& options, mlir::MLIRContext* context,
                   mlir::OwningOpRef<mlir::ModuleOp>& module) {
  MOERT_ASSIGN_OR_RETURN(TargetDescription target, LookupTarget(options.target));
  MOERT_ASSIGN_OR_RETURN(std::string pipeline, EffectivePipeline(options, target));
  MOERT_ASSIGN_OR_RETURN(module, gptoss::ImportCheckpoint(checkpoint, options.import, context));

  std::string diagnostics;
  llvm::raw_string_ostream diagnosticStream(diagnostics);
  mlir::ScopedDiagnosticHandler handler(context, [&](mlir::Diagnostic& d) {
    diagnosticStream << d.getLocation() << ": " << d.str() << "\n";
    return mlir::success();
  });
  const llvm::StringRef prefix = "builtin.module(";
  if (!llvm::StringRef(pipeline).starts_with(prefix) || pipeline.back() != ')') {
    return moert::InvalidArgument("the pipeline must have the form builtin.module(...), got ", pipeline);
  }
  mlir::PassManager pm(context);
  std::string parseErrors;
  llvm::raw_string_ostream parseStream(parseErrors);
  if (mlir::failed(mlir::parsePassPipeline(llvm::StringRef(pipeline).drop_front(prefix.size()).drop_back(), pm,
                                           parseStream))) {
    return moert::InvalidArgument("invalid pipeline ", pipeline, ": ", parseErrors);
  }
  if (options.print_ir_after_all) {
    context->disableMultithreading();
    pm.enableIRPrinting([](mlir::Pass*, mlir::Operation*) { return false; },
                        [](mlir::Pass*, mlir::Operation*) { return true; },
                        /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false);
  }
  if (mlir::failed(pm.run(**&module))) {
    return moert::Internal("the pass pipeline failed:\n", diagnostics);
  }
  return Status::Ok();
}

namespace {

// Sizes of the tensors bound to runtime-visible buffers.
uint64_t TensorBytes(mlir::Type type) {
  auto tensor = mlir::cast<mlir::RankedTensorType>(type);
  return static_cast<uint64_t>(tensor.getNumElements()) * (tensor.getElementTypeBitWidth() / 8);
}

ModelConfigDesc ModelDesc(const gptoss::ModelConfig& c) {
  ModelConfigDesc m;
  m.num_layers = static_cast<uint32_t>(c.num_layers);
  m.hidden_size = static_cast<uint32_t>(c.hidden_size);
  m.num_heads = static_cast<uint32_t>(c.num_heads);
  m.num_kv_heads = static_cast<uint32_t>(c.num_kv_heads);
  m.head_dim = static_cast<uint32_t>(c.head_dim);
  m.num_experts = static_cast<uint32_t>(c.num_experts);
  m.experts_per_token = static_cast<uint32_t>(c.experts_per_token);
  m.intermediate_size = static_cast<uint32_t>(c.intermediate_size);
  m.vocab_size = static_cast<uint32_t>(c.vocab_size);
  m.sliding_window = static_cast<uint32_t>(c.sliding_window);
  for (int64_t l = 0; l < c.num_layers; ++l) m.sliding_layers.push_back(c.is_sliding(l));
  m.rope_theta = c.rope_theta;
  m.rope_scaling_factor = c.rope_scaling_factor;
  m.rope_beta_fast = c.rope_beta_fast;
  m.rope_beta_slow = c.rope_beta_slow;
  m.rope_original_context = static_cast<uint32_t>(c.rope_original_context);
  m.rope_truncate = c.rope_truncate;
  m.rms_norm_eps = c.rms_norm_eps;
  m.swiglu_limit = c.swiglu_limit;
  m.swiglu_alpha = c.swiglu_alpha;
  m.eos_token_id = c.eos_token_id ? static_cast<int32_t>(*c.eos_token_id) : -1;
  return m;
}

// Builds the artifact's description from the planned module.
class ArtifactBuilder {
 public:
  ArtifactBuilder(const gptoss::Checkpoint& checkpoint, ArtifactWriter& writer)
      : checkpoint_(checkpoint), writer_(writer) {}

  // The buffer index of a moe.bindings entry of entry point `entry`.
  Result<uint32_t> Buffer(const std::string& entry, const std::string& binding, mlir::Type type) {
    const bool shared = binding.rfind("weight:", 0) == 0 || binding.rfind("kv:", 0) == 0;
    const std::string key = shared ? binding : entry + "/" + binding;
    if (auto it = buffers_.find(key); it != buffers_.end()) return it->second;
    BufferDesc desc;
    desc.name = key;
    if (binding.rfind("weight:", 0) == 0) {
      MOERT_ASSIGN_OR_RETURN(uint32_t weight, Weight(binding.substr(7), type));
      desc.kind = moex::BufferKind::WEIGHT;
      desc.weight = static_cast<int32_t>(weight);
      desc.size = weight_sizes_[weight];
    } else if (binding.rfind("kv:", 0) == 0) {
      desc.kind = moex::BufferKind::KV_CACHE;
      desc.size = TensorBytes(type);
      if (mlir::cast<mlir::RankedTensorType>(type).getElementType().isBF16()) bf16_kv_cache_ = true;
    } else if (binding.rfind("input:", 0) == 0) {
      desc.kind = moex::BufferKind::INPUT;
      desc.size = TensorBytes(type);
    } else if (binding == "output:logits") {
      desc.kind = moex::BufferKind::OUTPUT;
      desc.size = TensorBytes(type);
    } else if (binding.rfind("arena:", 0) == 0) {
      const size_t plus = binding.find('+');
      desc.kind = moex::BufferKind::ACTIVATION;
      desc.arena_offset = std::stoull(binding.substr(6, plus - 6));
      desc.size = std::stoull(binding.substr(plus + 1));
    } else {
      return moert::Internal("unknown binding \"", binding, "\"");
    }
    return Add(key, desc);
  }

  uint64_t BufferSize(uint32_t index) const { return sizes_.at(index); }

  // Entry point `entry`'s live-rows input (i32 [2]; EntryPoint.live_rows).
  uint32_t LiveRows(const std::string& entry) {
    const std::string key = entry + "/input:live_rows";
    if (auto it = buffers_.find(key); it != buffers_.end()) return it->second;
    BufferDesc desc;
    desc.name = key;
    desc.kind = moex::BufferKind::INPUT;
    desc.size = 2 * sizeof(int32_t);
    return Add(key, desc);
  }

  // The WORKSPACE buffer (one for the artifact), made on first use.
  uint32_t Workspace(uint64_t size) {
    if (auto it = buffers_.find("workspace"); it != buffers_.end()) return it->second;
    BufferDesc desc;
    desc.name = "workspace";
    desc.kind = moex::BufferKind::WORKSPACE;
    desc.size = size;
    return Add(desc.name, desc);
  }
  // Whether a KV cache is bf16 (moe-assign-kv-cache-type), which sets the
  // precision the probe can expect.
  bool HasBf16KvCache() const { return bf16_kv_cache_; }

  // The layouts moe-assign-weight-layouts chose, by weight name.
  void SetLayouts(std::map<std::string, std::string> layouts) { layouts_ = std::move(layouts); }

 private:
  // Registers buffer `desc` under `key` (an entry point's binding name, or a
  // shared one) and remembers its size.
  uint32_t Add(const std::string& key, const BufferDesc& desc) {
    const uint32_t index = writer_.addBuffer(desc);
    buffers_[key] = index;
    sizes_[index] = desc.size;
    return index;
  }

  // Adds the weight `name` (a segment streamed from the checkpoint's map),
  // repacked into its layout.
  Result<uint32_t> Weight(const std::string& name, mlir::Type type) {
    auto layout = layouts_.find(name);
    if (layout == layouts_.end()) {
      return moert::FailedPrecondition("weight \"", name, "\" has no moe.layout (run moe-assign-weight-layouts)");
    }
    auto tensor = mlir::cast<mlir::RankedTensorType>(type);
    WeightDesc desc;
    desc.name = name;
    desc.shape.assign(tensor.getShape().begin(), tensor.getShape().end());
    std::vector<const gptoss::WeightRef*> parts;
    std::vector<gptoss::WeightKind> kinds;
    if (layout->second == "mxfp4_blocks_then_scales") {
      // MXFP4: all rows' packed blocks, then all rows' scales.
      const gptoss::WeightRef* blocks = checkpoint_.FindWeight(name + "_blocks");
      const gptoss::WeightRef* scales = checkpoint_.FindWeight(name + "_scales");
      if (!blocks || !scales) return moert::NotFound("weight \"", name, "\" has no _blocks/_scales in the checkpoint");
      parts = {blocks, scales};
      kinds = {gptoss::WeightKind::kMxfp4Blocks, gptoss::WeightKind::kMxfp4Scales};
      desc.dtype = moex::DType::MXFP4;
      desc.layout = "mxfp4_blocks_then_scales";
    } else if (layout->second == "row_major") {
      const gptoss::WeightRef* dense = checkpoint_.FindWeight(name);
      if (!dense) return moert::NotFound("weight \"", name, "\" is not in the checkpoint");
      if (dense->dtype != moert::DType::kBF16) {
        return moert::Unimplemented("weight \"", name, "\" is ", moert::DTypeName(dense->dtype),
                                    "; the CPU target reads bf16 weights");
      }
      parts = {dense};
      kinds = {gptoss::WeightKind::kDense};
      desc.dtype = moex::DType::BF16;
      desc.layout = "row_major";
    } else {
      return moert::Unimplemented("weight \"", name, "\": the artifact writer has no layout \"", layout->second, "\"");
    }
    uint64_t size = 0;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (checkpoint_.synthetic_seed()) desc.synthetic.push_back(SyntheticPart(*parts[i], kinds[i], size));
      size += parts[i]->byte_size;
    }
    if (desc.synthetic.empty()) {
      desc.segment = writer_.addStreamedSegment(size, [parts](SegmentSink& sink) -> Status {
        for (const gptoss::WeightRef* p : parts) MOERT_RETURN_IF_ERROR(sink.Write(p->data, p->byte_size));
        return Status::Ok();
      });
    }
    desc.offset = 0;
    desc.size = size;
    const uint32_t index = writer_.addWeight(desc);
    weight_sizes_[index] = size;
    return index;
  }

  // The generator's parameters for checkpoint tensor `tensor` (of `kind`) of
  // a synthetic checkpoint, placed at `offset` in its weight: the stream
  // moec synth draws that tensor from.
  static SyntheticPartDesc SyntheticPart(const gptoss::WeightRef& tensor, gptoss::WeightKind kind, uint64_t offset) {
    const moert::synthetic::Distribution d = gptoss::SyntheticDistribution(tensor.name, kind, tensor.shape);
    SyntheticPartDesc part;
    part.offset = offset;
    part.size = tensor.byte_size;
    part.name_hash = moert::synthetic::HashName(tensor.name.data(), tensor.name.size());
    part.distribution = static_cast<moex::SyntheticDistribution>(d.kind);
    part.center = d.center;
    part.amplitude = d.amplitude;
    part.exponent = d.kind == moert::synthetic::kE8m0Scales ? d.exponent : 0;
    return part;
  }

  const gptoss::Checkpoint& checkpoint_;
  ArtifactWriter& writer_;
  std::map<std::string, uint32_t> buffers_;
  std::map<uint32_t, uint64_t> weight_sizes_;
  std::map<uint32_t, uint64_t> sizes_;
  bool bf16_kv_cache_ = false;
  std::map<std::string, std::string> layouts_;
};

}  // namespace

bool SyntheticProbeFits(const gptoss::ModelConfig& config) {
  uint64_t bytes = 0;
  for (const gptoss::ExpectedTensor& t : gptoss::ExpectedHfTensors(config)) {
    uint64_t n = t.kind == gptoss::WeightKind::kDense ? 2 : 1;
    for (int64_t d : t.shape) n *= static_cast<uint64_t>(d);
    bytes += n;
  }
  return bytes <= kMaxSyntheticProbeWeightBytes;
}

Result<DeviceCode> GenerateDeviceCode(mlir::ModuleOp module, const TargetDescription& target, bool syntheticFill) {
  DeviceCode code;
  if (target.kind == TargetKind::kCpu) {
    MOERT_ASSIGN_OR_RETURN(cpu::CpuImage image, cpu::GenerateCpuImage(module, target));
    code.kind = moex::TargetKind::CPU;
    code.format = moex::ImageFormat::ELF_SHARED_OBJECT;
    code.bytes = std::move(image.shared_object);
    code.kernels = std::move(image.kernels);
    return code;
  }
  gpu::GpuImageOptions imageOptions;
  imageOptions.synthetic_fill = syntheticFill;
  MOERT_ASSIGN_OR_RETURN(gpu::GpuImage image, gpu::GenerateGpuImage(module, target, imageOptions));
  code.kind = target.kind == TargetKind::kCuda ? moex::TargetKind::CUDA : moex::TargetKind::HIP;
  code.format = image.format == gpu::GpuImageFormat::kPtx     ? moex::ImageFormat::PTX
                : image.format == gpu::GpuImageFormat::kCubin ? moex::ImageFormat::CUBIN
                                                              : moex::ImageFormat::HSACO;
  code.bytes = std::move(image.bytes);
  code.assembly = std::move(image.assembly);
  code.block_x = static_cast<uint32_t>(target.threads_per_workgroup);
  code.kernels = std::move(image.kernels);
  return code;
}

namespace {

// The tokenizer file to embed: the one asked for, else the checkpoint's.
Result<std::string> TokenizerPath(const gptoss::Checkpoint& checkpoint, const CompileOptions& options) {
  if (!options.tokenizer.empty()) return options.tokenizer;
  if (checkpoint.dir().empty()) return std::string();  // a synthetic model of a preset
  for (const char* name : {"tokenizer.json", "tokenizer.tiktoken"}) {
    const std::string path = moert::JoinPath(checkpoint.dir(), name);
    if (moert::PathExists(path)) return path;
  }
  return std::string();
}

// Reads the tokenizer file once, checks it parses and fits the model's
// vocabulary, and returns its bytes for the artifact.
Result<std::string> ReadCheckedTokenizer(const std::string& path, const gptoss::ModelConfig& config) {
  MOERT_ASSIGN_OR_RETURN(std::string bytes, moert::ReadFileToString(path));
  MOERT_ASSIGN_OR_RETURN(moert::Tokenizer tokenizer, moert::Tokenizer::FromContents(bytes, path));
  if (static_cast<int64_t>(tokenizer.vocab_size()) != config.vocab_size) {
    return moert::InvalidArgument("tokenizer ", path, " has ", tokenizer.vocab_size(),
                                  " token ids but the model's vocabulary has ", config.vocab_size, " rows");
  }
  return bytes;
}

}  // namespace

Status CompileToArtifact(const gptoss::Checkpoint& checkpoint, const CompileOptions& options,
                         const std::string& output) {
  MOERT_ASSIGN_OR_RETURN(TargetDescription target, LookupTarget(options.target));
  // Check the tokenizer before the long part of the compile.
  MOERT_ASSIGN_OR_RETURN(std::string tokenizerPath, TokenizerPath(checkpoint, options));
  std::string tokenizerBytes;
  if (!tokenizerPath.empty()) {
    MOERT_ASSIGN_OR_RETURN(tokenizerBytes, ReadCheckedTokenizer(tokenizerPath, checkpoint.config()));
  }
  mlir::DialectRegistry registry;
  mlir::MLIRContext context(registry);
  mlir::OwningOpRef<mlir::ModuleOp> module;
  MOERT_RETURN_IF_ERROR(RunPipeline(checkpoint, options, &context, module));
  const std::optional<uint64_t> syntheticSeed = checkpoint.synthetic_seed();
  MOERT_ASSIGN_OR_RETURN(DeviceCode code, GenerateDeviceCode(*module, target, syntheticSeed.has_value()));

  const gptoss::ModelConfig& config = checkpoint.config();
  ArtifactWriter writer;
  writer.setProducer("moec");
  writer.setModelConfig(ModelDesc(config));
  writer.setTarget({code.kind, target.name, target.required_features});
  writer.setContext(static_cast<uint32_t>(options.import.max_context), static_cast<uint32_t>(options.import.decode_batch));

  DeviceImageDesc imageDesc;
  imageDesc.format = code.format;
  imageDesc.segment = writer.addSegment(code.bytes);
  std::map<std::string, uint32_t> kernelIndex;
  std::vector<uint32_t> kernelWorkgroups;
  std::vector<bool> kernelLiveRows, kernelWorkspace;
  uint64_t workspaceBytes = 0;  // one WORKSPACE buffer, as large as the largest need
  for (const KernelEntry& k : code.kernels) {
    kernelIndex[k.function] = static_cast<uint32_t>(imageDesc.kernels.size());
    imageDesc.kernels.push_back({k.function, k.symbol, k.num_bindings, 0, code.block_x, 0});
    kernelWorkgroups.push_back(k.workgroups);
    kernelLiveRows.push_back(k.live_rows);
    kernelWorkspace.push_back(k.workspace_bytes > 0);
    workspaceBytes = std::max(workspaceBytes, k.workspace_bytes);
  }
  const uint32_t imageIndex = writer.addImage(imageDesc);
  if (syntheticSeed) {
    SyntheticWeightsDesc synthetic;
    synthetic.seed = *syntheticSeed;
    if (auto fill = kernelIndex.find(gpu::kSyntheticFillKernel); fill != kernelIndex.end()) {
      synthetic.fill_image = static_cast<int32_t>(imageIndex);
      synthetic.fill_kernel = static_cast<int32_t>(fill->second);
    }
    writer.setSyntheticWeights(synthetic);
  }

  ArtifactBuilder builder(checkpoint, writer);
  std::map<std::string, std::string> layouts;
  module->walk([&](moe::WeightOp weight) {
    if (auto layout = weight->getAttrOfType<mlir::StringAttr>("moe.layout")) layouts[weight.getName().str()] = layout.str();
  });
  builder.SetLayouts(std::move(layouts));
  uint64_t arena = 0;
  for (mlir::func::FuncOp entry : module->getOps<mlir::func::FuncOp>()) {
    if (entry.isPrivate()) continue;
    const std::string name = entry.getSymName().str();
    EntryPointDesc ep;
    ep.name = name;
    ep.rows = static_cast<uint32_t>(mlir::cast<mlir::RankedTensorType>(entry.getArgument(0).getType()).getDimSize(0));
    if (auto size = entry->getAttrOfType<mlir::IntegerAttr>("moe.arena_size")) {
      arena = std::max<uint64_t>(arena, static_cast<uint64_t>(size.getInt()));
    }
    MOERT_ASSIGN_OR_RETURN(ep.tokens, builder.Buffer(name, "input:tokens", entry.getArgument(0).getType()));
    MOERT_ASSIGN_OR_RETURN(ep.positions, builder.Buffer(name, "input:positions", entry.getArgument(1).getType()));
    MOERT_ASSIGN_OR_RETURN(ep.slots, builder.Buffer(name, "input:slots", entry.getArgument(2).getType()));
    MOERT_ASSIGN_OR_RETURN(ep.logits, builder.Buffer(name, "output:logits", entry.getFunctionType().getResult(0)));
    ep.live_rows = builder.LiveRows(name);
    for (mlir::func::CallOp call : entry.getBody().front().getOps<mlir::func::CallOp>()) {
      auto bindings = call->getAttrOfType<mlir::ArrayAttr>("moe.bindings");
      auto it = kernelIndex.find(call.getCallee().str());
      if (!bindings || it == kernelIndex.end()) {
        return moert::Internal("call to ", call.getCallee().str(), " has no planned buffers or no kernel");
      }
      DispatchDesc dispatch;
      dispatch.image = imageIndex;
      dispatch.kernel = it->second;
      dispatch.workgroups_x = kernelWorkgroups[it->second];
      llvm::SmallVector<mlir::Type> types(call.getOperandTypes());
      types.append(call.getResultTypes().begin(), call.getResultTypes().end());
      for (auto [binding, type] : llvm::zip(bindings, types)) {
        const std::string key = mlir::cast<mlir::StringAttr>(binding).str();
        MOERT_ASSIGN_OR_RETURN(uint32_t buffer, builder.Buffer(name, key, type));
        dispatch.bindings.push_back({buffer, 0, builder.BufferSize(buffer)});
      }
      // After the kernel's own bindings, in EntryPointBuilder::AddKernels' order.
      if (kernelLiveRows[it->second]) {
        dispatch.bindings.push_back({ep.live_rows, 0, builder.BufferSize(ep.live_rows)});
      }
      if (kernelWorkspace[it->second]) {
        dispatch.bindings.push_back({builder.Workspace(workspaceBytes), 0, workspaceBytes});
      }
      ep.dispatches.push_back(std::move(dispatch));
    }
    writer.addEntryPoint(std::move(ep));
  }
  writer.setActivationArenaSize(arena);
  if (!tokenizerPath.empty()) {
    TokenizerDesc tokenizer;
    tokenizer.ranks_segment = writer.addSegment(std::move(tokenizerBytes));
    tokenizer.encoding = "o200k_harmony";
    writer.setTokenizer(tokenizer);
  }

  // The self-test: what the reference executor computes for a few tokens.
  if (!options.probe) return writer.write(output);
  if (syntheticSeed && checkpoint.embedding().data == nullptr) {
    return moert::FailedPrecondition("the probe needs the synthetic weights in memory (OpenSyntheticCheckpoint "
                                     "with_data), or CompileOptions::probe = false");
  }
  const int64_t n = std::min<int64_t>(options.probe_tokens, options.import.prefill_chunk);
  std::vector<int32_t> probe;
  for (int64_t i = 0; i < n; ++i) probe.push_back(static_cast<int32_t>((i * 7919 + 11) % config.vocab_size));
  gptoss::ReferenceExecutor reference(checkpoint);
  std::vector<float> logits;
  MOERT_RETURN_IF_ERROR(reference.Forward(probe, &logits));
  ProbeDesc probeDesc;
  probeDesc.tokens = probe;
  probeDesc.logits_segment = writer.addSegment(logits.data(), logits.size() * sizeof(float));
  // fp32 paths agree with the reference to ~1e-5; bf16 caches round every
  // key and value, which the golden checkpoints show costs up to ~1e-2 (still
  // well inside transformers' own bf16 runs).
  probeDesc.tolerance = builder.HasBf16KvCache() ? 2e-2f : 1e-4f;
  writer.setProbe(probeDesc);
  return writer.write(output);
}

}  // namespace moec
