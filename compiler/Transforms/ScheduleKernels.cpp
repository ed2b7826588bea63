//===- ScheduleKernels.cpp - tiling decisions from a target description ---===//
#include "compiler/Transforms/Passes.h"
#include "targets/common/TargetDescription.h"

namespace moec {
#define GEN_PASS_DEF_MOESCHEDULEKERNELS
#include "compiler/Transforms/Passes.h.inc"
}  // namespace moec

using namespace mlir;

namespace moec {
namespace {

// The output tile of the GPU microkernels' matrix path (targets/ukernels/gpu:
// kTileM x kTileN).
constexpr int64_t kGpuMatrixTile = 64;

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t roundUp(int64_t a, int64_t b) { return ceilDiv(a, b) * b; }

int64_t rowsOf(Value v) { return cast<RankedTensorType>(v.getType()).getDimSize(0); }
int64_t dimOf(Value v, unsigned i) { return cast<RankedTensorType>(v.getType()).getDimSize(i); }

// The op whose shape decides the schedule: the matmul-like op when there is
// one (it streams the weights), else the first op of the body.
Operation* anchorOf(moe::KernelOp kernel) {
  Operation* first = nullptr;
  for (Operation& op : kernel.getBody().front().without_terminator()) {
    if (isa<moe::LinearOp, moe::UnembedOp, moe::RouterOp, moe::ExpertGateUpOp, moe::ExpertDownOp,
            moe::AttentionOp>(op)) {
      return &op;
    }
    if (!first) first = &op;
  }
  return first;
}

struct MoeScheduleKernelsPass : impl::MoeScheduleKernelsBase<MoeScheduleKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    moert::Result<TargetDescription> described = LookupTarget(target);
    if (!described.ok()) {
      getOperation().emitError() << "moe-schedule-kernels: " << described.status().message();
      return signalPassFailure();
    }
    TargetDescription t = *described;
    if (computeUnits > 0) t.compute_units = computeUnits;
    Builder b(&getContext());
    getOperation().walk([&](moe::KernelOp kernel) {
      Operation* anchor = anchorOf(kernel);
      if (!anchor) return;
      kernel.setScheduleAttr(scheduleFor(kernel, anchor, t, b));
    });
  }

