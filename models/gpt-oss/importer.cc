#include "gpt-oss/importer.h"

#include <cmath>
#include <string>
#include <vector>

#include "dialects/moe/MoeDialect.h"
#include "dialects/mx/MxDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Verifier.h"

namespace moec::gptoss {

using moert::Result;
using moert::Status;
using moert::StrCat;
namespace moe = ::moec::moe;
namespace mx = ::moec::mx;

Status ValidateImportOptions(const ModelConfig& config, const ImportOptions& options) {
  if (options.max_context <= 0 || options.max_context > config.max_position_embeddings) {
    return moert::InvalidArgument("max context ", options.max_context, " must be in [1, ",
                                  config.max_position_embeddings, "] (the model's max_position_embeddings)");
  }
  if (options.prefill_chunk <= 0 || options.prefill_chunk > options.max_context) {
    return moert::InvalidArgument("prefill chunk ", options.prefill_chunk, " must be in [1, max context = ",
                                  options.max_context, "]");
  }
  if (options.decode_batch <= 0 || options.decode_batch > 4096) {
    return moert::InvalidArgument("decode batch ", options.decode_batch, " must be in [1, 4096]");
  }
  return Status::Ok();
}

namespace {

// Builds one entry point's body. Weights are created where they are used, so
// each op reads its operands right above it.
class EntryPointBuilder {
 public:
  EntryPointBuilder(const Checkpoint& checkpoint, const ImportOptions& options, mlir::OpBuilder& builder)
      : checkpoint_(checkpoint), config_(checkpoint.config()), options_(options), b_(builder) {}

  Status Build(mlir::ModuleOp module, llvm::StringRef name, int64_t rows) {
    const int64_t L = config_.num_layers;
    auto i32Rows = mlir::RankedTensorType::get({rows}, b_.getI32Type());
    llvm::SmallVector<mlir::RankedTensorType> cacheTypes;
    for (int64_t l = 0; l < L; ++l) cacheTypes.push_back(CacheType(l));
    auto logitsType = mlir::RankedTensorType::get({rows, config_.vocab_size}, b_.getF32Type());

    llvm::SmallVector<mlir::Type> inputs = {i32Rows, i32Rows, i32Rows};
    llvm::SmallVector<mlir::Type> results = {logitsType};
    for (int64_t l = 0; l < L; ++l) {
      inputs.append({cacheTypes[l], cacheTypes[l]});
      results.append({cacheTypes[l], cacheTypes[l]});
    }
    b_.setInsertionPointToEnd(module.getBody());
    auto func = mlir::func::FuncOp::create(b_, mlir::NameLoc::get(b_.getStringAttr(name)), name,
                                           b_.getFunctionType(inputs, results));
    // Argument names show up in diagnostics and in documentation of the ABI.
    const char* fixed[] = {"tokens", "positions", "slots"};
    for (int i = 0; i < 3; ++i) func.setArgAttr(i, "moe.name", b_.getStringAttr(fixed[i]));
    for (int64_t l = 0; l < L; ++l) {
      func.setArgAttr(3 + 2 * l, "moe.name", b_.getStringAttr(StrCat("key_cache.", l)));
      func.setArgAttr(4 + 2 * l, "moe.name", b_.getStringAttr(StrCat("value_cache.", l)));
    }
    mlir::Block* entry = func.addEntryBlock();
    b_.setInsertionPointToStart(entry);
    mlir::Value tokens = entry->getArgument(0), positions = entry->getArgument(1), slots = entry->getArgument(2);

    auto rowsHidden = mlir::RankedTensorType::get({rows, config_.hidden_size}, b_.getF32Type());
    MOERT_ASSIGN_OR_RETURN(mlir::Value table, Weight("model.embed_tokens.weight"));
    mlir::Value x = moe::EmbeddingOp::create(b_, loc("embedding"), rowsHidden, table, tokens);

    llvm::SmallVector<mlir::Value> returned = {mlir::Value()};
    for (int64_t l = 0; l < L; ++l) {
      mlir::Value keyCache = entry->getArgument(3 + 2 * l), valueCache = entry->getArgument(4 + 2 * l);
      MOERT_RETURN_IF_ERROR(Layer(l, rows, positions, slots, keyCache, valueCache, x, returned));
    }
    MOERT_ASSIGN_OR_RETURN(mlir::Value finalGain, Weight("model.norm.weight"));
    mlir::Value normed = moe::RmsNormOp::create(b_, loc("final_norm"), rowsHidden, x, finalGain,
                                                b_.getF64FloatAttr(config_.rms_norm_eps));
    MOERT_ASSIGN_OR_RETURN(mlir::Value unembedding, Weight("lm_head.weight"));
    returned[0] = moe::UnembedOp::create(b_, loc("unembedding"), logitsType, normed, unembedding);
    mlir::func::ReturnOp::create(b_, loc("return"), returned);
    return Status::Ok();
  }

