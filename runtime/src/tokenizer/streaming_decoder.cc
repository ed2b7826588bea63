#include "tokenizer/streaming_decoder.h"

#include "base/utf8.h"

namespace moert {

Status StreamingDecoder::Push(TokenId id, std::string* out) {
  MOERT_ASSIGN_OR_RETURN(std::string_view bytes, tokenizer_->TokenBytes(id));
  pending_.append(bytes);
  std::string_view rest = pending_;
  while (!rest.empty()) {
    Utf8Scan scan = ScanUtf8(rest);
    out->append(rest.substr(0, scan.valid_up_to));
    rest.remove_prefix(scan.valid_up_to);
    if (rest.empty() || scan.error_length == 0) break;  // done, or wait for more bytes
    out->append(kUtf8Replacement);
    rest.remove_prefix(scan.error_length);
  }
  pending_.erase(0, pending_.size() - rest.size());
  return Status::Ok();
}

Result<std::string> StreamingDecoder::Push(TokenId id) {
  std::string out;
  MOERT_RETURN_IF_ERROR(Push(id, &out));
  return out;
}

void StreamingDecoder::Finish(std::string* out) {
  AppendUtf8Lossy(*out, pending_);
  pending_.clear();
}

std::string StreamingDecoder::Finish() {
  std::string out;
  Finish(&out);
  return out;
}

}  // namespace moert
