#pragma once
// Doctor, sections "activations", "precision" and "compare": forwards of the model on one input
// with per-step statistics, the first non-finite value located, float64 / fp16 / bf16 comparisons,
// and divergence from a reference dump.
#include <filesystem>
#include <vector>

#include "doctor/report.h"
#include "model/forward.h"

namespace entroscope::doctor {

// One forward with statistics after every sub-step (norms, qkv, attention, MLP, residual adds,
// final norm, logits). The first non-finite value becomes a problem finding with its location.
void check_activations(const model::Model& m, const std::vector<std::int32_t>& ids, Report& report);

// fp32 vs a float64 reference forward, plus fp16 and bf16 emulations (weights and every step's
// output rounded): max |Δlogit|, max |Δentropy| (bits), non-finite logits, and the first fp16
// overflow (|x| > 65504) with its location.
void check_precision(const model::Model& m, const std::vector<std::int32_t>& ids, Report& report);

// Compares the fp32 forward's hidden.K / logits with a reference safetensors dump (transformers'
// output_hidden_states layout). If the dump holds input_ids they are used instead of `ids`.
// Beyond tolerance: max |Δ| > rel_tolerance x max(1, max |reference|).
void compare_with_reference(const model::Model& m, std::vector<std::int32_t> ids, const std::filesystem::path& ref,
                            double rel_tolerance, Report& report);

}  // namespace entroscope::doctor
