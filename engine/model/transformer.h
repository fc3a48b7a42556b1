// transformer.h - the dense forward pass of one token through a decoder-only transformer
// (llama family and OPT), with its KV cache (F16 or F32, allocated in blocks as the context fills).
//
// The FFN of each layer is delegated to an FfnBackend so that the flash engine can replace the
// dense FFN (all weights in DRAM) with a sparse one (predicted neurons, streamed from flash)
// without touching attention. The dense backend is the reference every sparse path is checked
// against.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "model/model.h"

namespace flashchat {

// Computes one layer's FFN for one token.
class FfnBackend {
 public:
  virtual ~FfnBackend() = default;
  // x: the FFN input (dim,), already normalised (ffn_norm applied). out: (dim,), overwritten
  // with the FFN output (including OPT's fc2 bias); the caller adds it to the residual.
  virtual void ffn_forward(int layer, const float* x, float* out) = 0;
  // Look-ahead: when prefetch_wanted(), the transformer calls ffn_prefetch(layer, x) before the
  // layer's attention with x = ffn_norm(residual before the attention) (dim,), an estimate of
  // the FFN input the layer will get, so that a backend can start loading weights while the
  // attention runs. ffn_forward must give the same result whether or not this was called.
  virtual bool prefetch_wanted() const { return false; }
  virtual void ffn_prefetch(int /*layer*/, const float* /*x*/) {}
  // A block of n tokens: x (n, dim) row-major, out (n, dim) overwritten, row t as ffn_forward of
  // row t would give it. The default runs ffn_forward token by token; backends override it to
  // read each weight (or bundle) once for the whole block.
  // Throws Error when the model dim was never set (see set_model_dim).
  virtual void ffn_forward_batch(int layer, const float* x, int n, float* out);

  // The width of x and out rows (the model dim); a Transformer sets it when it takes the backend.
  int64_t model_dim() const { return model_dim_; }
  void set_model_dim(int64_t dim) { model_dim_ = dim; }

 private:
  int64_t model_dim_ = 0;
};

// All FFN weights resident: out = down(act(gate x) * (up x)) (or OPT's fc2(relu(fc1 x + b1)) + b2).
class DenseFfn : public FfnBackend {
 public:
  explicit DenseFfn(const Model& model);
  void ffn_forward(int layer, const float* x, float* out) override;
  // The three projections as matmul over the block (each weight row read once); every row equals
  // ffn_forward's for F16/BF16 weights, and is within float rounding for F32 (matmul.h).
  void ffn_forward_batch(int layer, const float* x, int n, float* out) override;

  // The FFN's hidden activations (ffn_dim,) of the last ffn_forward call (of the last token of
  // a ffn_forward_batch), i.e. the values the down projection multiplies; what predictors are
  // trained on and oracles read.
  const std::vector<float>& last_hidden() const { return hidden_; }
  // The hidden activations (n, ffn_dim) of the last ffn_forward_batch call.
  const float* batch_hidden() const { return hidden_batch_.data(); }
  // Bytes of its scratch vectors (gate and hidden activations, the block's too).
  int64_t scratch_bytes() const;