 private:
  // Full-attention layers keep every position up to the context; a
  // sliding-window layer keeps a ring of window + rows - 1 entries (rows:
  // the larger of the prefill chunk and the decode batch), so one call's
  // appends never overwrite keys it still reads, or the whole context when
  // that is smaller (then it never wraps).
  mlir::RankedTensorType CacheType(int64_t layer) {
    int64_t capacity = options_.max_context;
    if (config_.is_sliding(layer)) {
      capacity = std::min(capacity, config_.sliding_window + std::max(options_.prefill_chunk, options_.decode_batch) - 1);
    }
    return mlir::RankedTensorType::get({options_.decode_batch, capacity, config_.num_kv_heads, config_.head_dim},
                                       b_.getF32Type());
  }

  mlir::Location loc(llvm::StringRef what) { return mlir::NameLoc::get(b_.getStringAttr(what)); }

  // The dense weight `name` as a moe.weight of its checkpoint dtype and shape.
  Result<mlir::Value> Weight(const std::string& name) {
    const WeightRef* ref = checkpoint_.FindWeight(name);
    if (ref == nullptr) return moert::Internal("importer: no weight \"", name, "\" in the checkpoint");
    mlir::Type element;
    switch (ref->dtype) {
      case moert::DType::kBF16:
        element = b_.getBF16Type();
        break;
      case moert::DType::kF16:
        element = b_.getF16Type();
        break;
      case moert::DType::kF32:
        element = b_.getF32Type();
        break;
      default:
        return moert::Internal("importer: weight \"", name, "\" has dtype ", moert::DTypeName(ref->dtype));
    }
    auto type = mlir::RankedTensorType::get(ref->shape, element);
    return moe::WeightOp::create(b_, loc(name), type, b_.getStringAttr(name)).getResult();
  }

  // The MXFP4 weight `name` (stored as name_blocks [E, N, K/32, 16] and
  // name_scales [E, N, K/32]) as one logical [E, N, K] block-scaled tensor.
  Result<mlir::Value> Mxfp4Weight(const std::string& name) {
    const WeightRef* blocks = checkpoint_.FindWeight(name + "_blocks");
    if (blocks == nullptr) return moert::Internal("importer: no weight \"", name, "_blocks\"");
    const std::vector<int64_t>& s = blocks->shape;
    auto encoding = mx::BlockScaledAttr::get(b_.getContext(), /*axis=*/2, /*block=*/32);
    auto type = mlir::RankedTensorType::get({s[0], s[1], s[2] * 32}, b_.getType<mlir::Float4E2M1FNType>(), encoding);
    return moe::WeightOp::create(b_, loc(name), type, b_.getStringAttr(name)).getResult();
  }

