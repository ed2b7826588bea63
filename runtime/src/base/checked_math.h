// Overflow-checked size arithmetic. Every size computed from untrusted input
// (a file header, a config, a flag) goes through these.
#ifndef MOERT_BASE_CHECKED_MATH_H_
#define MOERT_BASE_CHECKED_MATH_H_

#include <cstdint>
#include <initializer_list>

namespace moert {

// Each returns false (and leaves *out unspecified) on overflow.
inline bool CheckedAdd(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_add_overflow(a, b, out);
}
inline bool CheckedMul(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}
// Product of all factors.
inline bool CheckedProduct(std::initializer_list<uint64_t> factors, uint64_t* out) {
  uint64_t p = 1;
  for (uint64_t f : factors) {
    if (!CheckedMul(p, f, &p)) return false;
  }
  *out = p;
  return true;
}

}  // namespace moert

#endif  // MOERT_BASE_CHECKED_MATH_H_
