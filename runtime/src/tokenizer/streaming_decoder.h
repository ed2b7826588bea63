// Turns a stream of token ids into text without ever emitting a broken UTF-8
// sequence. A token may end in the middle of a multi-byte character (emoji and
// CJK text often do); those trailing bytes are held back until the next token
// completes them.
//
// Invalid bytes: as soon as a byte sequence can no longer become valid UTF-8
// it is replaced by U+FFFD (one per maximal ill-formed subpart, as Rust's
// from_utf8_lossy does) and decoding continues after it. Finish() replaces a
// held-back incomplete sequence at the end of the stream with one U+FFFD.
// So the output is always valid UTF-8, and for tokens whose bytes are valid
// UTF-8 the concatenated output is exactly the decoded text.
#ifndef MOERT_TOKENIZER_STREAMING_DECODER_H_
#define MOERT_TOKENIZER_STREAMING_DECODER_H_

#include <string>

#include "base/status.h"
#include "tokenizer/tokenizer.h"

namespace moert {

class StreamingDecoder {
 public:
  // `tokenizer` must outlive the decoder.
  explicit StreamingDecoder(const Tokenizer& tokenizer) : tokenizer_(&tokenizer) {}

  // Decodes one token and appends the text that became complete to `*out`
  // (possibly nothing). Fails, changing nothing, for an id outside the
  // vocabulary.
  Status Push(TokenId id, std::string* out);
  // Convenience: returns the completed text.
  Result<std::string> Push(TokenId id);

  // Appends what is still held back (as U+FFFD) and resets for a new stream.
  void Finish(std::string* out);
  std::string Finish();

  // Bytes held back waiting for the rest of a character (0..3).
  size_t pending_bytes() const { return pending_.size(); }

 private:
  const Tokenizer* tokenizer_;
  std::string pending_;
};

}  // namespace moert

#endif  // MOERT_TOKENIZER_STREAMING_DECODER_H_