  Status Layer(int64_t l, int64_t rows, mlir::Value positions, mlir::Value slots, mlir::Value keyCache,
               mlir::Value valueCache, mlir::Value& x, llvm::SmallVectorImpl<mlir::Value>& returned) {
    const std::string p = StrCat("model.layers.", l, ".");
    const ModelConfig& c = config_;
    auto f32 = b_.getF32Type();
    auto rowsHidden = mlir::RankedTensorType::get({rows, c.hidden_size}, f32);
    auto rowsQ = mlir::RankedTensorType::get({rows, c.q_size()}, f32);
    auto rowsKv = mlir::RankedTensorType::get({rows, c.kv_size()}, f32);
    auto epsilon = b_.getF64FloatAttr(c.rms_norm_eps);
    auto layerAttr = b_.getI64IntegerAttr(l);

    // Attention block.
    MOERT_ASSIGN_OR_RETURN(mlir::Value attnGain, Weight(p + "input_layernorm.weight"));
    mlir::Value normed = moe::RmsNormOp::create(b_, loc(p + "attn_norm"), rowsHidden, x, attnGain, epsilon);
    auto linear = [&](const char* proj, mlir::RankedTensorType type, mlir::Value input) -> Result<mlir::Value> {
      MOERT_ASSIGN_OR_RETURN(mlir::Value w, Weight(p + "self_attn." + proj + ".weight"));
      MOERT_ASSIGN_OR_RETURN(mlir::Value bias, Weight(p + "self_attn." + proj + ".bias"));
      return moe::LinearOp::create(b_, loc(p + proj), type, input, w, bias).getResult();
    };
    MOERT_ASSIGN_OR_RETURN(mlir::Value q, linear("q_proj", rowsQ, normed));
    MOERT_ASSIGN_OR_RETURN(mlir::Value k, linear("k_proj", rowsKv, normed));
    MOERT_ASSIGN_OR_RETURN(mlir::Value v, linear("v_proj", rowsKv, normed));
    auto yarn = moe::YarnAttr::get(b_.getContext(), llvm::APFloat(c.rope_theta), llvm::APFloat(c.rope_scaling_factor),
                                   llvm::APFloat(c.rope_beta_fast), llvm::APFloat(c.rope_beta_slow),
                                   c.rope_original_context, c.rope_truncate);
    auto headDim = static_cast<uint64_t>(c.head_dim);
    q = moe::RopeOp::create(b_, loc(p + "q_rope"), rowsQ, q, positions, headDim, yarn);
    k = moe::RopeOp::create(b_, loc(p + "k_rope"), rowsKv, k, positions, headDim, yarn);
    MOERT_ASSIGN_OR_RETURN(mlir::Value sinks, Weight(p + "self_attn.sinks"));
    mlir::IntegerAttr window = c.is_sliding(l) ? b_.getI64IntegerAttr(c.sliding_window) : nullptr;
    auto attention = moe::AttentionOp::create(
        b_, loc(p + "attention"), rowsQ, keyCache.getType(), valueCache.getType(), q, k, v, sinks, keyCache,
        valueCache, slots, positions, static_cast<uint64_t>(c.num_heads), static_cast<uint64_t>(c.num_kv_heads),
        headDim, llvm::APFloat(1.0 / std::sqrt(static_cast<double>(c.head_dim))), window);
    attention->setAttr("moe.layer", layerAttr);
    returned.append({attention.getNewKeyCache(), attention.getNewValueCache()});
    MOERT_ASSIGN_OR_RETURN(mlir::Value attnOut, linear("o_proj", rowsHidden, attention.getResult()));
    x = mlir::arith::AddFOp::create(b_, loc(p + "attn_residual"), x, attnOut);

    // Mixture-of-experts block.
    MOERT_ASSIGN_OR_RETURN(mlir::Value mlpGain, Weight(p + "post_attention_layernorm.weight"));
    normed = moe::RmsNormOp::create(b_, loc(p + "mlp_norm"), rowsHidden, x, mlpGain, epsilon);
    MOERT_ASSIGN_OR_RETURN(mlir::Value routerWeight, Weight(p + "mlp.router.weight"));
    MOERT_ASSIGN_OR_RETURN(mlir::Value routerBias, Weight(p + "mlp.router.bias"));
    auto routeWeightsType = mlir::RankedTensorType::get({rows, c.experts_per_token}, f32);
    auto routeIndicesType = mlir::RankedTensorType::get({rows, c.experts_per_token}, b_.getI32Type());
    auto router = moe::RouterOp::create(b_, loc(p + "router"), routeWeightsType, routeIndicesType, normed,
                                        routerWeight, routerBias, static_cast<uint64_t>(c.experts_per_token));
    MOERT_ASSIGN_OR_RETURN(mlir::Value gateUp, Mxfp4Weight(p + "mlp.experts.gate_up_proj"));
    MOERT_ASSIGN_OR_RETURN(mlir::Value gateUpBias, Weight(p + "mlp.experts.gate_up_proj_bias"));
    MOERT_ASSIGN_OR_RETURN(mlir::Value down, Mxfp4Weight(p + "mlp.experts.down_proj"));
    MOERT_ASSIGN_OR_RETURN(mlir::Value downBias, Weight(p + "mlp.experts.down_proj_bias"));
    auto experts = moe::ExpertsOp::create(b_, loc(p + "experts"), rowsHidden, normed, router.getRoutingWeights(),
                                          router.getExpertIndices(), gateUp, gateUpBias, down, downBias,
                                          llvm::APFloat(c.swiglu_limit), llvm::APFloat(c.swiglu_alpha));
    experts->setAttr("moe.layer", layerAttr);
    x = mlir::arith::AddFOp::create(b_, loc(p + "mlp_residual"), x, experts.getResult());
    return Status::Ok();
  }

