#pragma once
// Building blocks shared by GPT-2 and GPT-NeoX. Each reads like llm.c: named buffers, shapes in
// comments; the architecture differences (weight layout, qkv split, rotary, attention scale)
// arrive as explicit parameters. Scalar is float (compute) or double (doctor's reference).
#include "model/forward.h"

namespace entroscope::model {

// Everything a block needs besides its inputs.
template <typename Scalar>
struct BlockContext {
  const ModelConfig& config;
  const ModelWeightsT<Scalar>& weights;
  const std::string& model_name;
  int B, T;
  ActivationsT<Scalar>& act;
  ForwardObserver* observer;  // fp32 path only

  int rows() const { return B * T; }
  // Checks buf [B*T, width] for non-finite values (throws NonFiniteError naming layer/step/
  // position/channel) and shows it to the observer.
  void step(int layer, const char* name, Scalar* buf, int width) const;
  // The finite check alone, over rows [first_row, first_row + n_rows) of the flattened [B*T]
  // (streamed logits blocks; the observer sees only whole-batch steps).
  void step_rows(int layer, const char* name, const Scalar* buf, int width, int first_row, int n_rows) const;
};

// Rows of logits computed per LM-head block when logits are streamed.
inline constexpr int kLogitsBlockRows = 128;

// x [B*T, D] -> act.attn_out [B*T, D]: norm1 -> fused qkv -> (rotary) -> causal attention -> out proj.
template <typename Scalar>
void attention_block(const BlockContext<Scalar>& ctx, int layer, const Scalar* x, kernels::QkvLayout qkv_layout,
                     Scalar score_scale, bool rotary);

// x [B*T, D] -> act.mlp_out [B*T, D]: norm2 -> up -> GELU -> down. `normed` is scratch [B*T, D].
template <typename Scalar>
void mlp_block(const BlockContext<Scalar>& ctx, int layer, const Scalar* x, Scalar* normed);

// act.residual [B*T, D] -> logits [B*T, V] (and hidden[L] = final norm output when asked).
template <typename Scalar>
void final_norm_and_head(const BlockContext<Scalar>& ctx, const ForwardOutputsT<Scalar>& out);

// Copies x [B*T, D] into hidden[k] when hidden states are requested.
template <typename Scalar>
void capture_hidden(const BlockContext<Scalar>& ctx, const ForwardOutputsT<Scalar>& out, int k, const Scalar* x);

// Per-architecture forwards (gpt2.cpp, gpt_neox.cpp).
template <typename Scalar>
void gpt2_forward(const BlockContext<Scalar>& ctx, std::span<const std::int32_t> ids, const ForwardOutputsT<Scalar>& out);
template <typename Scalar>
void gpt_neox_forward(const BlockContext<Scalar>& ctx, std::span<const std::int32_t> ids,
                      const ForwardOutputsT<Scalar>& out);

}  // namespace entroscope::model