  DictionaryAttr scheduleFor(moe::KernelOp kernel, Operation* op, const TargetDescription& t, Builder& b) {
    SmallVector<NamedAttribute> entries;
    auto add = [&](StringRef key, Attribute value) { entries.push_back(b.getNamedAttr(key, value)); };
    auto addInt = [&](StringRef key, int64_t value) { add(key, b.getI64IntegerAttr(value)); };
    add("target", b.getStringAttr(t.name));

    // Matmul-like: split the weight rows (output columns) across workgroups.
    int64_t rows = 0, columns = 0, granule = 1;
    if (auto linear = dyn_cast<moe::LinearOp>(op)) {
      // Linears sharing a prologue (q, k and v) split one column space.
      rows = rowsOf(linear.getInput());
      kernel.walk([&](moe::LinearOp l) { columns += dimOf(l.getWeight(), 0); });
    } else if (auto unembed = dyn_cast<moe::UnembedOp>(op)) {
      rows = rowsOf(unembed.getInput());
      columns = dimOf(unembed.getWeight(), 0);
    } else if (auto router = dyn_cast<moe::RouterOp>(op)) {
      rows = rowsOf(router.getInput());
      columns = dimOf(router.getWeight(), 0);
    } else if (auto gateUp = dyn_cast<moe::ExpertGateUpOp>(op)) {
      rows = rowsOf(gateUp.getInput());
      columns = dimOf(gateUp.getGateUp(), 1);
      granule = 2;  // a gate row and its linear row produce one activation
    } else if (auto down = dyn_cast<moe::ExpertDownOp>(op)) {
      rows = rowsOf(down.getActivation());
      columns = dimOf(down.getDown(), 1);
    }
    if (columns > 0) {
      // Decode-sized row counts are weight-bandwidth bound (GEMV): many
      // workgroups per compute unit, each streaming a disjoint slice. Prefill
      // chunks are compute bound (GEMM): fewer, wider tiles.
      const bool gemv = rows <= 8;
      const int64_t per_unit = gemv ? 4 : 2;
      const int64_t lanes = t.simd_lanes_f32;
      // The column granule: two vectors of columns on a CPU; on a GPU, whose
      // GEMVs give each warp a column, one column per warp of a workgroup.
      const int64_t unit = t.kind == TargetKind::kCpu ? 2 * lanes : std::max<int64_t>(1, t.threads_per_workgroup / lanes);
      int64_t tile = roundUp(std::max<int64_t>(1, ceilDiv(columns, t.compute_units * per_unit)),
                             std::max<int64_t>(granule, unit));
      tile = std::min(tile, roundUp(columns, granule));
      int64_t tile_rows = gemv ? rows : std::min<int64_t>(rows, 4 * lanes);
      if (!gemv && t.kind != TargetKind::kCpu) {
        // GPU GEMMs: the microkernels' 64 x 64 matrix tiles, one per workgroup.
        tile = kGpuMatrixTile;
        tile_rows = kGpuMatrixTile;
      }
      add("shape_class", b.getStringAttr(gemv ? "gemv" : "gemm"));
      addInt("rows", rows);
      addInt("columns", columns);
      addInt("columns_per_workgroup", tile);
      addInt("rows_per_workgroup", tile_rows);
      addInt("workgroups", ceilDiv(columns, tile) * ceilDiv(rows, tile_rows));
      addInt("vector_width", lanes);
      return b.getDictionaryAttr(entries);
    }
    if (auto attention = dyn_cast<moe::AttentionOp>(op)) {
      // One workgroup per (row, KV head): the heads of a group share the keys.
      // On GPUs, when that leaves compute units idle (decode), the keys of
      // each are split over several workgroups (split-KV), at least
      // min_keys_per_split keys each: a 128-key sliding window stays whole.
      rows = rowsOf(attention.getQuery());
      const int64_t items = rows * static_cast<int64_t>(attention.getNumKvHeads());
      int64_t keys = dimOf(attention.getKeyCache(), 1);
      if (auto window = attention.getSlidingWindow()) keys = std::min<int64_t>(keys, static_cast<int64_t>(*window));
      // The "prefill" entry point's rows are one sequence (one slot,
      // consecutive positions: the runtime's contract, docs/import.md), so
      // GPU prefill gives a block a tile of queries sharing their keys
      // instead of splitting keys. Said here, not found from the live rows,
      // so that a row's result never depends on the other rows of its call.
      auto entry = op->getParentOfType<func::FuncOp>();
      const bool one_sequence = entry && entry.getSymName() == "prefill";
      int64_t splits = 1;
      if (t.min_keys_per_split > 0 && items < t.compute_units && !one_sequence) {
        splits = std::max<int64_t>(1, std::min(ceilDiv(t.compute_units, items), ceilDiv(keys, t.min_keys_per_split)));
      }
      add("shape_class", b.getStringAttr("attention"));
      addInt("rows", rows);
      if (splits > 1) addInt("kv_splits", splits);
      if (one_sequence) addInt("one_sequence", 1);
      addInt("workgroups", items * splits);
      addInt("vector_width", t.simd_lanes_f32);
      return b.getDictionaryAttr(entries);
    }
    // Row-wise ops (embedding, rope, norms, residual adds): rows in chunks.
    rows = op->getNumResults() > 0 && isa<RankedTensorType>(op->getResult(0).getType()) ? rowsOf(op->getResult(0)) : 1;
    const int64_t per_workgroup = std::max<int64_t>(1, ceilDiv(rows, t.compute_units));
    add("shape_class", b.getStringAttr("rowwise"));
    addInt("rows", rows);
    addInt("rows_per_workgroup", per_workgroup);
    addInt("workgroups", ceilDiv(rows, per_workgroup));
    addInt("vector_width", t.simd_lanes_f32);
    return b.getDictionaryAttr(entries);
  }
};

}  // namespace
}  // namespace moec
