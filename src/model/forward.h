#pragma once
// The forward pass of a loaded model over a [B, T] batch of independent sequences (no padding,
// positions 0..T-1). Every intermediate goes through one checkpoint (ForwardTrace::step) that
// rejects non-finite values with their location and, only when an observer is attached (doctor),
// reports the buffer.
#include <cstdint>
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

// A view of one intermediate buffer [batch, seq, width].
struct StepView {
  int layer;
  const char* step;
  const float* data;
  int batch, seq, width;
};

class ForwardObserver {
 public:
  virtual ~ForwardObserver() = default;
  // Called for every step before the finite check. Return false to skip that check (doctor uses
  // this to keep tracing past the first NaN).
  virtual bool on_step(const StepView& view) = 0;
};

// Scratch activations, reused across calls (no per-token allocation).
struct Activations {
  AlignedBuffer<float> residual;   // [B*T, D] the residual stream
  AlignedBuffer<float> normed;     // [B*T, D] layer-norm output
  AlignedBuffer<float> normed2;    // [B*T, D] second norm (NeoX parallel residual)
  AlignedBuffer<float> qkv;        // [B*T, 3D]
  AlignedBuffer<float> context;    // [B*T, D] attention-weighted values, heads concatenated
  AlignedBuffer<float> attn_out;   // [B*T, D]
  AlignedBuffer<float> mlp_hidden; // [B*T, F]
  AlignedBuffer<float> mlp_out;    // [B*T, D]
  AlignedBuffer<float> rotary_cos; // [T, rotary/2]
  AlignedBuffer<float> rotary_sin; // [T, rotary/2]
  void reserve(const ModelConfig& config, int B, int T);
};

struct ForwardOutputs {
  float* logits = nullptr;                              // [B*T, V] when non-null
  std::vector<std::vector<float>>* hidden = nullptr;    // when non-null: L+1 buffers of [B*T, D]
};

// Runs the model on ids [B, T]. Throws Error for ids out of range or T beyond the context,
// NonFiniteError when any intermediate goes non-finite.
void forward(const Model& model, std::span<const std::int32_t> ids, int B, int T, Activations& act,
             const ForwardOutputs& out, ForwardObserver* observer = nullptr);

}  // namespace entroscope::model
