//===- PlanMemory.cpp - buffers and arena offsets for the host plans -------===//
#include <map>

#include "compiler/Transforms/Passes.h"
#include "llvm/ADT/DenseMap.h"

namespace moec {
#define GEN_PASS_DEF_MOEPLANMEMORY
#include "compiler/Transforms/Passes.h.inc"
}  // namespace moec

using namespace mlir;

namespace moec {
namespace {

int64_t byteSize(Type type) {
  auto tensor = cast<RankedTensorType>(type);
  return tensor.getNumElements() * static_cast<int64_t>(tensor.getElementTypeBitWidth() / 8);
}

// The callee operand a kernel result updates in place, or -1: results of a
// moe.attention that are its updated caches are tied to the cache operands.
int64_t tiedOperand(func::FuncOp callee, unsigned resultIndex) {
  auto ret = cast<func::ReturnOp>(callee.getBody().front().getTerminator());
  Value returned = ret.getOperand(resultIndex);
  auto attention = returned.getDefiningOp<moe::AttentionOp>();
  if (!attention) return -1;
  Value cache;
  if (returned == attention.getNewKeyCache()) cache = attention.getKeyCache();
  if (returned == attention.getNewValueCache()) cache = attention.getValueCache();
  auto arg = dyn_cast_or_null<BlockArgument>(cache);
  return arg ? static_cast<int64_t>(arg.getArgNumber()) : -1;
}

struct MoePlanMemoryPass : impl::MoePlanMemoryBase<MoePlanMemoryPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    for (func::FuncOp entry : module.getOps<func::FuncOp>()) {
      if (entry.isPrivate() || entry.isExternal()) continue;
      if (failed(plan(entry, symbols))) return signalPassFailure();
    }
  }

  LogicalResult plan(func::FuncOp entry, SymbolTable& symbols) {
    Builder b(&getContext());
    llvm::DenseMap<Value, std::string> buffer;

    for (BlockArgument arg : entry.getArguments()) {
      auto name = entry.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "moe.name");
      if (!name) return entry.emitError() << "argument " << arg.getArgNumber() << " has no moe.name";
      const bool cache = name.getValue().starts_with("key_cache.") || name.getValue().starts_with("value_cache.");
      buffer[arg] = (cache ? "kv:" : "input:") + name.getValue().str();
    }
    entry.walk([&](moe::WeightOp weight) { buffer[weight.getResult()] = "weight:" + weight.getName().str(); });
    auto ret = cast<func::ReturnOp>(entry.getBody().front().getTerminator());
    if (ret.getNumOperands() > 0) buffer[ret.getOperand(0)] = "output:logits";

    // Live ranges of the arena values, in call order.
    SmallVector<func::CallOp> calls(entry.getBody().front().getOps<func::CallOp>());
    llvm::DenseMap<Operation*, int64_t> order;
    for (auto [i, call] : llvm::enumerate(calls)) order[call] = static_cast<int64_t>(i);
    const int64_t end = static_cast<int64_t>(calls.size());

    struct Block {
      int64_t offset, size, free_after;
    };
    std::vector<Block> live;  // sorted by offset
    int64_t arenaSize = 0;

    for (func::CallOp call : calls) {
      const int64_t now = order[call];
      // Space of values whose last use was an earlier call can be reused.
      live.erase(std::remove_if(live.begin(), live.end(), [&](const Block& blk) { return blk.free_after < now; }),
                 live.end());
      auto callee = symbols.lookup<func::FuncOp>(call.getCallee());
      if (!callee) return call.emitError() << "calls unknown kernel " << call.getCallee();
      for (auto [index, result] : llvm::enumerate(call.getResults())) {
        if (buffer.count(result)) continue;  // the logits
        if (int64_t tied = tiedOperand(callee, index); tied >= 0) {
          buffer[result] = buffer.lookup(call.getOperand(tied));
          continue;
        }
        int64_t lastUse = now;
        for (Operation* user : result.getUsers()) {
          lastUse = std::max(lastUse, isa<func::ReturnOp>(user) ? end : order.lookup(user));
        }
        const int64_t size = (byteSize(result.getType()) + alignment - 1) / alignment * alignment;
        // First fit between the live blocks.
        int64_t offset = 0;
        for (const Block& blk : live) {
          if (offset + size <= blk.offset) break;
          offset = std::max(offset, blk.offset + blk.size);
        }
        live.push_back({offset, size, lastUse});
        std::sort(live.begin(), live.end(), [](const Block& a, const Block& c) { return a.offset < c.offset; });
        arenaSize = std::max(arenaSize, offset + size);
        buffer[result] = "arena:" + std::to_string(offset) + "+" + std::to_string(byteSize(result.getType()));
      }
      SmallVector<Attribute> bindings;
      for (Value v : call.getOperands()) {
        auto it = buffer.find(v);
        if (it == buffer.end()) return call.emitError() << "operand has no buffer: " << v;
        bindings.push_back(b.getStringAttr(it->second));
      }
      for (Value v : call.getResults()) bindings.push_back(b.getStringAttr(buffer.lookup(v)));
      call->setAttr("moe.bindings", b.getArrayAttr(bindings));
    }
    entry->setAttr("moe.arena_size", b.getI64IntegerAttr(arenaSize));
    return success();
  }
};

}  // namespace
}  // namespace moec
