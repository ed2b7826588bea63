#include "targets/common/KernelRecipes.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "base/file_map.h"
#include "dialects/moe/MoeDialect.h"
#include "gpt-oss/reference.h"
#include "targets/ukernels/common/attention_rows.h"
#include "llvm/Support/raw_ostream.h"
#include "mlir/Dialect/Arith/IR/Arith.h"

namespace moec {

using moert::Result;
using moert::Status;
using namespace mlir;

namespace {

UkArg Bind(int64_t index) {
  UkArg a;
  a.kind = UkArg::Kind::kBinding;
  a.binding = index;
  return a;
}
UkArg Null() { return UkArg(); }
UkArg I64(int64_t v) {
  UkArg a;
  a.kind = UkArg::Kind::kI64;
  a.i64 = v;
  return a;
}
UkArg F32(double v) {
  UkArg a;
  a.kind = UkArg::Kind::kF32;
  a.f32 = static_cast<float>(v);
  return a;
}
// Every microkernel's last argument: the call's live rows.
UkArg LiveRows() {
  UkArg a;
  a.kind = UkArg::Kind::kLiveRows;
  return a;
}

int64_t dim(Value v, unsigned i) { return cast<RankedTensorType>(v.getType()).getDimSize(i); }

// Maps the values of a kernel function to binding indices: its arguments,
// then its results (the order moe-plan-memory binds them in).
class Bindings {
 public:
  explicit Bindings(func::FuncOp fn) : fn_(fn) {
    ret_ = cast<func::ReturnOp>(fn.getBody().front().getTerminator());
  }
  // The binding of `v`, or -1 when it is internal to the kernel.
  int64_t of(Value v) const {
    if (auto arg = dyn_cast<BlockArgument>(v)) return arg.getArgNumber();
    for (auto [i, r] : llvm::enumerate(ret_.getOperands())) {
      if (r == v) return fn_.getNumArguments() + static_cast<int64_t>(i);
    }
    return -1;
  }
  UkArg arg(Value v) const { return Bind(of(v)); }
  UkArg optional(Value v) const { return v && of(v) >= 0 ? Bind(of(v)) : Null(); }
  int64_t count() const { return fn_.getNumArguments() + ret_.getNumOperands(); }