  const Checkpoint& checkpoint_;
  const ModelConfig& config_;
  const ImportOptions& options_;
  mlir::OpBuilder& b_;
};

// The configuration as a module attribute, for passes and for readers.
mlir::DictionaryAttr ConfigAttr(mlir::OpBuilder& b, const ModelConfig& c, const ImportOptions& o) {
  llvm::SmallVector<mlir::NamedAttribute> entries = {
      b.getNamedAttr("num_layers", b.getI64IntegerAttr(c.num_layers)),
      b.getNamedAttr("hidden_size", b.getI64IntegerAttr(c.hidden_size)),
      b.getNamedAttr("num_heads", b.getI64IntegerAttr(c.num_heads)),
      b.getNamedAttr("num_kv_heads", b.getI64IntegerAttr(c.num_kv_heads)),
      b.getNamedAttr("head_dim", b.getI64IntegerAttr(c.head_dim)),
      b.getNamedAttr("num_experts", b.getI64IntegerAttr(c.num_experts)),
      b.getNamedAttr("experts_per_token", b.getI64IntegerAttr(c.experts_per_token)),
      b.getNamedAttr("intermediate_size", b.getI64IntegerAttr(c.intermediate_size)),
      b.getNamedAttr("vocab_size", b.getI64IntegerAttr(c.vocab_size)),
      b.getNamedAttr("sliding_window", b.getI64IntegerAttr(c.sliding_window)),
      b.getNamedAttr("max_position_embeddings", b.getI64IntegerAttr(c.max_position_embeddings)),
      b.getNamedAttr("max_context", b.getI64IntegerAttr(o.max_context)),
      b.getNamedAttr("prefill_chunk", b.getI64IntegerAttr(o.prefill_chunk)),
      b.getNamedAttr("decode_batch", b.getI64IntegerAttr(o.decode_batch)),
  };
  if (c.eos_token_id) entries.push_back(b.getNamedAttr("eos_token_id", b.getI64IntegerAttr(*c.eos_token_id)));
  return b.getDictionaryAttr(entries);
}

}  // namespace

Result<mlir::OwningOpRef<mlir::ModuleOp>> ImportCheckpoint(const Checkpoint& checkpoint, const ImportOptions& options,
                                                           mlir::MLIRContext* context) {
  MOERT_RETURN_IF_ERROR(ValidateImportOptions(checkpoint.config(), options));
  context->loadDialect<moe::MoeDialect, mx::MxDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect>();
  mlir::OpBuilder builder(context);
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::ModuleOp::create(mlir::NameLoc::get(builder.getStringAttr("gpt-oss")));
  (*module)->setAttr("moe.config", ConfigAttr(builder, checkpoint.config(), options));

  EntryPointBuilder entry(checkpoint, options, builder);
  MOERT_RETURN_IF_ERROR(entry.Build(*module, "prefill", options.prefill_chunk));
  MOERT_RETURN_IF_ERROR(entry.Build(*module, "decode", options.decode_batch));

  // The importer's output must verify; a failure here is a bug in moec.
  std::string diagnostics;
  {
    mlir::ScopedDiagnosticHandler handler(context, [&](mlir::Diagnostic& d) {
      diagnostics += d.str() + "\n";
      return mlir::success();
    });
    if (mlir::failed(mlir::verify(*module))) {
      return moert::Internal("the imported module does not verify:\n", diagnostics);
    }
  }
  return module;
}

}  // namespace moec::gptoss
