#pragma once
// The forward pass of a loaded model over a [B, T] batch of independent sequences (no padding,
// positions 0..T-1). Every intermediate goes through one checkpoint (ForwardTrace::step) that
// rejects non-finite values with their location and, only when an observer is attached (doctor),
// reports the buffer.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "common/aligned_buffer.h"
#include "common/error.h"
#include "model/weights.h"

namespace entroscope::model {

// Where a non-finite value first appeared.
struct NonFiniteLocation {
  std::string model;
  int layer = -1;        // -1: before the blocks (embedding) or after them (final norm, logits)
  std::string step;      // "attn.qkv", "mlp.act", "logits", ...
  int batch_row = 0;
  int position = 0;
  int channel = 0;
  float value = 0.0f;
};

class NonFiniteError : public NumericError {
 public:
  explicit NonFiniteError(const NonFiniteLocation& where);
  const NonFiniteLocation& where() const { return where_; }

 private:
  NonFiniteLocation where_;
};

// One intermediate buffer [batch, seq, width] of the fp32 path. `data` is writable: doctor's
// precision emulation rounds it in place; every other observer only reads.
struct StepView {
  int layer;
  const char* step;
  float* data;
  int batch, seq, width;
};

class ForwardObserver {
 public:
  virtual ~ForwardObserver() = default;
  // Called for every step before the finite check. Return false to skip that check (doctor uses
  // this to keep tracing past the first NaN). Costs nothing when no observer is attached.
  virtual bool on_step(const StepView& view) = 0;
};

// Scratch activations, reused across calls (no per-token allocation).
template <typename Scalar>
struct ActivationsT {
  AlignedBuffer<Scalar> residual;   // [B*T, D] the residual stream
  AlignedBuffer<Scalar> normed;     // [B*T, D] norm output
  AlignedBuffer<Scalar> normed2;    // [B*T, D] second norm (NeoX parallel residual)
  AlignedBuffer<Scalar> qkv;        // [B*T, (H + 2 KVH) hd]
  AlignedBuffer<Scalar> context;    // [B*T, H hd] attention-weighted values, heads concatenated
  AlignedBuffer<Scalar> attn_out;   // [B*T, D]
  AlignedBuffer<Scalar> mlp_hidden; // [B*T, F] up (or, gated, the gate and then act(gate) * up)
  AlignedBuffer<Scalar> mlp_up;     // [B*T, F] gated MLPs: the up projection
  AlignedBuffer<Scalar> mlp_out;    // [B*T, D]
  AlignedBuffer<Scalar> embed;      // [B*T, E] token embeddings before OPT's project_in / head input after project_out
  AlignedBuffer<Scalar> rotary_cos; // [T, rotary/2]
  AlignedBuffer<Scalar> rotary_sin; // [T, rotary/2]
  AlignedBuffer<Scalar> logits_block; // [kLogitsBlockRows, V] for streamed logits
  AlignedBuffer<Scalar> head_input;   // [kLogitsBlockRows, E] the rows of ForwardOutputs::head_rows, gathered
  void reserve(const ModelConfig& config, int B, int T);
};
using Activations = ActivationsT<float>;

template <typename Scalar>
struct ForwardOutputsT {
  Scalar* logits = nullptr;                              // [B*T, V] when non-null
  // When non-null: L+1 buffers, transformers' output_hidden_states: [B*T, D] each, except that the
  // last is [B*T, E] after OPT's project_out.
  std::vector<std::vector<Scalar>>* hidden = nullptr;
  // Streaming alternative to `logits`: the LM head runs over blocks of rows and hands each block
  // [rows, V] (rows first_row.. of the flattened [B*T]) to the consumer, so [B*T, V] is never
  // materialized (50k-vocabulary logits for T=1024 would be 200 MB).
  std::function<void(int first_row, int rows, const Scalar* logits)> logits_consumer;
  // With logits_consumer: when non-empty, the LM head runs only for these rows of the flattened
  // [B*T] (ascending, distinct), the rows whose distributions are measured; the consumer's block
  // holds rows head_rows[first_row .. first_row + rows). Each row's logits have the same bits as
  // without it (the GEMM's per-output definition).
  std::span<const int> head_rows;
};
using ForwardOutputs = ForwardOutputsT<float>;

// Runs the model on ids [B, T]. Throws Error for ids out of range or T beyond the context,
// NonFiniteError when any intermediate goes non-finite.
void forward(const Model& model, std::span<const std::int32_t> ids, int B, int T, Activations& act,
             const ForwardOutputs& out, ForwardObserver* observer = nullptr);

// The same forward over other weights: doctor's float64 reference (Scalar = double) and rounded
// fp16/bf16 emulations (Scalar = float, with an observer that rounds each step).
template <typename Scalar>
void forward_with(const Model& model, const ModelWeightsT<Scalar>& weights, std::span<const std::int32_t> ids, int B,
                  int T, ActivationsT<Scalar>& act, const ForwardOutputsT<Scalar>& out,
                  ForwardObserver* observer = nullptr);

}  // namespace entroscope::model
