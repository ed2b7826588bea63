#include "base/utf8.h"

namespace moert {
namespace {

// For a lead byte: how many continuation bytes follow and the allowed range of
// the first one (the Unicode table "Well-Formed UTF-8 Byte Sequences"). Ranges
// tighter than 80..BF exclude overlongs (E0, F0), surrogates (ED) and code
// points past U+10FFFF (F4). `continuation_count` < 0 marks an invalid lead.
struct LeadByteRule {
  int continuation_count;
  uint8_t second_min;
  uint8_t second_max;
};

LeadByteRule RuleForLeadByte(uint8_t b) {
  if (b < 0x80) return {0, 0, 0};
  if (b < 0xC2) return {-1, 0, 0};
  if (b < 0xE0) return {1, 0x80, 0xBF};
  if (b == 0xE0) return {2, 0xA0, 0xBF};
  if (b == 0xED) return {2, 0x80, 0x9F};
  if (b < 0xF0) return {2, 0x80, 0xBF};
  if (b == 0xF0) return {3, 0x90, 0xBF};
  if (b < 0xF4) return {3, 0x80, 0xBF};
  if (b == 0xF4) return {3, 0x80, 0x8F};
  return {-1, 0, 0};
}

}  // namespace

Utf8Scan ScanUtf8(std::string_view bytes) {
  const auto* s = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t n = bytes.size();
  size_t i = 0;
  while (i < n) {
    if (s[i] < 0x80) {
      ++i;
      continue;
    }
    LeadByteRule rule = RuleForLeadByte(s[i]);
    if (rule.continuation_count < 0) return {i, 1};
    size_t j = i + 1;
    for (int k = 0; k < rule.continuation_count; ++k, ++j) {
      if (j >= n) return {i, 0};  // truncated at the end: may still complete
      uint8_t lo = k == 0 ? rule.second_min : 0x80;
      uint8_t hi = k == 0 ? rule.second_max : 0xBF;
      if (s[j] < lo || s[j] > hi) return {i, j - i};
    }
    i = j;
  }
  return {n, 0};
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

void AppendUtf8Lossy(std::string& out, std::string_view bytes) {
  while (!bytes.empty()) {
    Utf8Scan scan = ScanUtf8(bytes);
    out.append(bytes.substr(0, scan.valid_up_to));
    bytes.remove_prefix(scan.valid_up_to);
    if (bytes.empty()) break;
    out.append(kUtf8Replacement);
    // A truncated tail (error_length 0) is one subpart reaching the end.
    bytes.remove_prefix(scan.error_length == 0 ? bytes.size() : scan.error_length);
  }
}

}  // namespace moert
