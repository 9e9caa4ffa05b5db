#pragma once
// tokenizer.json pre-tokenizers: how the text between added tokens is cut into the words BPE
// encodes one by one. Steps run in order on every current piece, as in Hugging Face tokenizers:
//   ByteLevel    optional prefix space, GPT-2's split pattern; the byte -> alphabet mapping it
//                also does is the BPE model's business here (it reads bytes), so it must be last;
//   Split        a pattern (split_pattern.h) with a behaviour (Removed, Isolated,
//                MergedWithPrevious, MergedWithNext, Contiguous) and invert;
//   Metaspace    spaces -> the replacement character (▁), prepended by prepend_scheme, then cut
//                before each replacement character;
//   Digits, Whitespace, WhitespaceSplit.
// Empty pieces are dropped. The common pipelines (GPT-2 / NeoX: ByteLevel alone; Llama 3 / Qwen:
// one scanner Split then ByteLevel; SentencePiece: nothing) skip the piece lists entirely.
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/split_pattern.h"
#include "tokenizer/tokenizer_spec.h"

namespace entroscope::tokenizer {

class PreTokenizer {
 public:
  PreTokenizer() = default;
  // Throws entroscope::Error naming `origin` for a step that cannot run (a regex that does not
  // compile, a ByteLevel that is not the last step).
  PreTokenizer(const std::vector<PreTokenizerStep>& steps, const std::string& origin);

  // True when the pipeline ends in ByteLevel: the model's symbols are bytes.
  bool byte_level() const { return byte_level_; }
  // False when every text reaches the model whole (no pre-tokenizer, or ByteLevel without regex).
  bool splits_text() const { return fast_path_ != FastPath::kWhole; }

  // Calls on_piece(piece) for each piece of `text`, in order. `at_origin`: the text starts at byte
  // 0 of the original input (Metaspace's prepend_scheme "first" prepends only there).
  template <typename OnPiece>
  void for_each_piece(std::string_view text, bool at_origin, OnPiece&& on_piece) const {
    if (text.empty()) return;
    switch (fast_path_) {
      case FastPath::kWhole:
        on_piece(text);
        return;
      case FastPath::kScanner:
        for (std::size_t pos = 0; pos < text.size();) {
          const std::size_t end = scanner_->covering_match_end(text, pos);
          on_piece(text.substr(pos, end - pos));
          pos = end;
        }
        return;
      case FastPath::kNone:
        break;
    }
    thread_local std::vector<std::string_view> pieces;
    thread_local std::deque<std::string> arena;
    pieces.clear();
    arena.clear();
    split_generic(text, at_origin, pieces, arena);
    for (std::string_view piece : pieces) on_piece(piece);
  }

  // All pieces of `text` as strings (tests and tools).
  std::vector<std::string> pieces(std::string_view text, bool at_origin = true) const;

 private:
  struct Step {
    PreTokenizerStep spec;
    std::shared_ptr<const SplitPattern> pattern;  // kSplit
  };
  struct Piece {
    std::string_view text;
    bool at_origin;
  };
  enum class FastPath { kNone, kWhole, kScanner };

  void split_generic(std::string_view text, bool at_origin, std::vector<std::string_view>& out,
                     std::deque<std::string>& arena) const;
  void apply_step(const Step& step, const Piece& piece, std::vector<Piece>& out, std::deque<std::string>& arena) const;

  std::vector<Step> steps_;
  bool byte_level_ = false;
  FastPath fast_path_ = FastPath::kWhole;
  std::shared_ptr<const SplitPattern> scanner_;  // FastPath::kScanner
};

}  // namespace entroscope::tokenizer