 private:
  const Model& model_;
  std::vector<float> gate_, hidden_;
  std::vector<float> gate_batch_, hidden_batch_;  // (n, ffn_dim), grown to the largest block
};

// Applies the FFN activation element-wise: hidden[i] = act(gate[i]) * up[i] for gated models
// (dReLU: relu(gate)*relu(up)), hidden[i] = act(up[i]) for ungated ones (gate == nullptr).
void ffn_activate(const ModelConfig& config, const float* gate, const float* up, float* hidden,
                  int64_t n);

// Element type of the KV cache. F16 halves its bytes and the attention's memory traffic; F32 is
// the reference arithmetic (what external float references are checked against).
enum class KvType { F16, F32 };
const char* kv_type_name(KvType t);  // "f16", "f32"

// Positions per KV block (per layer, keys and values). A Transformer whose context is shorter
// uses one block of max_context positions.
constexpr int kKvBlockPositions = 16;

// Block positions a Transformer with this context uses: min(kKvBlockPositions, max_context).
int kv_block_positions_for(int max_context);

// Bytes the KV cache holds once `positions` positions are cached: whole blocks of
// `block_positions` positions per layer (keys and values), i.e. ceil(positions / block_positions)
// blocks. 0 for positions <= 0. Usable without a Transformer (budgets, `info`). Blocks of whole
// pages are mapped from the OS and unmapped when freed (RSS drops); others use the heap.
int64_t kv_cache_bytes_for(const ModelConfig& config, KvType type, int positions,
                           int block_positions = kKvBlockPositions);

class Transformer {
 public:
  // max_context: positions the KV cache can hold (<= model max_seq_len; throws Error otherwise,
  // or when <= 0). ffn: nullptr = an internal DenseFfn. kv_type: element type of the cache. No
  // KV memory is allocated here: blocks are allocated as forward() reaches them.
  Transformer(const Model& model, int max_context, FfnBackend* ffn = nullptr,
              KvType kv_type = KvType::F16);
  ~Transformer();

  // Runs `token` at position `pos` and returns the logits (vocab_size,), valid until the next
  // call. 0 <= pos <= context_length() and pos < max_context: pos == context_length() appends;
  // a smaller pos first truncates the context to pos (rewrites from there). Allocates a KV block
  // when pos enters a new one (std::bad_alloc if memory runs out). Throws Error when pos or
  // token is out of range.
  const float* forward(int token, int pos);

  // Runs tokens[0, n) at positions pos0 .. pos0 + n - 1 as one block: the projections and the
  // FFN as matrix-matrix products (each weight row read once for the block), causal attention
  // of every token over the cache and the block's earlier tokens (the KV rows of every position
  // are written). Returns the logits (vocab_size,) of the last token only, valid until the next
  // call. Same contract as forward for positions (0 <= pos0 <= context_length(), a smaller pos0
  // truncates first, pos0 + n <= max_context) and tokens; n >= 1. Every layer's activations
  // equal forward()'s token by token for F16/BF16 weights (bit for bit, with a backend whose
  // batch equals its per-token path) and within float rounding for F32 (matmul.h). Scratch for
  // the block is reserved with reserve_batch() or grown here.
  const float* forward_batch(const int* tokens, int n, int pos0);
  // Reserves the block scratch for blocks of up to n tokens (counted in scratch_bytes()).
  void reserve_batch(int n);

  // Positions cached (the next forward appends at this position).
  int context_length() const { return n_cached_; }
  // Keeps the first `positions` cached positions (0 <= positions <= context_length(); throws
  // Error otherwise) and frees the blocks past them. The next forward is at `positions`.
  void truncate(int positions);
  // Forgets every position and frees every KV block.
  void reset() { truncate(0); }

  // Replaces the FFN backend (nullptr = back to dense). Takes effect at the next forward.
  void set_ffn_backend(FfnBackend* ffn);
  FfnBackend* ffn_backend() const { return ffn_; }

  // The FFN inputs of `layer` at the last forward (dim,) or forward_batch (n, dim) row-major, one
  // row per token (ffn_inputs_recorded() rows), for predictors / calibration.
  const float* ffn_input(int layer) const;
  int ffn_inputs_recorded() const { return ffn_inputs_rows_; }
  // Keeps ffn_input() for every layer when true (costs n_layers*dim floats per token of the
  // largest block).
  void set_record_ffn_inputs(bool on);

  const Model& model() const { return model_; }
  int max_context() const { return max_context_; }
  KvType kv_type() const { return kv_type_; }
  int kv_block_positions() const { return block_positions_; }

