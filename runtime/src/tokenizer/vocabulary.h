// The byte strings of the ordinary (BPE) tokens and a hash index from byte
// string to rank. One contiguous buffer holds every token's bytes; the index is
// an open-addressing table of (hash tag, rank) slots that refers into it, so a
// lookup of a byte span allocates nothing and usually touches one cache line.
#ifndef MOERT_TOKENIZER_VOCABULARY_H_
#define MOERT_TOKENIZER_VOCABULARY_H_

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace moert {

using TokenId = uint32_t;

class Vocabulary {
 public:
  static constexpr TokenId kNoRank = 0xFFFFFFFFu;

  // One token as read from a ranks file. `origin` identifies where it came
  // from (a line number, an index); Build passes it to `describe_origin` only
  // when it reports an error, so loading builds no strings.
  struct Entry {
    TokenId rank;
    std::string bytes;
    uint64_t origin;
  };

  // Builds from entries in any order. The ranks must be exactly 0..n-1, the
  // byte strings distinct and non-empty, and all 256 single bytes present
  // (byte-level BPE starts from them).
  static Result<Vocabulary> Build(std::vector<Entry> entries,
                                  const std::function<std::string(uint64_t)>& describe_origin);

  uint32_t size() const { return static_cast<uint32_t>(offsets_.size() - 1); }

  // Bytes of `rank` (< size()).
  std::string_view Bytes(TokenId rank) const {
    return std::string_view(bytes_.data() + offsets_[rank], offsets_[rank + 1] - offsets_[rank]);
  }

  // Rank of the byte string, or kNoRank.
  TokenId Find(const char* data, size_t length) const {
    uint64_t hash = HashBytes(data, length);
    uint32_t tag = static_cast<uint32_t>(hash >> 32);
    for (size_t slot = hash & slot_mask_;; slot = (slot + 1) & slot_mask_) {
      const Slot& s = slots_[slot];
      if (s.rank == kNoRank) return kNoRank;
      if (s.tag == tag) {
        uint32_t begin = offsets_[s.rank];
        if (offsets_[s.rank + 1] - begin == length && SameBytes(bytes_.data() + begin, data, length)) {
          return s.rank;
        }
      }
    }
  }
  TokenId Find(std::string_view bytes) const { return Find(bytes.data(), bytes.size()); }

  TokenId SingleByteRank(uint8_t byte) const { return single_byte_ranks_[byte]; }

  // Most tokens are a few bytes long: an inline loop beats a memcmp call.
  static bool SameBytes(const char* a, const char* b, size_t length) {
    if (length > 16) return std::memcmp(a, b, length) == 0;
    for (size_t i = 0; i < length; ++i) {
      if (a[i] != b[i]) return false;
    }
    return true;
  }

  // A fast 64-bit hash of short byte strings (8 bytes per multiply).
  static uint64_t HashBytes(const char* data, size_t length) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (length * 0xFF51AFD7ED558CCDull);
    while (length >= 8) {
      uint64_t word;
      std::memcpy(&word, data, 8);
      h = (h ^ word) * 0xBF58476D1CE4E5B9ull;
      h ^= h >> 31;
      data += 8;
      length -= 8;
    }
    if (length > 0) {
      uint64_t word = 0;
      std::memcpy(&word, data, length);
      h = (h ^ word) * 0x94D049BB133111EBull;
      h ^= h >> 29;
    }
    h *= 0xBF58476D1CE4E5B9ull;
    return h ^ (h >> 32);
  }

 private:
  struct Slot {
    uint32_t tag = 0;
    TokenId rank = kNoRank;
  };

  std::string bytes_;
  std::vector<uint32_t> offsets_ = {0};  // size() + 1 entries
  std::vector<Slot> slots_;
  size_t slot_mask_ = 0;
  TokenId single_byte_ranks_[256] = {};
};

}  // namespace moert

#endif  // MOERT_TOKENIZER_VOCABULARY_H_
