// Unicode properties the o200k pre-tokenizer needs: the letter subcategories
// (Lu, Ll, Lt, Lm, Lo), marks (M = Mn|Mc|Me), numbers (N = Nd|Nl|No) and
// White_Space (what `\s` means in the Rust regex crate that tiktoken uses).
// The table is generated at build time from the Unicode Character Database by
// gen_unicode_tables.py, so no regex engine or ICU is needed at run time.
#ifndef MOERT_TOKENIZER_UNICODE_CLASSES_H_
#define MOERT_TOKENIZER_UNICODE_CLASSES_H_

#include <cstdint>

namespace moert {

// One bit per property; a code point has at most one category bit plus
// possibly kWhiteSpace. Keep in sync with gen_unicode_tables.py.
enum CodePointClassBits : uint8_t {
  kClassLu = 1 << 0,
  kClassLl = 1 << 1,
  kClassLt = 1 << 2,
  kClassLm = 1 << 3,
  kClassLo = 1 << 4,
  kClassMark = 1 << 5,
  kClassNumber = 1 << 6,
  kClassWhiteSpace = 1 << 7,
};

constexpr uint8_t kClassLetter = kClassLu | kClassLl | kClassLt | kClassLm | kClassLo;

namespace unicode_internal {
constexpr int kClassBlockBits = 8;
extern const uint16_t kClassStage1[];
extern const uint8_t kClassStage2[];
}  // namespace unicode_internal

// Class bits of `code_point`; 0 for code points past U+10FFFF.
inline uint8_t CodePointClass(uint32_t code_point) {
  using namespace unicode_internal;
  if (code_point > 0x10FFFF) return 0;
  uint32_t block = kClassStage1[code_point >> kClassBlockBits];
  return kClassStage2[(block << kClassBlockBits) |
                      (code_point & ((1u << kClassBlockBits) - 1))];
}

inline bool IsUnicodeWhiteSpace(uint32_t code_point) {
  return (CodePointClass(code_point) & kClassWhiteSpace) != 0;
}

}  // namespace moert

#endif  // MOERT_TOKENIZER_UNICODE_CLASSES_H_
