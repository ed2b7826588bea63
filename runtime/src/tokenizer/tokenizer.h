// The o200k_harmony tokenizer: byte-level BPE over the o200k_base ranks with
// the o200k pre-tokenizer, plus the harmony special tokens.
//
// Token ids: 0..num_ranks()-1 are the BPE ranks from the ranks file (199,998
// of them for o200k_base); 199998..201087 are special tokens (see
// SpecialTokenName), so vocab_size() is 201088, the model's embedding rows.
//
// Special token 200018 has two names in the reference tables: tiktoken and
// Hugging Face call it `<|endofprompt|>` (inherited from o200k_base), while
// tiktoken's reserved range also names it `<|reserved_200018|>`. Both strings
// encode to 200018 when specials are allowed; it decodes to `<|endofprompt|>`
// (the name in the Hugging Face tokenizer.json and the harmony test vectors).
#ifndef MOERT_TOKENIZER_TOKENIZER_H_
#define MOERT_TOKENIZER_TOKENIZER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "tokenizer/vocabulary.h"

namespace moert {

// The o200k_harmony special token ids (spec section 4.2).
enum SpecialTokenId : TokenId {
  kTokenStartOfText = 199998,
  kTokenEndOfText = 199999,
  kTokenReturn = 200002,
  kTokenConstrain = 200003,
  kTokenChannel = 200005,
  kTokenStart = 200006,
  kTokenEnd = 200007,
  kTokenMessage = 200008,
  kTokenCall = 200012,
  kTokenEndOfPrompt = 200018,
};
constexpr TokenId kFirstSpecialTokenId = 199998;
constexpr TokenId kVocabSize = 201088;  // one past the last special (201087)

// The canonical name of special token `id` (kFirstSpecialTokenId <= id <
// kVocabSize): "<|start|>", ..., "<|reserved_200013|>", ...
std::string SpecialTokenName(TokenId id);

// Which special tokens Encode may produce; all others are encoded as the
// ordinary text of their names (as tiktoken's encode_ordinary does).
class AllowedSpecialTokens {
 public:
  static AllowedSpecialTokens None() { return AllowedSpecialTokens(false, {}); }
  static AllowedSpecialTokens All() { return AllowedSpecialTokens(true, {}); }
  static AllowedSpecialTokens Only(std::vector<TokenId> ids) {
    return AllowedSpecialTokens(false, std::move(ids));
  }
  bool Allows(TokenId id) const;

 private:
  AllowedSpecialTokens(bool all, std::vector<TokenId> ids) : all_(all), ids_(std::move(ids)) {}
  bool all_;
  std::vector<TokenId> ids_;
};

class Tokenizer {
 public:
  // Loads BPE ranks from a tiktoken ranks file (lines `base64(bytes) SP rank`,
  // ranks 0, 1, 2, ... in order). Errors name the file and line.
  static Result<Tokenizer> LoadTiktokenFile(const std::string& path);
  // Same, from the file's contents; `source_name` is used in errors.
  static Result<Tokenizer> FromTiktokenText(std::string_view contents,
                                            const std::string& source_name);

  // Loads a Hugging Face tokenizer.json: `model.vocab` maps GPT-2 byte-level
  // strings to ranks (`model.merges` is redundant for a rank-ordered BPE and
  // is not read); every `added_tokens` entry must agree with the o200k_harmony
  // special table.
  static Result<Tokenizer> LoadHuggingFaceFile(const std::string& path);
  static Result<Tokenizer> FromHuggingFaceJson(std::string_view json,
                                               const std::string& source_name);

  // Picks the parser by content: text whose first non-blank character is '{'
  // is a tokenizer.json, anything else a .tiktoken ranks file.
  static bool IsHuggingFaceJson(std::string_view contents);
  static Result<Tokenizer> FromContents(std::string_view contents, const std::string& source_name);
  static Result<Tokenizer> LoadFile(const std::string& path);

  uint32_t num_ranks() const { return vocabulary_.size(); }
  uint32_t vocab_size() const { return kVocabSize; }
  bool IsSpecial(TokenId id) const { return id >= kFirstSpecialTokenId && id < kVocabSize; }
  // The id of a special token name, including the alias <|reserved_200018|>.
  std::optional<TokenId> FindSpecialToken(std::string_view name) const;

  // Ordinary encoding (tiktoken encode_ordinary): special-token names are
  // plain text. Fails when `text` is not valid UTF-8 (naming the byte offset).
  Result<std::vector<TokenId>> EncodeOrdinary(std::string_view text) const;
  // Appends the ordinary encoding of `text` to `*out`.
  Status EncodeOrdinaryInto(std::string_view text, std::vector<TokenId>* out) const;
  // Encoding where the names of allowed special tokens become their ids.
  Result<std::vector<TokenId>> Encode(std::string_view text,
                                      const AllowedSpecialTokens& allowed) const;

  // Bytes of one token (special tokens give their names). Fails for ids that
  // are neither a rank nor a special token.
  Result<std::string_view> TokenBytes(TokenId id) const;
  // Concatenated bytes of `ids`; may be invalid UTF-8 (a token can end inside
  // a multi-byte character).
  Result<std::string> DecodeBytes(const std::vector<TokenId>& ids) const;
  // As DecodeBytes, but fails when the bytes are not valid UTF-8.
  Result<std::string> DecodeUtf8(const std::vector<TokenId>& ids) const;

  // Encodes one pre-tokenized piece with BPE and appends its ranks. Exposed
  // for tests; `force_heap_merge` selects the O(n log n) merge loop that long
  // pieces use, so tests can check it against the quadratic one.
  void EncodePiece(std::string_view piece, std::vector<TokenId>* out,
                   bool force_heap_merge = false) const;

 private:
  explicit Tokenizer(Vocabulary vocabulary);
  void EncodeValidUtf8(std::string_view text, std::vector<TokenId>* out) const;
  void MergeQuadratic(std::string_view piece, std::vector<TokenId>* out) const;
  void MergeWithHeap(std::string_view piece, std::vector<TokenId>* out) const;

  Vocabulary vocabulary_;
  std::vector<std::string> special_names_;  // indexed by id - kFirstSpecialTokenId
  std::unordered_map<std::string, TokenId> special_ids_;
};

}  // namespace moert

#endif  // MOERT_TOKENIZER_TOKENIZER_H_
