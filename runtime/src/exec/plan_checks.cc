#include "exec/plan_checks.h"

#include <limits>

#include "base/checked_math.h"

namespace moert::exec {

using moex::BufferKind;

namespace {

const char* KindName(BufferKind kind) { return moex::EnumNameBufferKind(kind); }

std::string BufferName(const moex::Manifest& m, uint32_t index) {
  const moex::Buffer* b = m.buffers()->Get(index);
  return StrCat("buffers[", index, "] (", b->name() ? b->name()->str() : std::string("?"), ")");
}

template <typename T>
uint32_t Size(const flatbuffers::Vector<T>* v) {
  return v ? v->size() : 0;
}

Status CheckInputBuffer(const moex::Manifest& m, const std::string& where, const char* field,
                        uint32_t index, BufferKind kind, uint64_t min_size) {
  if (index >= Size(m.buffers())) {
    return DataLoss(where, ".", field, " = ", index, " is past the ", Size(m.buffers()),
                    " buffers");
  }
  const moex::Buffer* b = m.buffers()->Get(index);
  if (b->kind() != kind) {
    return DataLoss(where, ".", field, " names ", BufferName(m, index), " of kind ",
                    KindName(b->kind()), "; expected ", KindName(kind));
  }
  if (b->size() < min_size) {
    return DataLoss(where, ".", field, " names ", BufferName(m, index), " of ", b->size(),
                    " bytes; the entry point needs ", min_size);
  }
  return Status::Ok();
}

}  // namespace

Status CheckEntryPointPlan(const moex::Manifest& m, uint32_t e, uint32_t vocab) {
  const moex::EntryPoint* ep = m.entry_points()->Get(e);
  const std::string where = StrCat("entry_points[", e, "] (",
                                   ep->name() ? ep->name()->str() : std::string("?"), ")");
  if (ep->rows() == 0) return DataLoss(where, ".rows is 0");
  uint64_t input_bytes = 0, logits_bytes = 0;
  if (!CheckedMul(ep->rows(), 4, &input_bytes) ||
      !CheckedProduct({ep->rows(), vocab, 4}, &logits_bytes)) {
    return DataLoss(where, ": ", ep->rows(), " rows overflow a size");
  }
  MOERT_RETURN_IF_ERROR(CheckInputBuffer(m, where, "tokens", ep->tokens(), BufferKind::INPUT, input_bytes));
  MOERT_RETURN_IF_ERROR(CheckInputBuffer(m, where, "positions", ep->positions(), BufferKind::INPUT, input_bytes));
  MOERT_RETURN_IF_ERROR(CheckInputBuffer(m, where, "slots", ep->slots(), BufferKind::INPUT, input_bytes));
  MOERT_RETURN_IF_ERROR(CheckInputBuffer(m, where, "logits", ep->logits(), BufferKind::OUTPUT, logits_bytes));
  MOERT_RETURN_IF_ERROR(CheckInputBuffer(m, where, "live_rows", ep->live_rows(), BufferKind::INPUT, 8));

  for (uint32_t d = 0; d < Size(ep->dispatches()); ++d) {
    const moex::Dispatch* dispatch = ep->dispatches()->Get(d);
    const std::string at = StrCat(where, ".dispatches[", d, "]");
    if (dispatch->image() >= Size(m.images())) {
      return DataLoss(at, ".image = ", dispatch->image(), " is past the ", Size(m.images()),
                      " images");
    }
    const moex::DeviceImage* image = m.images()->Get(dispatch->image());
    if (dispatch->kernel() >= Size(image->kernels())) {
      return DataLoss(at, ".kernel = ", dispatch->kernel(), " is past the ",
                      Size(image->kernels()), " kernels of image ", dispatch->image());
    }
    const moex::Kernel* kernel = image->kernels()->Get(dispatch->kernel());
    const std::string kernel_name = kernel->name() ? kernel->name()->str() : std::string("?");
    uint64_t workgroups = 0;
    if (dispatch->workgroups_x() == 0 || dispatch->workgroups_y() == 0 ||
        dispatch->workgroups_z() == 0) {
      return DataLoss(at, " (", kernel_name, ") has a workgroup count of 0");
    }
    if (!CheckedProduct({dispatch->workgroups_x(), dispatch->workgroups_y(),
                         dispatch->workgroups_z()},
                        &workgroups) ||
        workgroups > std::numeric_limits<size_t>::max()) {
      return DataLoss(at, " (", kernel_name, "): workgroup counts overflow");
    }
    if (Size(dispatch->bindings()) != kernel->num_bindings()) {
      return DataLoss(at, " (", kernel_name, ") passes ", Size(dispatch->bindings()),
                      " bindings; the kernel takes ", kernel->num_bindings());
    }
    if (Size(dispatch->constants()) != kernel->num_constants()) {
      return DataLoss(at, " (", kernel_name, ") passes ", Size(dispatch->constants()),
                      " constants; the kernel takes ", kernel->num_constants());
    }
    for (uint32_t b = 0; b < Size(dispatch->bindings()); ++b) {
      const moex::Binding* binding = dispatch->bindings()->Get(b);
      if (binding->buffer() >= Size(m.buffers())) {
        return DataLoss(at, ".bindings[", b, "].buffer = ", binding->buffer(), " is past the ",
                        Size(m.buffers()), " buffers");
      }
      const moex::Buffer* buffer = m.buffers()->Get(binding->buffer());
      uint64_t end = 0;
      if (!CheckedAdd(binding->offset(), binding->size(), &end) || end > buffer->size()) {
        return DataLoss(at, " (", kernel_name, ").bindings[", b, "] = [", binding->offset(),
                        ", +", binding->size(), ") exceeds ", BufferName(m, binding->buffer()),
                        " of ", buffer->size(), " bytes");
      }
    }
  }
  return Status::Ok();
}


std::string BufferDescription(const moex::Manifest& m, uint32_t index) { return BufferName(m, index); }

}  // namespace moert::exec
