#include "tokenizer/vocabulary.h"

#include <algorithm>

#include "base/checked_math.h"

namespace moert {

Result<Vocabulary> Vocabulary::Build(
    std::vector<Entry> entries, const std::function<std::string(uint64_t)>& describe_origin) {
  if (entries.empty()) return InvalidArgument("the vocabulary has no tokens");
  // Ranks index arrays below; bound them before sorting or allocating.
  const uint64_t count = entries.size();
  if (count >= kNoRank) return InvalidArgument("too many tokens: ", count);
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.rank < b.rank; });
  for (uint64_t i = 0; i < count; ++i) {
    const Entry& e = entries[i];
    if (e.rank != i) {
      if (e.rank < i) {
        return InvalidArgument(describe_origin(e.origin), ": rank ", e.rank, " is also given at ",
                               describe_origin(entries[i - 1].origin));
      }
      return InvalidArgument("rank ", i, " is missing (ranks must be 0..", count - 1,
                             " with no gaps; the next rank present is ", e.rank, " at ",
                             describe_origin(e.origin), ")");
    }
    if (e.bytes.empty()) return InvalidArgument(describe_origin(e.origin), ": token ", e.rank, " has no bytes");
  }

  Vocabulary v;
  uint64_t total_bytes = 0;
  for (const Entry& e : entries) {
    if (!CheckedAdd(total_bytes, e.bytes.size(), &total_bytes) || total_bytes > 0xFFFFFFFFu) {
      return InvalidArgument("the token byte strings exceed 4 GiB");
    }
  }
  v.bytes_.reserve(total_bytes);
  v.offsets_.reserve(count + 1);
  for (const Entry& e : entries) {
    v.bytes_.append(e.bytes);
    v.offsets_.push_back(static_cast<uint32_t>(v.bytes_.size()));
  }

  // Load factor at most 1/2 keeps linear probes short.
  size_t slot_count = 1024;
  while (slot_count < 2 * count) slot_count *= 2;
  v.slots_.assign(slot_count, Slot{});
  v.slot_mask_ = slot_count - 1;
  for (TokenId rank = 0; rank < count; ++rank) {
    std::string_view bytes = v.Bytes(rank);
    TokenId existing = v.Find(bytes);
    if (existing != kNoRank) {
      return InvalidArgument(describe_origin(entries[rank].origin), ": token ", rank,
                             " has the same bytes as token ", existing, " at ",
                             describe_origin(entries[existing].origin));
    }
    uint64_t hash = HashBytes(bytes.data(), bytes.size());
    size_t slot = hash & v.slot_mask_;
    while (v.slots_[slot].rank != kNoRank) slot = (slot + 1) & v.slot_mask_;
    v.slots_[slot] = Slot{static_cast<uint32_t>(hash >> 32), rank};
  }

  for (int b = 0; b < 256; ++b) {
    char byte = static_cast<char>(b);
    TokenId rank = v.Find(&byte, 1);
    if (rank == kNoRank) {
      return InvalidArgument("the vocabulary lacks the single byte 0x", "0123456789ABCDEF"[b >> 4],
                             "0123456789ABCDEF"[b & 15],
                             " (byte-level BPE needs all 256 single bytes)");
    }
    v.single_byte_ranks_[b] = rank;
  }
  return v;
}

}  // namespace moert
