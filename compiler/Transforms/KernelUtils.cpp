//===- KernelUtils.cpp - forming moe.kernel regions -----------------------===//
#include "compiler/Transforms/KernelUtils.h"

#include "llvm/ADT/SetVector.h"
#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;

namespace moec {

bool isKernelCandidate(Operation* op) {
  if (isa<moe::WeightOp, moe::KernelOp, moe::YieldOp>(op)) return false;
  if (op->hasTrait<OpTrait::IsTerminator>() || op->hasTrait<OpTrait::ConstantLike>()) return false;
  if (op->getParentOfType<moe::KernelOp>()) return false;
  return isa<moe::MoeDialect, arith::ArithDialect>(op->getDialect());
}

FailureOr<moe::KernelOp> wrapInKernel(RewriterBase& rewriter, ArrayRef<Operation*> ops, StringRef name) {
  if (ops.empty()) return failure();
  SmallVector<Operation*> sorted(ops.begin(), ops.end());
  Block* block = sorted.front()->getBlock();
  for (Operation* op : sorted) {
    if (op->getBlock() != block) return failure();
  }
  llvm::sort(sorted, [](Operation* a, Operation* b) { return a->isBeforeInBlock(b); });
  llvm::SmallPtrSet<Operation*, 8> members(sorted.begin(), sorted.end());
  Operation* last = sorted.back();

  // Results used outside the group become the kernel's results; those uses
  // must all come after the kernel's position.
  SmallVector<Value> escaping;
  for (Operation* op : sorted) {
    for (Value result : op->getResults()) {
      bool used_outside = false;
      for (Operation* user : result.getUsers()) {
        Operation* ancestor = block->findAncestorOpInBlock(*user);
        if (ancestor && members.contains(ancestor)) continue;
        if (!ancestor || ancestor->isBeforeInBlock(last) || ancestor == last) return failure();
        used_outside = true;
      }
      if (used_outside) escaping.push_back(result);
    }
  }

  rewriter.setInsertionPoint(last);
  auto kernel = moe::KernelOp::create(rewriter, last->getLoc(), ValueRange(escaping).getTypes(), name);
  Block& body = kernel.getBody().front();
  for (Operation* op : sorted) rewriter.moveOpBefore(op, &body, body.end());
  rewriter.setInsertionPointToEnd(&body);
  moe::YieldOp::create(rewriter, last->getLoc(), escaping);
  for (auto [value, replacement] : llvm::zip(escaping, kernel.getResults())) {
    rewriter.replaceUsesWithIf(value, replacement, [&](OpOperand& use) {
      return !kernel->isProperAncestor(use.getOwner());
    });
  }
  return kernel;
}

}  // namespace moec