 private:
  mutable func::FuncOp fn_;
  mutable func::ReturnOp ret_;
};

Status RequireBf16(Value v, llvm::StringRef what, llvm::StringRef kernel) {
  if (!v) return Status::Ok();
  if (cast<RankedTensorType>(v.getType()).getElementType().isBF16()) return Status::Ok();
  std::string type;
  llvm::raw_string_ostream os(type);
  os << v.getType();
  return moert::Unimplemented("kernel ", kernel.str(), ": the CPU target reads bf16 ", what.str(), ", got ", type);
}

// YaRN inverse frequencies exactly as the reference executor computes them.
std::vector<float> InverseFrequencies(moe::YarnAttr yarn, int64_t head_dim, float* concentration) {
  const gptoss::RopeParameters rope = gptoss::ComputeYarnRope(
      {yarn.getTheta().convertToDouble(), yarn.getFactor().convertToDouble(), yarn.getBetaFast().convertToDouble(),
       yarn.getBetaSlow().convertToDouble(), yarn.getOriginalContext(), yarn.getTruncate()},
      head_dim);
  *concentration = static_cast<float>(rope.concentration);
  return std::vector<float>(rope.inv_freq.begin(), rope.inv_freq.end());
}

}  // namespace

// Recognises what a kernel computes and how it maps onto the microkernels.
Result<UkCall> MatchKernel(func::FuncOp fn) {
  const std::string name = fn.getSymName().str();
  Bindings bind(fn);
  SmallVector<Operation*> ops;
  for (Operation& op : fn.getBody().front().without_terminator()) ops.push_back(&op);
  auto unsupported = [&]() -> Status {
    std::string kinds;
    for (Operation* op : ops) kinds += (kinds.empty() ? "" : ", ") + op->getName().getStringRef().str();
    return moert::Unimplemented("kernel ", name, ": no CPU lowering for the op sequence [", kinds, "]");
  };
  if (ops.empty()) return unsupported();

  if (auto e = dyn_cast<moe::EmbeddingOp>(ops[0]); e && ops.size() == 1) {
    MOERT_RETURN_IF_ERROR(RequireBf16(e.getTable(), "embedding tables", name));
    return UkCall{"moec_uk_embedding",
                  {bind.arg(e.getTable()), bind.arg(e.getTokens()), bind.arg(e.getResult()), I64(dim(e.getResult(), 0)),
                   I64(dim(e.getTable(), 1)), I64(dim(e.getTable(), 0)), LiveRows()}};
  }

  // Optional RMSNorm prologue.
  moe::RmsNormOp norm = dyn_cast<moe::RmsNormOp>(ops[0]);
  ArrayRef<Operation*> rest = norm ? ArrayRef<Operation*>(ops).drop_front() : ArrayRef<Operation*>(ops);
  auto normArgs = [&](Value input, std::vector<UkArg>& args) -> Status {
    if (norm) {
      if (input != norm.getResult()) return unsupported();
      MOERT_RETURN_IF_ERROR(RequireBf16(norm.getGain(), "norm gains", name));
      if (dim(norm.getInput(), 1) > 8192) return moert::Unimplemented("kernel ", name, ": hidden size over 8192");
      args.push_back(bind.arg(norm.getInput()));
      args.push_back(bind.arg(norm.getGain()));
      args.push_back(F32(norm.getEpsilon().convertToDouble()));
    } else {
      args.push_back(bind.arg(input));
      args.push_back(Null());
      args.push_back(F32(0));
    }
    return Status::Ok();
  };

  if (!rest.empty() && isa<moe::LinearOp, moe::UnembedOp>(rest[0])) {
    // Up to three linears (or the unembedding) over the same rows, and an
    // optional residual add after a single linear.
    SmallVector<Operation*> linears;
    arith::AddFOp residual;
    for (Operation* op : rest) {
      if (isa<moe::LinearOp, moe::UnembedOp>(op) && !residual) {
        linears.push_back(op);
      } else if (auto add = dyn_cast<arith::AddFOp>(op); add && linears.size() == 1 && !residual && !norm) {
        residual = add;
      } else {
        return unsupported();
      }
    }
    if (linears.size() > 3) return unsupported();
    Value input = linears[0]->getOperand(0);
    std::vector<UkArg> args;
    MOERT_RETURN_IF_ERROR(normArgs(input, args));
    args.push_back(I64(dim(input, 0)));
    args.push_back(I64(dim(input, 1)));
    for (size_t i = 0; i < 3; ++i) {
      if (i >= linears.size()) {
        for (int n = 0; n < (i == 0 ? 5 : 4); ++n) args.push_back(n == (i == 0 ? 4 : 3) ? I64(0) : Null());
        continue;
      }
      Operation* op = linears[i];
      if (op->getOperand(0) != input) return unsupported();
      Value weight = op->getOperand(1);
      Value bias = op->getNumOperands() > 2 ? op->getOperand(2) : Value();
      MOERT_RETURN_IF_ERROR(RequireBf16(weight, "linear weights", name));
      MOERT_RETURN_IF_ERROR(RequireBf16(bias, "biases", name));
      Value out = op->getResult(0);
      args.push_back(bind.arg(weight));
      args.push_back(bias ? bind.arg(bias) : Null());
      if (i == 0) {
        Value other = residual ? (residual.getLhs() == out ? residual.getRhs() : residual.getLhs()) : Value();
        args.push_back(other ? bind.arg(other) : Null());
        out = residual ? residual.getResult() : out;
      }
      if (bind.of(out) < 0) return unsupported();
      args.push_back(bind.arg(out));
      args.push_back(I64(dim(weight, 0)));
    }
    UkArg normed = norm ? bind.optional(norm.getResult()) : Null();
    // The unembedding computes only the rows whose logits the caller reads,
    // unless the normalised rows are needed elsewhere too.
    const bool logits_only = isa<moe::UnembedOp>(linears[0]) && normed.kind == UkArg::Kind::kNull;
    args.push_back(normed);
    args.push_back(I64(logits_only ? 1 : 0));
    args.push_back(LiveRows());
    return UkCall{"moec_uk_linear3", std::move(args)};
  }

  if (rest.size() == 1) {
    if (auto router = dyn_cast<moe::RouterOp>(rest[0])) {
      std::vector<UkArg> args;
      MOERT_RETURN_IF_ERROR(normArgs(router.getInput(), args));
      MOERT_RETURN_IF_ERROR(RequireBf16(router.getWeight(), "router weights", name));
      MOERT_RETURN_IF_ERROR(RequireBf16(router.getBias(), "router biases", name));
      const int64_t experts = dim(router.getWeight(), 0), top_k = static_cast<int64_t>(router.getTopK());
      if (experts > 1024 || top_k > 64) {
        return moert::Unimplemented("kernel ", name, ": the CPU router handles up to 1024 experts and top-64");
      }
      args.insert(args.end(), {bind.arg(router.getWeight()), bind.arg(router.getBias()),
                               bind.arg(router.getRoutingWeights()), bind.arg(router.getExpertIndices()),
                               norm ? bind.optional(norm.getResult()) : Null(), I64(dim(router.getInput(), 0)),
                               I64(dim(router.getInput(), 1)), I64(experts), I64(top_k), LiveRows()});
      return UkCall{"moec_uk_router", std::move(args)};
    }
  }
  if (norm) return unsupported();

  if (ops.size() == 1) {
    if (auto rope = dyn_cast<moe::RopeOp>(ops[0])) {
      float concentration = 1;
      UkArg table;
      table.kind = UkArg::Kind::kTable;
      table.table = InverseFrequencies(rope.getScaling(), static_cast<int64_t>(rope.getHeadDim()), &concentration);
      return UkCall{"moec_uk_rope",
                    {bind.arg(rope.getInput()), bind.arg(rope.getPositions()), bind.arg(rope.getResult()),
                     I64(dim(rope.getInput(), 0)), I64(dim(rope.getInput(), 1)),
                     I64(static_cast<int64_t>(rope.getHeadDim())), table, F32(concentration), LiveRows()}};
    }
    if (auto a = dyn_cast<moe::AttentionOp>(ops[0])) {
      MOERT_RETURN_IF_ERROR(RequireBf16(a.getSinks(), "sinks", name));
      if (a.getHeadDim() > 512) return moert::Unimplemented("kernel ", name, ": head_dim over 512");
      const int64_t window = a.getSlidingWindow() ? static_cast<int64_t>(*a.getSlidingWindow()) : 0;
      // f32 or bf16 caches (moe-assign-kv-cache-type); the verifier keeps both alike.
      const bool bf16_cache = cast<RankedTensorType>(a.getKeyCache().getType()).getElementType().isBF16();
      const int64_t rows = dim(a.getQuery(), 0), heads = static_cast<int64_t>(a.getNumHeads()),
                    kv_heads = static_cast<int64_t>(a.getNumKvHeads()), d = static_cast<int64_t>(a.getHeadDim());
      UkCall call{bf16_cache ? "moec_uk_attention_bf16_cache" : "moec_uk_attention",
                  {bind.arg(a.getQuery()), bind.arg(a.getKey()), bind.arg(a.getValue()), bind.arg(a.getSinks()),
                   bind.arg(a.getKeyCache()), bind.arg(a.getValueCache()), bind.arg(a.getSlots()),
                   bind.arg(a.getPositions()), bind.arg(a.getResult()), I64(rows), I64(heads), I64(kv_heads), I64(d),
                   I64(dim(a.getKeyCache(), 1)), I64(window), F32(a.getScale().convertToDouble()),
                   I64(KernelScheduleInt(fn, "one_sequence", 0))}};
      // Split-KV (moe-schedule-kernels' kv_splits, GPUs at decode): the
      // partial results and a counter per (row, KV head) in a workspace.
      const int64_t splits = KernelScheduleInt(fn, "kv_splits", 1);
      if (splits > 1 && rows * kv_heads > MOEC_SPLIT_KV_COUNTERS) {
        return moert::Unimplemented("kernel ", name, ": split-KV attention over ", rows * kv_heads,
                                    " (row, KV head) pairs; the workspace has counters for ", MOEC_SPLIT_KV_COUNTERS);
      }
      if (splits > 1) {
        call.function += "_split";
        UkArg workspace;
        workspace.kind = UkArg::Kind::kWorkspace;
        call.args.push_back(workspace);
        call.args.push_back(I64(splits));
        call.workspace_bytes = static_cast<uint64_t>(MOEC_SPLIT_KV_COUNTERS + rows * heads * splits * (d + 2)) * 4;
      }
      call.args.push_back(LiveRows());
      return call;
    }
    if (auto g = dyn_cast<moe::ExpertGateUpOp>(ops[0])) {
      MOERT_RETURN_IF_ERROR(RequireBf16(g.getGateUpBias(), "expert biases", name));
      return UkCall{"moec_uk_expert_gate_up",
                    {bind.arg(g.getInput()), bind.arg(g.getExpertIndices()), bind.arg(g.getGateUp()),
                     bind.arg(g.getGateUpBias()), bind.arg(g.getResult()), I64(dim(g.getInput(), 0)),
                     I64(dim(g.getExpertIndices(), 1)), I64(dim(g.getInput(), 1)), I64(dim(g.getGateUp(), 1) / 2),
                     I64(dim(g.getGateUp(), 0)), F32(g.getSwigluLimit().convertToDouble()),
                     F32(g.getSwigluAlpha().convertToDouble()), LiveRows()}};
    }
    if (auto add = dyn_cast<arith::AddFOp>(ops[0])) {
      auto type = cast<RankedTensorType>(add.getType());
      if (type.getRank() == 0) return unsupported();
      return UkCall{"moec_uk_add",
                    {bind.arg(add.getLhs()), bind.arg(add.getRhs()), bind.arg(add.getResult()),
                     I64(type.getNumElements()), I64(type.getDimSize(0)), LiveRows()}};
    }
  }
  if (auto down = dyn_cast<moe::ExpertDownOp>(ops[0]); down && ops.size() <= 2) {
    MOERT_RETURN_IF_ERROR(RequireBf16(down.getDownBias(), "expert biases", name));
    Value out = down.getResult(), residual;
    if (ops.size() == 2) {
      auto add = dyn_cast<arith::AddFOp>(ops[1]);
      if (!add) return unsupported();
      residual = add.getLhs() == out ? add.getRhs() : add.getLhs();
      out = add.getResult();
    }
    return UkCall{"moec_uk_expert_down",
                  {bind.arg(down.getActivation()), bind.arg(down.getRoutingWeights()),
                   bind.arg(down.getExpertIndices()), bind.arg(down.getDown()), bind.arg(down.getDownBias()),
                   residual ? bind.arg(residual) : Null(), bind.arg(out), I64(dim(down.getActivation(), 0)),
                   I64(dim(down.getActivation(), 1)), I64(dim(down.getActivation(), 2)), I64(dim(down.getDown(), 1)),
                   I64(dim(down.getDown(), 0)), LiveRows()}};
  }
  return unsupported();
}


uint32_t KernelBindingCount(func::FuncOp fn) { return static_cast<uint32_t>(Bindings(fn).count()); }

int64_t KernelScheduleInt(func::FuncOp fn, llvm::StringRef key, int64_t otherwise) {
  if (auto schedule = fn->getAttrOfType<DictionaryAttr>("moe.schedule")) {
    if (auto value = schedule.getAs<IntegerAttr>(key)) return value.getInt();
  }
  return otherwise;
}

uint32_t KernelWorkgroups(func::FuncOp fn) {
  return static_cast<uint32_t>(std::max<int64_t>(1, KernelScheduleInt(fn, "workgroups", 1)));
}

std::string KernelSymbol(llvm::StringRef function) {
  std::string s = "moec_kernel_";
  for (char c : function) s.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  return s;
}

// Runs `argv` and waits; returns its output on failure.
Status RunTool(const std::vector<std::string>& argv, const std::string& log_path) {
  pid_t pid = fork();
  if (pid < 0) return moert::Unavailable("cannot fork to run ", argv[0]);
  if (pid == 0) {
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  moert::Result<std::string> log = moert::ReadFileToString(log_path);
  std::string command;
  for (const std::string& a : argv) command += " " + a;
  return moert::Internal("the kernel compiler failed:", command, "\n", log.ok() ? *log : "");
}


}  // namespace moec
