// The o200k pre-tokenizer: splits text into the pieces that BPE then encodes
// one by one. It implements exactly what tiktoken's o200k_base pattern matches
// under fancy-regex (leftmost-first alternation, greedy quantifiers that
// backtrack), written out by hand so that no regex engine is needed:
//
//   [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//  |[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//  |\p{N}{1,3}
//  | ?[^\s\p{L}\p{N}]+[\r\n/]*
//  |\s*[\r\n]+
//  |\s+(?!\S)
//  |\s+
//
// `\s` is Unicode White_Space (Rust regex semantics; U+0085 is included,
// U+FEFF and U+200B are not) and `(?i:...)` also accepts U+017F (long s) for
// 's', as Unicode simple case folding does. Every position starts a match of
// at least one character, so the pieces tile the text.
#ifndef MOERT_TOKENIZER_PRETOKENIZER_H_
#define MOERT_TOKENIZER_PRETOKENIZER_H_

#include <cstddef>
#include <string_view>

namespace moert {

// Returns the end (byte offset, > start) of the piece that starts at `start`.
// `text` must be well-formed UTF-8 and `start` < text.size() must be the start
// of a code point.
size_t NextO200kPieceEnd(std::string_view text, size_t start);

// Calls `on_piece(std::string_view piece)` for each piece of `text` in order.
template <typename Fn>
void ForEachO200kPiece(std::string_view text, Fn&& on_piece) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = NextO200kPieceEnd(text, pos);
    on_piece(text.substr(pos, end - pos));
    pos = end;
  }
}

}  // namespace moert

#endif  // MOERT_TOKENIZER_PRETOKENIZER_H_
