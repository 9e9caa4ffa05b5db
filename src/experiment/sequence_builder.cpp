#include "experiment/sequence_builder.h"

#include "common/error.h"

namespace entroscope::experiment {

SequenceBuilder::SequenceBuilder(const ExperimentSpec& spec, const tokenizer::Tokenizer& tokenizer,
                                 const model::ModelConfig& config, const std::string& model_name)
    : spec_(spec), tokenizer_(tokenizer) {
  for (const Condition& c : spec.conditions) {
    for (const Segment& seg : c.segments) {
      if (seg.kind != SegmentKind::kSpecialToken || special_ids_.count(seg.special)) continue;
      std::int64_t id = -1;
      if (seg.special == "bos" || seg.special == "eos") {
        id = seg.special == "bos" ? config.bos_token_id : config.eos_token_id;
        if (id < 0)
          fail_at(seg.where, "model {}: config.json has no {}_token_id for special: {}", model_name, seg.special,
                  seg.special);
      } else {
        auto found = tokenizer.token_to_id(seg.special);
        if (!found) fail_at(seg.where, "model {}: the tokenizer has no token '{}'", model_name, seg.special);
        id = *found;
      }
      if (id >= config.vocab_size)
        fail_at(seg.where, "model {}: special token '{}' has id {}, outside the model's vocabulary of {}", model_name,
                seg.special, id, config.vocab_size);
      special_ids_[seg.special] = static_cast<std::int32_t>(id);
    }
  }
}

BuiltSequence SequenceBuilder::build(const Condition& condition, const Item& item) const {
  BuiltSequence out;
  for (std::size_t s = 0; s < condition.segments.size(); ++s) {
    const Segment& seg = condition.segments[s];
    if (s == condition.measured_segment) out.measured_begin = out.ids.size();
    if (seg.kind == SegmentKind::kSpecialToken)
      out.ids.push_back(special_ids_.at(seg.special));
    else if (s == condition.measured_segment) {
      out.measured_text = seg.text.render(item.fields);
      tokenizer_.encode_into(out.measured_text, /*allow_special=*/false, out.ids);
    } else {
      tokenizer_.encode_into(seg.text.render(item.fields), /*allow_special=*/false, out.ids);
    }
    if (s == condition.measured_segment) out.measured_end = out.ids.size();
    if (s + 1 == condition.window_prefix_segments) out.window_prefix = out.ids.size();
  }
  const std::string file = spec_.data_file.string();
  if (out.measured_count() == 0)
    fail_at(item.where(file), "item '{}': the measured span of condition '{}' has no tokens", item.id, condition.name);
  if (out.measured_begin == 0)
    fail_at(item.where(file), "item '{}': nothing precedes the measured span of condition '{}'", item.id,
            condition.name);
  return out;
}

}  // namespace entroscope::experiment
