#pragma once
// Building blocks shared by GPT-2 and GPT-NeoX. Each reads like llm.c: named buffers, shapes in
// comments; the architecture differences (weight layout, qkv split, rotary, attention scale)
// arrive as explicit parameters.
#include "model/forward.h"

namespace entroscope::model {

// Everything a block needs besides its weights.
struct BlockContext {
  const Model& model;
  int B, T;
  Activations& act;
  ForwardObserver* observer;

  int rows() const { return B * T; }
  // Checks buf [B*T, width] for non-finite values (throws NonFiniteError naming layer/step/
  // position/channel) and shows it to the observer.
  void step(int layer, const char* name, const float* buf, int width) const;
};

// x [B*T, D] -> act.attn_out [B*T, D]: norm1 -> fused qkv -> (rotary) -> causal attention -> out proj.
// The normalized input is left in act.normed.
void attention_block(const BlockContext& ctx, int layer, const float* x, kernels::QkvLayout qkv_layout,
                     float score_scale, bool rotary);

// x [B*T, D] -> act.mlp_out [B*T, D]: norm2 -> up -> GELU -> down. `normed` is scratch [B*T, D].
void mlp_block(const BlockContext& ctx, int layer, const float* x, float* normed);

// act.residual [B*T, D] -> logits [B*T, V] (and hidden[L] = final norm output when asked).
void final_norm_and_head(const BlockContext& ctx, const ForwardOutputs& out);

// Copies the residual stream into hidden[k] when hidden states are requested.
void capture_hidden(const BlockContext& ctx, const ForwardOutputs& out, int k, const float* x);

// Per-architecture forwards (gpt2.cpp, gpt_neox.cpp).
void gpt2_forward(const BlockContext& ctx, std::span<const std::int32_t> ids, const ForwardOutputs& out);
void gpt_neox_forward(const BlockContext& ctx, std::span<const std::int32_t> ids, const ForwardOutputs& out);

}  // namespace entroscope::model
