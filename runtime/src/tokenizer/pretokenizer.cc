#include "tokenizer/pretokenizer.h"

#include <cstdint>

#include "tokenizer/unicode_classes.h"
#include "base/utf8.h"

namespace moert {
namespace {

// The character sets of the pattern, as class-bit masks.
// "Upper-ish": [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
constexpr uint8_t kUpperSet = kClassLu | kClassLt | kClassLm | kClassLo | kClassMark;
// "Lower-ish": [\p{Ll}\p{Lm}\p{Lo}\p{M}]
constexpr uint8_t kLowerSet = kClassLl | kClassLm | kClassLo | kClassMark;

constexpr size_t kNoPosition = static_cast<size_t>(-1);

// One decoded character of the text.
struct Char {
  uint32_t code_point;
  uint8_t cls;
  uint8_t length;
};

class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool AtEnd(size_t pos) const { return pos >= text_.size(); }

  Char At(size_t pos) const {
    auto b = static_cast<uint8_t>(text_[pos]);
    if (b < 0x80) return {b, AsciiClass(b), 1};
    size_t length;
    uint32_t cp = DecodeValidUtf8At(text_, pos, &length);
    return {cp, CodePointClass(cp), static_cast<uint8_t>(length)};
  }

  // [^\r\n\p{L}\p{N}]
  static bool IsLetterPrefix(const Char& c) {
    return c.code_point != '\r' && c.code_point != '\n' &&
           (c.cls & (kClassLetter | kClassNumber)) == 0;
  }
  // [^\s\p{L}\p{N}]
  static bool IsSymbol(const Char& c) {
    return (c.cls & (kClassLetter | kClassNumber | kClassWhiteSpace)) == 0;
  }
  static bool IsSpace(const Char& c) { return (c.cls & kClassWhiteSpace) != 0; }
  static bool IsNewline(const Char& c) { return c.code_point == '\r' || c.code_point == '\n'; }

  // (?i:'s|'t|'re|'ve|'m|'ll|'d) at `pos`: the end of the match, or `pos`.
  size_t MatchContraction(size_t pos) const {
    if (AtEnd(pos) || text_[pos] != '\'' || AtEnd(pos + 1)) return pos;
    // ASCII letters only (| 0x20 lowers A-Z and maps no other byte onto a-z).
    auto lower_at = [this](size_t i) { return static_cast<char>(text_[i] | 0x20); };
    switch (lower_at(pos + 1)) {
      case 's': case 't': case 'm': case 'd':
        return pos + 2;
      case 'r': case 'v':
        if (!AtEnd(pos + 2) && lower_at(pos + 2) == 'e') return pos + 3;
        return pos;
      case 'l':
        if (!AtEnd(pos + 2) && lower_at(pos + 2) == 'l') return pos + 3;
        return pos;
      default:
        break;
    }
    // U+017F LATIN SMALL LETTER LONG S case-folds to 's' (C5 BF in UTF-8).
    if (text_.size() - pos >= 3 && static_cast<uint8_t>(text_[pos + 1]) == 0xC5 &&
        static_cast<uint8_t>(text_[pos + 2]) == 0xBF) {
      return pos + 3;
    }
    return pos;
  }

  // Alternatives 1 and 2, starting after the optional prefix at `pos`.
  // Returns the end of the match or kNoPosition.
  size_t MatchLowerTailWord(size_t pos) const {
    // [Upper]* then [Lower]+: the starred run is greedy and gives characters
    // back until the next one can start the [Lower]+ run, so the [Lower]+ run
    // starts at the last position (scanning the maximal [Upper] run and the
    // character after it) whose character is in [Lower].
    size_t lower_start = kNoPosition;
    size_t q = pos;
    while (!AtEnd(q)) {
      Char c = At(q);
      if (c.cls & kUpperSet) {
        if (c.cls & kLowerSet) lower_start = q;
        q += c.length;
        continue;
      }
      if (c.cls & kLowerSet) lower_start = q;
      break;
    }
    if (lower_start == kNoPosition) return kNoPosition;
    size_t r = lower_start;
    while (!AtEnd(r)) {
      Char c = At(r);
      if (!(c.cls & kLowerSet)) break;
      r += c.length;
    }
    return MatchContraction(r);
  }

