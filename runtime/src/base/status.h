// Status and Result<T>: how every fallible call in moert and the libraries it
// shares with the compiler reports failure. No exceptions cross these APIs; an
// error carries a code and a message that names the file, tensor, field or call
// at fault.
#ifndef MOERT_BASE_STATUS_H_
#define MOERT_BASE_STATUS_H_

#include <cassert>
#include <optional>
#include <sstream>
#include <string>
#include <utility>

namespace moert {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // the caller passed something unusable (flag, token id)
  kNotFound,           // a file, tensor or field that must exist does not
  kDataLoss,           // a file exists but its bytes are malformed
  kOutOfRange,         // a position or length past a limit
  kFailedPrecondition, // the object is not in a state for this call
  kUnimplemented,      // a valid request this build does not support
  kResourceExhausted,  // memory or disk
  kInternal,           // a bug in moert itself
  kUnavailable,        // an OS or driver call failed
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "DATA_LOSS: model.safetensors: header length 9999 exceeds ..."
  std::string ToString() const;

  // Prefixes the message with context ("loading model.safetensors: ...").
  Status Annotate(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

namespace internal {
inline void AppendAll(std::ostringstream&) {}
template <typename T, typename... Rest>
void AppendAll(std::ostringstream& out, const T& first, const Rest&... rest) {
  out << first;
  AppendAll(out, rest...);
}
}  // namespace internal

// StrCat("tensor ", name, " has ", n, " elements").
template <typename... Args>
std::string StrCat(const Args&... args) {
  std::ostringstream out;
  internal::AppendAll(out, args...);
  return out.str();
}

template <typename... Args>
Status MakeStatus(StatusCode code, const Args&... args) {
  return Status(code, StrCat(args...));
}
template <typename... Args>
Status InvalidArgument(const Args&... args) {
  return MakeStatus(StatusCode::kInvalidArgument, args...);
}
template <typename... Args>
Status NotFound(const Args&... args) {
  return MakeStatus(StatusCode::kNotFound, args...);
}
template <typename... Args>
Status DataLoss(const Args&... args) {
  return MakeStatus(StatusCode::kDataLoss, args...);
}
template <typename... Args>
Status OutOfRange(const Args&... args) {
  return MakeStatus(StatusCode::kOutOfRange, args...);
}
template <typename... Args>
Status FailedPrecondition(const Args&... args) {
  return MakeStatus(StatusCode::kFailedPrecondition, args...);
}
template <typename... Args>
Status Unimplemented(const Args&... args) {
  return MakeStatus(StatusCode::kUnimplemented, args...);
}
template <typename... Args>
Status ResourceExhausted(const Args&... args) {
  return MakeStatus(StatusCode::kResourceExhausted, args...);
}
template <typename... Args>
Status Internal(const Args&... args) {
  return MakeStatus(StatusCode::kInternal, args...);
}
template <typename... Args>
Status Unavailable(const Args&... args) {
  return MakeStatus(StatusCode::kUnavailable, args...);
}

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    assert(!status_.ok() && "a Result needs a value or an error");
    if (status_.ok()) status_ = Internal("Result built from an OK status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace moert

#define MOERT_STATUS_CONCAT_INNER(a, b) a##b
#define MOERT_STATUS_CONCAT(a, b) MOERT_STATUS_CONCAT_INNER(a, b)

// Returns from the enclosing function when `expr` (a Status) is an error.
#define MOERT_RETURN_IF_ERROR(expr)              \
  do {                                           \
    ::moert::Status moert_status_ = (expr);      \
    if (!moert_status_.ok()) return moert_status_; \
  } while (0)

// `MOERT_ASSIGN_OR_RETURN(auto x, MakeX());` binds the value or returns the
// error.
#define MOERT_ASSIGN_OR_RETURN(lhs, expr)                                   \
  MOERT_ASSIGN_OR_RETURN_IMPL(MOERT_STATUS_CONCAT(moert_result_, __LINE__), \
                              lhs, expr)
#define MOERT_ASSIGN_OR_RETURN_IMPL(result, lhs, expr) \
  auto result = (expr);                                \
  if (!result.ok()) return result.status();            \
  lhs = std::move(result).value()

#endif  // MOERT_BASE_STATUS_H_
