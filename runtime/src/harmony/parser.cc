#include "harmony/parser.h"

#include <algorithm>

#include "tokenizer/unicode_classes.h"
#include "base/utf8.h"

namespace moert {
namespace harmony {
namespace {

constexpr std::string_view kChannelMarker = "<|channel|>";
constexpr std::string_view kConstrainMarker = "<|constrain|>";

bool IsStopToken(TokenId token) {
  return token == kTokenEnd || token == kTokenCall || token == kTokenReturn;
}

// Byte length of the code point starting at `pos` (valid UTF-8).
uint32_t CodePointAt(const std::string& text, size_t pos, size_t* length) {
  return DecodeValidUtf8At(text, pos, length);
}

// Rust's str::trim(): strips Unicode White_Space at both ends.
std::string TrimWhiteSpace(const std::string& text) {
  size_t begin = 0;
  while (begin < text.size()) {
    size_t length;
    if (!IsUnicodeWhiteSpace(CodePointAt(text, begin, &length))) break;
    begin += length;
  }
  size_t end = begin;
  for (size_t pos = begin; pos < text.size();) {
    size_t length;
    bool space = IsUnicodeWhiteSpace(CodePointAt(text, pos, &length));
    pos += length;
    if (!space) end = pos;
  }
  return text.substr(begin, end - begin);
}

// Rust's split_ascii_whitespace(): splits on space, \t, \n, \f and \r and
// skips empty parts.
std::vector<std::string> SplitAsciiWhiteSpace(const std::string& text) {
  std::vector<std::string> parts;
  std::string current;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r') {
      if (!current.empty()) parts.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) parts.push_back(std::move(current));
  return parts;
}

bool StartsWith(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

std::string JoinWithSpaces(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i > 0 ? " " : "") + parts[i];
  return out;
}

}  // namespace

StreamableParser::StreamableParser(const Tokenizer& tokenizer, std::optional<Role> role,
                                   ParseOptions options)
    : tokenizer_(&tokenizer),
      options_(options),
      state_(role.has_value() ? State::kHeader : State::kExpectStart),
      next_role_(role) {}

Status StreamableParser::Process(TokenId token) { return ProcessNext(token); }

Status StreamableParser::ProcessEos() { return ProcessNext(std::nullopt); }

Status StreamableParser::ProcessNext(std::optional<TokenId> token) {
  if (token.has_value()) tokens_.push_back(*token);
  switch (state_) {
    case State::kExpectStart:
      // The end of the stream between messages is fine.
      if (!token.has_value()) return Status::Ok();
      if (*token != kTokenStart) {
        return InvalidArgument("unexpected token ", *token, " at position ", tokens_.size() - 1,
                               " while expecting the start token ", kTokenStart,
                               " (<|start|>)");
      }
      state_ = State::kHeader;
      header_tokens_.clear();
      return Status::Ok();

    case State::kHeader: {
      if (!token.has_value()) {
        return InvalidArgument("unexpected end of stream while waiting for the message header "
                               "to complete (no <|message|> token)");
      }
      if (*token == kTokenMessage) {
        Result<std::string> text = tokenizer_->DecodeUtf8(header_tokens_);
        if (!text.ok()) return text.status().Annotate("could not decode the message header");
        std::optional<std::string> rest;
        header_ = Header();
        MOERT_RETURN_IF_ERROR(ParseHeaderText(std::move(text).value(), next_role_,
                                              /*parse_recipient_and_type=*/true, &header_, &rest));
        if (rest.has_value()) {
          return InvalidArgument("unexpected tokens remaining in message header: \"", *rest, "\"");
        }
        next_role_.reset();
        header_tokens_.clear();
        content_.clear();
        state_ = State::kContent;
        return Status::Ok();
      }
      if (!options_.strict && IsStopToken(*token)) {
        // A message without <|message|>. If the parser was started inside
        // this header, recover it: the header text after the channel is the
        // content.
        if (next_role_.has_value() && !header_tokens_.empty()) {
          Result<std::string> text = tokenizer_->DecodeUtf8(header_tokens_);
          if (!text.ok()) return text.status().Annotate("could not decode the message header");
          Header header;
          std::optional<std::string> rest;
          MOERT_RETURN_IF_ERROR(ParseHeaderText(std::move(text).value(), next_role_,
                                                /*parse_recipient_and_type=*/false, &header, &rest));
          Message m;
          m.role = header.role;
          m.name = header.name;
          m.recipient = header.recipient;
          m.channel = header.channel;
          m.content_type = header.content_type;
          m.content.push_back(Content::Text(rest.value_or("")));
          messages_.push_back(std::move(m));
        }
        state_ = State::kExpectStart;
        next_role_.reset();
        header_tokens_.clear();
        return Status::Ok();
      }
      header_tokens_.push_back(*token);
      return Status::Ok();
    }

    case State::kContent:
      if (token.has_value() && !IsStopToken(*token)) {
        AppendContentToken(*token);
        return Status::Ok();
      }
      FinishMessage();
      return Status::Ok();
  }
  return Internal("StreamableParser: unknown state");
}

void StreamableParser::AppendContentToken(TokenId token) {
  undecoded_tokens_.push_back(token);
  Result<std::string> bytes = tokenizer_->DecodeBytes(undecoded_tokens_);
  if (!bytes.ok()) {
    // An id outside the vocabulary: keep it (and what follows) until the end
    // of the message, as upstream does.
    last_content_delta_.reset();
    return;
  }
  undecoded_tokens_.clear();
  undecoded_bytes_ += bytes.value();
  Utf8Scan scan = ScanUtf8(undecoded_bytes_);
  if (scan.valid_up_to == undecoded_bytes_.size()) {
    content_ += undecoded_bytes_;
    last_content_delta_ = std::move(undecoded_bytes_);
    undecoded_bytes_.clear();
    return;
  }
  std::string delta = undecoded_bytes_.substr(0, scan.valid_up_to);
  undecoded_bytes_.erase(0, scan.valid_up_to);
  if (scan.error_length > 0) {
    // One replacement for the first ill-formed subsequence; the bytes after
    // it wait for the next token.
    delta += kUtf8Replacement;
    undecoded_bytes_.erase(0, scan.error_length);
  }
  content_ += delta;
  if (delta.empty()) {
    last_content_delta_.reset();
  } else {
    last_content_delta_ = std::move(delta);
  }
}

void StreamableParser::FinishMessage() {
  std::string text = std::move(content_);
  if (!undecoded_tokens_.empty()) {
    Result<std::string> rest = tokenizer_->DecodeUtf8(undecoded_tokens_);
    text += rest.ok() ? rest.value() : std::string(kUtf8Replacement);
  }
  AppendUtf8Lossy(text, undecoded_bytes_);
  Message m;
  m.role = header_.role;
  m.name = header_.name;
  m.recipient = header_.recipient;
  m.channel = header_.channel;
  m.content_type = header_.content_type;
  m.content.push_back(Content::Text(std::move(text)));
  messages_.push_back(std::move(m));
  state_ = State::kExpectStart;
  content_.clear();
  last_content_delta_.reset();
  undecoded_tokens_.clear();
  undecoded_bytes_.clear();
}

Status StreamableParser::ParseHeaderText(std::string text, std::optional<Role> role,
                                         bool parse_recipient_and_type, Header* header,
                                         std::optional<std::string>* rest) const {
  // The channel: after <|channel|>, up to whitespace or '<'; cut it out.
  if (size_t marker = text.find(kChannelMarker); marker != std::string::npos) {
    size_t value_begin = marker + kChannelMarker.size();
    size_t value_end = value_begin;
    while (value_end < text.size()) {
      size_t length;
      uint32_t cp = CodePointAt(text, value_end, &length);
      if (cp == '<' || IsUnicodeWhiteSpace(cp)) break;
      value_end += length;
    }
    if (value_end == value_begin) {
      return InvalidArgument("channel marker present but no channel value found in header \"",
                             text, "\"");
    }
    header->channel = text.substr(value_begin, value_end - value_begin);
    text = text.substr(0, marker) + text.substr(value_end);
  }
  text = TrimWhiteSpace(text);
  // "to=x<|constrain|>json": the marker starts a part of its own.
  if (text.find(kConstrainMarker) != std::string::npos) {
    std::string spaced;
    for (size_t pos = 0;;) {
      size_t found = text.find(kConstrainMarker, pos);
      spaced += text.substr(pos, found - pos);
      if (found == std::string::npos) break;
      spaced += " ";
      spaced += kConstrainMarker;
      pos = found + kConstrainMarker.size();
    }
    text = TrimWhiteSpace(spaced);
  }
  std::vector<std::string> parts = SplitAsciiWhiteSpace(text);

  std::optional<std::string> role_text;
  if (!role.has_value()) {
    if (parts.empty()) return InvalidArgument("message header did not contain a role");
    role_text = parts.front();
    role = ParseRole(parts.front());
    if (!role.has_value()) {
      // An unknown author followed by more header text is a tool ("browser.search
      // to=assistant"); its name is the first part.
      if (parts.size() > 1 || StartsWith(parts.front(), "to=")) {
        parts.erase(parts.begin());
        role = Role::kTool;
      } else {
        return InvalidArgument("unknown role \"", parts.front(), "\" in message header");
      }
    }
  }
  if (!parts.empty() && parts.front() == RoleName(*role)) parts.erase(parts.begin());
  header->role = *role;
  header->name = *role == Role::kTool ? role_text : std::nullopt;

  if (parse_recipient_and_type && !parts.empty()) {
    const size_t part_count = parts.size();
    std::string last = std::move(parts.back());
    parts.pop_back();
    if (StartsWith(last, "to=")) {
      header->recipient = last.substr(3);
    } else if (part_count == 1 && !StartsWith(last, kConstrainMarker)) {
      header->recipient = std::move(last);  // a lone unconstrained part
    } else {
      header->content_type = std::move(last);
      if (!parts.empty()) {
        std::string recipient = std::move(parts.back());
        parts.pop_back();
        header->recipient = StartsWith(recipient, "to=") ? recipient.substr(3) : recipient;
      }
    }
  }
  rest->reset();
  if (!parts.empty()) *rest = JoinWithSpaces(parts);
  return Status::Ok();
}

std::optional<Role> StreamableParser::current_role() const {
  if (state_ == State::kContent) return header_.role;
  return next_role_;
}

std::optional<std::string> StreamableParser::current_channel() const {
  return state_ == State::kContent ? header_.channel : std::nullopt;
}

std::optional<std::string> StreamableParser::current_recipient() const {
  return state_ == State::kContent ? header_.recipient : std::nullopt;
}

std::optional<std::string> StreamableParser::current_content_type() const {
  return state_ == State::kContent ? header_.content_type : std::nullopt;
}

Result<std::vector<Message>> ParseMessagesFromCompletionTokens(const Tokenizer& tokenizer,
                                                               const std::vector<TokenId>& tokens,
                                                               std::optional<Role> role,
                                                               ParseOptions options) {
  StreamableParser parser(tokenizer, role, options);
  for (size_t i = 0; i < tokens.size(); ++i) {
    Status status = parser.Process(tokens[i]);
    if (!status.ok()) return status.Annotate(StrCat("parsing token ", i, " (id ", tokens[i], ")"));
  }
  MOERT_RETURN_IF_ERROR(parser.ProcessEos());
  return parser.TakeMessages();
}

}  // namespace harmony
}  // namespace moert