  size_t MatchUpperHeadWord(size_t pos) const {
    // [Upper]+ then [Lower]*: both greedy and the star can be empty, so the
    // first choice (maximal runs) always succeeds.
    size_t q = pos;
    while (!AtEnd(q)) {
      Char c = At(q);
      if (!(c.cls & kUpperSet)) break;
      q += c.length;
    }
    if (q == pos) return kNoPosition;
    while (!AtEnd(q)) {
      Char c = At(q);
      if (!(c.cls & kLowerSet)) break;
      q += c.length;
    }
    return MatchContraction(q);
  }

  size_t NextPieceEnd(size_t start) const {
    const Char first = At(start);
    const bool has_prefix = IsLetterPrefix(first);
    const size_t after_prefix = start + first.length;

    // Alternative 1, with the optional prefix taken first, then without.
    if (has_prefix) {
      size_t end = MatchLowerTailWord(after_prefix);
      if (end != kNoPosition) return end;
    }
    if (size_t end = MatchLowerTailWord(start); end != kNoPosition) return end;
    // Alternative 2, same order.
    if (has_prefix) {
      size_t end = MatchUpperHeadWord(after_prefix);
      if (end != kNoPosition) return end;
    }
    if (size_t end = MatchUpperHeadWord(start); end != kNoPosition) return end;

    // Alternative 3: \p{N}{1,3}.
    if (first.cls & kClassNumber) {
      size_t q = after_prefix;
      for (int count = 1; count < 3 && !AtEnd(q); ++count) {
        Char c = At(q);
        if (!(c.cls & kClassNumber)) break;
        q += c.length;
      }
      return q;
    }

    // Alternative 4: " ?[^\s\p{L}\p{N}]+[\r\n/]*". Without the space the first
    // character itself must be a symbol (a space never is).
    size_t symbols_start = kNoPosition;
    if (first.code_point == ' ' && !AtEnd(after_prefix) && IsSymbol(At(after_prefix))) {
      symbols_start = after_prefix;
    } else if (IsSymbol(first)) {
      symbols_start = start;
    }
    if (symbols_start != kNoPosition) {
      size_t q = symbols_start;
      while (!AtEnd(q)) {
        Char c = At(q);
        if (!IsSymbol(c)) break;
        q += c.length;
      }
      while (!AtEnd(q) && (text_[q] == '\r' || text_[q] == '\n' || text_[q] == '/')) ++q;
      return q;
    }

    // The remaining alternatives start with whitespace; every character left
    // here is whitespace (letters, numbers and symbols were handled above).
    // Scan the maximal whitespace run once.
    size_t run_end = start;
    size_t last_newline = kNoPosition;  // start of the last \r or \n in the run
    size_t last_char_start = start;     // start of the run's last character
    size_t run_chars = 0;
    while (!AtEnd(run_end)) {
      Char c = At(run_end);
      if (!IsSpace(c)) break;
      if (IsNewline(c)) last_newline = run_end;
      last_char_start = run_end;
      run_end += c.length;
      ++run_chars;
    }
    // Alternative 5: \s*[\r\n]+ ends right after the run's last newline
    // (\s* backtracks to it; what follows it in the run is not a newline).
    if (last_newline != kNoPosition) return last_newline + 1;
    // Alternative 6: \s+(?!\S) takes the whole run at the end of the text,
    // otherwise all but the run's last character (which then precedes the
    // next word as its prefix).
    if (AtEnd(run_end)) return run_end;
    if (run_chars >= 2) return last_char_start;
    // Alternative 7: \s+.
    return run_end;
  }

 private:
  static uint8_t AsciiClass(uint8_t b) {
    if ((b | 0x20) >= 'a' && (b | 0x20) <= 'z') return b >= 'a' ? kClassLl : kClassLu;
    if (b >= '0' && b <= '9') return kClassNumber;
    if (b == ' ' || (b >= '\t' && b <= '\r')) return kClassWhiteSpace;
    return 0;
  }

  std::string_view text_;
};

}  // namespace

size_t NextO200kPieceEnd(std::string_view text, size_t start) {
  return Scanner(text).NextPieceEnd(start);
}

}  // namespace moert