  // KV bytes allocated now (the blocks held, all layers, keys and values). Safe to call from any
  // thread (e.g. a budget owner polling while another thread runs forward).
  int64_t kv_cache_bytes() const;
  // KV bytes this Transformer holds once `positions` are cached (block-rounded; positions are
  // clamped to [0, max_context]).
  int64_t kv_cache_bytes_for(int positions) const;
  // The transformer's own buffers besides weights and KV blocks: activations, attention scores
  // (n_heads, max_context), logits, RoPE tables, recorded FFN inputs, the internal DenseFfn's
  // scratch and the block pointer tables. Constant after construction (and
  // set_record_ffn_inputs).
  int64_t scratch_bytes() const;

 private:
  // Block scratch, each (batch_capacity_, width) row-major (width: dim, q_dim or kv_dim).
  struct BatchScratch {
    std::vector<float> x, xb, xb2, q, k, v, ffn_out;
  };
  // Token embedding (+ OPT's learned position) of `token` at `pos` -> x (dim,).
  void embed(int token, int pos, float* x);
  // q (q_dim,), k, v (kv_dim,) fresh from the projections of the token at `pos`: biases, OPT's q
  // scale, RoPE; then k and v are stored in `layer`'s cache rows of pos.
  void qkv_finish(int layer, int pos, float* q, float* k, float* v);
  // For each of n tokens t at pos0 + t: q (n, q_dim) against the cache [0, pos0 + t] of `layer`
  // -> out (n, q_dim). Parallel over heads (tokens serial within a head: one score row each).
  void attention(int layer, int pos0, int n, const float* q, float* out);
  // Checks tokens [0, n) at pos0.. (throws Error as forward documents), truncates the context to
  // pos0 when it is shorter and allocates the KV blocks up to pos0 + n - 1.
  void positions_prepare(const int* tokens, int n, int pos0);
  // x (n, dim): the FFN inputs of `layer`, kept when recording is on.
  void ffn_inputs_record(int layer, const float* x, int n);
  // The last token's residual x (dim,) -> output norm (in place) -> logits_; context ends at pos.
  const float* logits_finish(float* x, int pos);
  void norm(const Tensor& w, const Tensor& b, const float* in, float* out) const;
  // Makes sure `layer`'s block holding `pos` exists (allocates it for every layer at once).
  void kv_ensure(int pos);
  uint8_t* kv_key_row(int layer, int pos);
  uint8_t* kv_value_row(int layer, int pos);

  const Model& model_;
  const ModelConfig& cfg_;
  int max_context_ = 0;
  std::unique_ptr<DenseFfn> dense_ffn_;
  FfnBackend* ffn_ = nullptr;

  // KV cache: per layer, a table of blocks (KvBlocksView layout: block_positions_ key rows then
  // as many value rows of kv_dim elements in kv_type_). Tables are reserved for max_context at
  // construction, so neither blocks nor tables ever move; blocks_held_ blocks per layer exist.
  KvType kv_type_ = KvType::F16;
  int block_positions_ = 0;
  int64_t block_bytes_ = 0;      // one block (keys and values)
  int64_t block_key_bytes_ = 0;  // its key rows; the value rows follow
  std::atomic<int> blocks_held_{0};
  int n_cached_ = 0;
  struct BlockFree {  // munmap, or aligned delete for heap blocks
    size_t bytes = 0;
    bool mapped = false;
    void operator()(uint8_t* p) const;
  };
  std::vector<std::vector<std::unique_ptr<uint8_t, BlockFree>>> kv_blocks_;
  std::vector<std::vector<const void*>> kv_block_ptrs_;  // the same blocks, as the kernel reads
  // Scratch activations.
  std::vector<float> x_, xb_, xb2_, q_, k_, v_, att_, logits_, ffn_out_;
  std::vector<float> rope_cos_, rope_sin_;  // (max_context, head_dim/2)
  bool record_ffn_inputs_ = false;
  int ffn_inputs_rows_ = 0;
  std::vector<std::vector<float>> ffn_inputs_;
  int batch_capacity_ = 0;
  BatchScratch batch_;
};

}  // namespace flashchat
