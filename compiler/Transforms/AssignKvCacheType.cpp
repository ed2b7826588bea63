//===- AssignKvCacheType.cpp - the KV caches' element type per target -----===//
#include "compiler/Transforms/Passes.h"
#include "targets/common/TargetDescription.h"

namespace moec {
#define GEN_PASS_DEF_MOEASSIGNKVCACHETYPE
#include "compiler/Transforms/Passes.h.inc"
}  // namespace moec

using namespace mlir;

namespace moec {
namespace {

bool isCacheArgument(func::FuncOp fn, unsigned index) {
  auto name = fn.getArgAttrOfType<StringAttr>(index, "moe.name");
  return name && (name.getValue().starts_with("key_cache.") || name.getValue().starts_with("value_cache."));
}

RankedTensorType withElementType(Type type, Type element) {
  auto tensor = cast<RankedTensorType>(type);
  return RankedTensorType::get(tensor.getShape(), element, tensor.getEncoding());
}

struct MoeAssignKvCacheTypePass : impl::MoeAssignKvCacheTypeBase<MoeAssignKvCacheTypePass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    std::string chosen = elementType;
    if (chosen.empty()) {
      moert::Result<TargetDescription> described = LookupTarget(target);
      if (!described.ok()) {
        fn.emitError() << "moe-assign-kv-cache-type: " << described.status().message();
        return signalPassFailure();
      }
      chosen = described->kv_cache_element_type;
    }
    Builder b(&getContext());
    Type element;
    if (chosen == "f32") {
      element = b.getF32Type();
    } else if (chosen == "bf16") {
      element = b.getBF16Type();
    } else {
      fn.emitError() << "moe-assign-kv-cache-type: element-type must be f32 or bf16, got \"" << chosen << "\"";
      return signalPassFailure();
    }

    // Every cache argument: retype it, then everything it reaches.
    for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
      if (!isCacheArgument(fn, i)) continue;
      BlockArgument arg = fn.getArgument(i);
      if (cast<RankedTensorType>(arg.getType()).getElementType() == element) continue;
      if (failed(retype(arg, element))) return signalPassFailure();
    }
    // The signature follows the block arguments and the returned values.
    SmallVector<Type> results;
    fn.walk([&](func::ReturnOp ret) { results.assign(ret.getOperandTypes().begin(), ret.getOperandTypes().end()); });
    fn.setFunctionType(FunctionType::get(&getContext(), fn.getBody().getArgumentTypes(), results));
  }

  // Retypes `value` and, through moe.attention, the updated cache it becomes.
  LogicalResult retype(Value value, Type element) {
    value.setType(withElementType(value.getType(), element));
    for (OpOperand& use : value.getUses()) {
      Operation* user = use.getOwner();
      if (isa<func::ReturnOp>(user)) continue;
      auto attention = dyn_cast<moe::AttentionOp>(user);
      if (!attention) {
        return user->emitOpError() << "reads a KV cache; moe-assign-kv-cache-type can only retype caches that "
                                      "flow between the arguments, moe.attention and func.return";
      }
      Value updated;
      if (use.get() == attention.getKeyCache()) updated = attention.getNewKeyCache();
      if (use.get() == attention.getValueCache()) updated = attention.getNewValueCache();
      if (!updated) {
        return attention.emitOpError() << "uses a KV cache as operand " << use.getOperandNumber()
                                       << ", which is not a cache operand";
      }
      if (failed(retype(updated, element))) return failure();
    }
    return success();
  }
};

}  // namespace
}  // namespace moec
