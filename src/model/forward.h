#pragma once
// The forward pass of a loaded model over a batch of independent sequences packed side by side
// (no padding; each sequence's positions run from 0 and it attends only to itself), or a [B, T]
// batch as the special case of equal lengths. A sequence's numbers have the same bits whatever is
// packed beside it. Every intermediate goes through one checkpoint (BlockContext::step) that
// rejects non-finite values with their location and, only when an observer is attached (doctor),
// reports the buffer.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "common/aligned_buffer.h"
#include "common/error.h"
#include "kernels/kernels.h"
#include "model/weights.h"

namespace entroscope::model {

// Where a non-finite value first appeared.
struct NonFiniteLocation {
  std::string model;
  int layer = -1;        // -1: before the blocks (embedding) or after them (final norm, logits)
  std::string step;      // "attn.qkv", "mlp.act", "logits", ...
  int batch_row = 0;     // the sequence's index in the forward call
  int position = 0;      // the token's position in its sequence
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

// One intermediate buffer [rows, width] of the fp32 path (rows of the packed batch `sequences`).
// `data` is writable: doctor's precision emulation rounds it in place; every other observer only
// reads.
struct StepView {
  int layer;
  const char* step;
  float* data;
  int rows, width;
  const kernels::SequenceRows* sequences;
};

class ForwardObserver {
 public:
  virtual ~ForwardObserver() = default;
  // Called for every step before the finite check. Return false to skip that check (doctor uses
  // this to keep tracing past the first NaN). Costs nothing when no observer is attached.
  virtual bool on_step(const StepView& view) = 0;
};

// Where a scalar's activations live: host memory, or GPU memory for kernels::GpuFloat.
template <typename Scalar>
struct ActivationStorage {
  using type = AlignedBuffer<Scalar>;
};
template <>
struct ActivationStorage<kernels::GpuFloat> {
  using type = kernels::DeviceBuffer<kernels::GpuFloat>;
};

// Scratch activations, reused across calls (no per-token allocation). On the GPU every buffer that
// a GEMM reads or writes holds kernels::device_padded_rows(rows) rows.
template <typename Scalar>
struct ActivationsT {
  using Buffer = typename ActivationStorage<Scalar>::type;
  Buffer residual;   // [B*T, D] the residual stream
  Buffer normed;     // [B*T, D] norm output
  Buffer normed2;    // [B*T, D] second norm (NeoX parallel residual)
  Buffer qkv;        // [B*T, (H + 2 KVH) hd]
  Buffer context;    // [B*T, H hd] attention-weighted values, heads concatenated
  Buffer attn_out;   // [B*T, D]
  Buffer mlp_hidden; // [B*T, F] up (or, gated, the gate and then act(gate) * up)
  Buffer mlp_up;     // [B*T, F] gated MLPs: the up projection
  Buffer mlp_out;    // [B*T, D]
  Buffer embed;      // [B*T, E] token embeddings before OPT's project_in / head input after project_out
  Buffer rotary_cos; // [longest sequence, rotary/2]
  Buffer rotary_sin; // [longest sequence, rotary/2]
  Buffer logits_block; // [kLogitsBlockRows, V] for streamed logits
  Buffer head_input;   // [kLogitsBlockRows, E] the rows of ForwardOutputs::head_rows, gathered
  void reserve(const ModelConfig& config, int rows, int longest_sequence);
};
using Activations = ActivationsT<float>;

template <typename Scalar>
struct ForwardOutputsT {
  Scalar* logits = nullptr;                              // [rows, V] when non-null
  // When non-null: L+1 buffers, transformers' output_hidden_states: [rows, D] each, except that the
  // last is [rows, E] after OPT's project_out.
  std::vector<std::vector<Scalar>>* hidden = nullptr;
  // Streaming alternative to `logits`: the LM head runs over blocks of rows and hands each block
  // [rows, V] (rows first_row.. of the packed batch) to the consumer, so [rows, V] is never
  // materialized (50k-vocabulary logits for 1024 rows would be 200 MB).
  std::function<void(int first_row, int rows, const Scalar* logits)> logits_consumer;
  // With logits_consumer: when non-empty, the LM head runs only for these rows of the packed
  // batch (ascending, distinct), the rows whose distributions are measured; the consumer's block
  // holds rows head_rows[first_row .. first_row + rows). Each row's logits have the same bits as
  // without it (the GEMM's per-output definition).
  std::span<const int> head_rows;
};
using ForwardOutputs = ForwardOutputsT<float>;

// Runs the model on packed sequences: ids [rows], sequence s = ids[start[s] .. start[s + 1]).
// Rows of every output ([rows, V] logits, head_rows, hidden states) are rows of that packing.
// Throws Error for ids out of range, empty sequences or a sequence beyond the context,
// NonFiniteError when any intermediate goes non-finite.
void forward(const Model& model, std::span<const std::int32_t> ids, const kernels::SequenceRows& sequences,
             Activations& act, const ForwardOutputs& out, ForwardObserver* observer = nullptr);
// ids [B, T]: B sequences of length T.
void forward(const Model& model, std::span<const std::int32_t> ids, int B, int T, Activations& act,
             const ForwardOutputs& out, ForwardObserver* observer = nullptr);

// The same forward over other weights: doctor's float64 reference (Scalar = double) and rounded
// fp16/bf16 emulations (Scalar = float, with an observer that rounds each step).
template <typename Scalar>
void forward_with(const Model& model, const ModelWeightsT<Scalar>& weights, std::span<const std::int32_t> ids,
                  const kernels::SequenceRows& sequences, ActivationsT<Scalar>& act,
                  const ForwardOutputsT<Scalar>& out, ForwardObserver* observer = nullptr);
template <typename Scalar>
void forward_with(const Model& model, const ModelWeightsT<Scalar>& weights, std::span<const std::int32_t> ids, int B,
                  int T, ActivationsT<Scalar>& act, const ForwardOutputsT<Scalar>& out,
                  ForwardObserver* observer = nullptr);

// The forward on the GPU (CUDA backend) for callers that want everything back on the host: logits
// [B*T, V] (when non-null) and hidden states as `forward` gives them. Scoring keeps logits on the
// device instead (metrics::DeviceScoring). Throws Error without a CUDA device.
void forward_on_device(const Model& model, const DeviceWeights& weights, std::span<const std::int32_t> ids, int B,
                       int T, float* logits, std::vector<std::vector<float>>* hidden);

}  // namespace entroscope::model
