// Small UTF-8 helpers shared by the JSON reader, the tokenizer, its streaming
// decoder and the harmony parser. Decoding follows the Unicode "maximal subpart" rule for
// invalid input (one U+FFFD per maximal ill-formed subsequence), which is what
// Rust's String::from_utf8_lossy and Python's bytes.decode(errors="replace")
// do, so replaced text matches the reference implementations.
#ifndef MOERT_BASE_UTF8_H_
#define MOERT_BASE_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace moert {

// U+FFFD REPLACEMENT CHARACTER.
inline constexpr std::string_view kUtf8Replacement = "\xEF\xBF\xBD";

// Where the first problem in a byte string is. `valid_up_to` bytes from the
// start are well-formed. If the rest is not empty, `error_length` is the length
// of the maximal ill-formed subpart there (1..3), or 0 when the bytes are the
// truncated start of a sequence that reaches the end of the input (more bytes
// may still complete it).
struct Utf8Scan {
  size_t valid_up_to = 0;
  size_t error_length = 0;
};
Utf8Scan ScanUtf8(std::string_view bytes);

// True when `bytes` is well-formed UTF-8 (no overlongs, no surrogates, no
// truncated sequence, nothing above U+10FFFF).
inline bool IsValidUtf8(std::string_view bytes) { return ScanUtf8(bytes).valid_up_to == bytes.size(); }

// Decodes the code point starting at `pos` of well-formed UTF-8 `text` and
// sets `*length` to its byte length. The caller guarantees well-formedness.
inline uint32_t DecodeValidUtf8At(std::string_view text, size_t pos, size_t* length) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data()) + pos;
  uint8_t b0 = s[0];
  if (b0 < 0x80) {
    *length = 1;
    return b0;
  }
  if (b0 < 0xE0) {
    *length = 2;
    return (uint32_t(b0 & 0x1F) << 6) | (s[1] & 0x3F);
  }
  if (b0 < 0xF0) {
    *length = 3;
    return (uint32_t(b0 & 0x0F) << 12) | (uint32_t(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
  }
  *length = 4;
  return (uint32_t(b0 & 0x07) << 18) | (uint32_t(s[1] & 0x3F) << 12) |
         (uint32_t(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
}

// Appends the UTF-8 encoding of `code_point` (<= U+10FFFF, not a surrogate).
void AppendUtf8(std::string& out, uint32_t code_point);

// Appends `bytes` to `out`, replacing each maximal ill-formed subpart with
// U+FFFD (a truncated sequence at the end counts as one subpart).
void AppendUtf8Lossy(std::string& out, std::string_view bytes);

}  // namespace moert

#endif  // MOERT_BASE_UTF8_H_
