// The checks every executor makes once, when it is created, on a manifest's
// entry points: indices in range, input/output buffers of the right kind and
// size, workgroup counts, binding and constant counts, binding ranges inside
// their buffers. The CPU session and the GPU session share them.
#ifndef MOERT_EXEC_PLAN_CHECKS_H_
#define MOERT_EXEC_PLAN_CHECKS_H_

#include <cstdint>
#include <string>

#include "base/status.h"
#include "schema/moex_generated.h"

namespace moert::exec {

// Checks entry point `entry` of `manifest` for a model with `vocab` logits
// per row; errors name the field, the index, the value and the limit.
Status CheckEntryPointPlan(const moex::Manifest& manifest, uint32_t entry, uint32_t vocab);

// "buffers[3] (decode/arena:0+512)", for messages.
std::string BufferDescription(const moex::Manifest& manifest, uint32_t index);

}  // namespace moert::exec

#endif  // MOERT_EXEC_PLAN_CHECKS_H_
