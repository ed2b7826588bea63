//===- OutlineKernels.cpp - moe.kernel -> private function + call ---------===//
#include "compiler/Transforms/Passes.h"
#include "llvm/ADT/SetVector.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"

namespace moec {
#define GEN_PASS_DEF_MOEOUTLINEKERNELS
#include "compiler/Transforms/Passes.h.inc"
}  // namespace moec

using namespace mlir;

namespace moec {
namespace {

struct MoeOutlineKernelsPass : impl::MoeOutlineKernelsBase<MoeOutlineKernelsPass> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    OpBuilder builder(&getContext());
    SmallVector<func::FuncOp> entries(module.getOps<func::FuncOp>());
    for (func::FuncOp entry : entries) {
      if (entry.isPrivate() || entry.isExternal()) continue;
      SmallVector<moe::KernelOp> kernels;
      entry.walk([&](moe::KernelOp kernel) { kernels.push_back(kernel); });
      for (auto [index, kernel] : llvm::enumerate(kernels)) outline(module, entry, kernel, index, builder);
    }
  }

  void outline(ModuleOp module, func::FuncOp entry, moe::KernelOp kernel, size_t index, OpBuilder& builder) {
    llvm::SetVector<Value> captured;
    getUsedValuesDefinedAbove(kernel.getBody(), captured);
    const std::string name = (entry.getSymName() + "." + std::to_string(index) + "." + kernel.getName()).str();

    builder.setInsertionPointToEnd(module.getBody());
    auto type = builder.getFunctionType(ValueRange(captured.getArrayRef()).getTypes(), kernel.getResultTypes());
    auto fn = func::FuncOp::create(builder, kernel.getLoc(), name, type);
    fn.setPrivate();
    if (DictionaryAttr schedule = kernel.getScheduleAttr()) fn->setAttr("moe.schedule", schedule);
    Block* body = fn.addEntryBlock();
    IRMapping mapping;
    for (auto [value, arg] : llvm::zip(captured, body->getArguments())) mapping.map(value, arg);
    builder.setInsertionPointToEnd(body);
    for (Operation& op : kernel.getBody().front()) {
      if (auto yield = dyn_cast<moe::YieldOp>(op)) {
        SmallVector<Value> results;
        for (Value v : yield.getValues()) results.push_back(mapping.lookup(v));
        func::ReturnOp::create(builder, yield.getLoc(), results);
        continue;
      }
      builder.clone(op, mapping);
    }

    builder.setInsertionPoint(kernel);
    auto call = func::CallOp::create(builder, kernel.getLoc(), fn, captured.getArrayRef());
    call->setAttr("moe.kernel", builder.getStringAttr(kernel.getName()));
    kernel.replaceAllUsesWith(call.getResults());
    kernel.erase();
  }
};

}  // namespace
}  // namespace moec
