// transformer.cc - the dense forward pass (llama family and OPT) with its KV cache.
//
// The llama path mirrors llama2.c's run.c float arithmetic (RMSNorm, RoPE frequencies computed
// in float, score / sqrtf(head_dim), max-subtracted softmax, SiLU as x * 1/(1+e^-x)) so that
// greedy decoding of llama2.c-trained checkpoints reproduces their reference text exactly.
#include "model/transformer.h"

#include <sys/mman.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <string>

#include "compute/attention.h"
#include "compute/matvec.h"
#include "core/error.h"

namespace flashchat {
namespace {

// Attention work (positions * heads * head_dim) above which heads run in parallel.
constexpr int64_t kParallelAttentionWork = 1 << 16;
// KV blocks of whole pages are mapped from the OS, so a freed one leaves the process (a heap
// allocator would keep it); smaller or odd-sized blocks (tiny models) come from the heap, where
// rounding them up to pages would cost more than they hold. Either way a block costs its bytes.
constexpr std::align_val_t kKvBlockAlign{64};

bool kv_block_mapped(int64_t bytes) {
  static const int64_t page = sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096;
  return bytes % page == 0;
}

DType kv_dtype(KvType t) {
  return t == KvType::F16 ? DType::F16 : DType::F32;
}

template <typename T>
int64_t vector_bytes(const std::vector<T>& v) {
  return static_cast<int64_t>(v.capacity() * sizeof(T));
}

std::string source_of(const Model& model) {
  return model.source_path.empty() ? std::string("transformer") : model.source_path;
}

// Throws unless `t` is a (rows, cols) matrix of a dtype matvec handles.
void check_matrix(const Model& model, const Tensor& t, int64_t rows, int64_t cols,
                  const std::string& name) {
  if (t.empty()) fail(source_of(model), "missing weight " + name);
  if (t.rows != rows || t.cols != cols) {
    fail(source_of(model), "weight " + name + " has shape (" + std::to_string(t.rows) + ", " +
                               std::to_string(t.cols) + "), expected (" + std::to_string(rows) +
                               ", " + std::to_string(cols) + ")");
  }
  if (cols % dtype_block_elems(t.dtype) != 0) {
    fail(source_of(model), "weight " + name + " (" + dtype_name(t.dtype) + ") has rows of " +
                               std::to_string(cols) + " elements, not whole blocks");
  }
}

// Throws unless `t` is empty or an F32 vector of n elements (norm weights, biases).
void check_vector(const Model& model, const Tensor& t, int64_t n, const std::string& name,
                  bool required) {
  if (t.empty()) {
    if (required) fail(source_of(model), "missing weight " + name);
    return;
  }
  if (t.n_elements() != n || t.dtype != DType::F32) {
    fail(source_of(model), "weight " + name + " must be an F32 vector of " + std::to_string(n) +
                               " elements (has " + std::to_string(t.n_elements()) + " " +
                               dtype_name(t.dtype) + ")");
  }
}

void add_bias(const Tensor& b, float* out, int64_t n) {
  if (b.empty()) return;
  const float* bias = b.f32();
  for (int64_t i = 0; i < n; ++i) out[i] += bias[i];
}

// Validates the config and every weight the forward pass reads.
void validate_model(const Model& model) {
  const ModelConfig& c = model.config;
  const std::string src = source_of(model);
  if (c.dim <= 0 || c.n_layers <= 0 || c.n_heads <= 0 || c.n_kv_heads <= 0 || c.head_dim <= 0 ||
      c.ffn_dim <= 0 || c.vocab_size <= 0) {
    fail(src,
         "invalid model config: dim, n_layers, n_heads, n_kv_heads, head_dim, ffn_dim and "
         "vocab_size must all be positive");
  }
  if (c.n_heads % c.n_kv_heads != 0) {
    fail(src, "n_heads (" + std::to_string(c.n_heads) + ") is not a multiple of n_kv_heads (" +
                  std::to_string(c.n_kv_heads) + ")");
  }
  if (c.rope_style != RopeStyle::None && c.head_dim % 2 != 0) {
    fail(src, "RoPE needs an even head_dim, got " + std::to_string(c.head_dim));
  }
  if (!c.rope_freq_factors.empty()) {
    if (c.rope_freq_factors.size() != static_cast<size_t>(c.head_dim / 2)) {
      fail(src, "rope_freq_factors has " + std::to_string(c.rope_freq_factors.size()) +
                    " values, expected head_dim / 2 = " + std::to_string(c.head_dim / 2));
    }
    for (float f : c.rope_freq_factors) {
      if (!(f > 0.0f) || !std::isfinite(f)) fail(src, "rope_freq_factors must be positive");
    }
  }
  if (static_cast<int>(model.weights.layers.size()) != c.n_layers) {
    fail(src, "model has " + std::to_string(model.weights.layers.size()) + " layers, config says " +
                  std::to_string(c.n_layers));
  }
  const int64_t q_dim = int64_t{c.n_heads} * c.head_dim;
  const int64_t kv_dim = int64_t{c.n_kv_heads} * c.head_dim;
  const ModelWeights& w = model.weights;
  check_matrix(model, w.token_embd, c.vocab_size, c.dim, "token_embd");
  check_matrix(model, w.output, c.vocab_size, c.dim, "output");
  check_vector(model, w.output_norm, c.dim, "output_norm", true);
  check_vector(model, w.output_norm_bias, c.dim, "output_norm_bias", false);
  if (c.arch == Arch::Opt) {
    if (w.pos_embd.empty()) fail(src, "missing weight pos_embd (OPT learned positions)");
    check_matrix(model, w.pos_embd, w.pos_embd.rows, c.dim, "pos_embd");
  }
  for (int l = 0; l < c.n_layers; ++l) {
    const LayerWeights& L = w.layers[static_cast<size_t>(l)];
    const std::string p = "blk." + std::to_string(l) + ".";
    check_vector(model, L.attn_norm, c.dim, p + "attn_norm", true);
    check_vector(model, L.attn_norm_bias, c.dim, p + "attn_norm_bias", false);
    check_matrix(model, L.wq, q_dim, c.dim, p + "attn_q");
    check_matrix(model, L.wk, kv_dim, c.dim, p + "attn_k");
    check_matrix(model, L.wv, kv_dim, c.dim, p + "attn_v");
    check_matrix(model, L.wo, c.dim, q_dim, p + "attn_output");
    check_vector(model, L.bq, q_dim, p + "attn_q_bias", false);
    check_vector(model, L.bk, kv_dim, p + "attn_k_bias", false);
    check_vector(model, L.bv, kv_dim, p + "attn_v_bias", false);
    check_vector(model, L.bo, c.dim, p + "attn_output_bias", false);
    check_vector(model, L.ffn_norm, c.dim, p + "ffn_norm", true);
    check_vector(model, L.ffn_norm_bias, c.dim, p + "ffn_norm_bias", false);
    // A flash model keeps its FFN matrices on flash (all empty here); DenseFfn refuses it.
    // On flash: up and down (the gate too, unless a flash model keeps it resident).
    const bool ffn_on_flash = L.ffn_up.empty() && L.ffn_down.empty();
    if (ffn_on_flash && !L.ffn_gate.empty()) {
      check_matrix(model, L.ffn_gate, c.ffn_dim, c.dim, p + "ffn_gate");
    } else if (!ffn_on_flash) {
      if (c.ffn_gated) check_matrix(model, L.ffn_gate, c.ffn_dim, c.dim, p + "ffn_gate");
      check_matrix(model, L.ffn_up, c.ffn_dim, c.dim, p + "ffn_up");
      check_matrix(model, L.ffn_down, c.dim, c.ffn_dim, p + "ffn_down");
    }
    check_vector(model, L.ffn_up_bias, c.ffn_dim, p + "ffn_up_bias", false);
    check_vector(model, L.ffn_down_bias, c.dim, p + "ffn_down_bias", false);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Transformer

// ---------------------------------------------------------------------------------------------
// KV cache sizes

const char* kv_type_name(KvType t) {
  return t == KvType::F16 ? "f16" : "f32";
}

int kv_block_positions_for(int max_context) {
  return std::max(1, std::min(kKvBlockPositions, max_context));
}

int64_t kv_cache_bytes_for(const ModelConfig& config, KvType type, int positions,
                           int block_positions) {
  if (positions <= 0 || block_positions <= 0) return 0;
  const int64_t blocks = (int64_t{positions} + block_positions - 1) / block_positions;
  const int64_t kv_dim = int64_t{config.n_kv_heads} * config.head_dim;
  return int64_t{config.n_layers} * blocks *
         kv_block_bytes(kv_dtype(type), block_positions, kv_dim);
}

void Transformer::BlockFree::operator()(uint8_t* p) const {
  if (mapped) {
    munmap(p, bytes);
  } else {
    ::operator delete(p, kKvBlockAlign);
  }
}

Transformer::Transformer(const Model& model, int max_context, FfnBackend* ffn, KvType kv_type)
    : model_(model), cfg_(model.config), kv_type_(kv_type) {
  validate_model(model);
  const std::string src = source_of(model);
  if (max_context <= 0 || (cfg_.max_seq_len > 0 && max_context > cfg_.max_seq_len)) {
    fail(src, "max_context " + std::to_string(max_context) + " must be in [1, " +
                  std::to_string(cfg_.max_seq_len) + "]");
  }
  if (cfg_.arch == Arch::Opt &&
      int64_t{max_context} + cfg_.pos_offset > model.weights.pos_embd.rows) {
    fail(src, "max_context " + std::to_string(max_context) + " + pos_offset " +
                  std::to_string(cfg_.pos_offset) + " exceeds the " +
                  std::to_string(model.weights.pos_embd.rows) + " learned positions");
  }
  max_context_ = max_context;
  dense_ffn_ = std::make_unique<DenseFfn>(model);
  ffn_ = ffn != nullptr ? ffn : dense_ffn_.get();
  dense_ffn_->set_model_dim(cfg_.dim);
  ffn_->set_model_dim(cfg_.dim);

  const size_t dim = static_cast<size_t>(cfg_.dim);
  const size_t q_dim = static_cast<size_t>(cfg_.n_heads) * static_cast<size_t>(cfg_.head_dim);
  const size_t kv_dim = static_cast<size_t>(cfg_.n_kv_heads) * static_cast<size_t>(cfg_.head_dim);
  const size_t ctx = static_cast<size_t>(max_context);
  block_positions_ = kv_block_positions_for(max_context);
  block_bytes_ = kv_block_bytes(kv_dtype(kv_type_), block_positions_, static_cast<int64_t>(kv_dim));
  block_key_bytes_ = block_bytes_ / 2;
  const size_t max_blocks =
      static_cast<size_t>((max_context + block_positions_ - 1) / block_positions_);
  kv_blocks_.resize(static_cast<size_t>(cfg_.n_layers));
  kv_block_ptrs_.resize(static_cast<size_t>(cfg_.n_layers));
  for (size_t l = 0; l < kv_blocks_.size(); ++l) {
    kv_blocks_[l].reserve(max_blocks);
    kv_block_ptrs_[l].reserve(max_blocks);
  }
  x_.resize(dim);
  xb_.resize(std::max(dim, q_dim));
  xb2_.resize(dim);
  q_.resize(q_dim);
  k_.resize(kv_dim);
  v_.resize(kv_dim);
  att_.resize(static_cast<size_t>(cfg_.n_heads) * ctx);
  logits_.resize(static_cast<size_t>(cfg_.vocab_size));
  ffn_out_.resize(dim);

  if (cfg_.rope_style != RopeStyle::None) {
    // (max_context, head_dim/2). Interleaved follows llama2.c exactly (float freq, float angle,
    // cosf/sinf); Halves (HF checkpoints) computes the angle in double and rounds once.
    const int half = cfg_.head_dim / 2;
    rope_cos_.resize(ctx * static_cast<size_t>(half));
    rope_sin_.resize(ctx * static_cast<size_t>(half));
    for (int pos = 0; pos < max_context; ++pos) {
      for (int j = 0; j < half; ++j) {
        const size_t idx = static_cast<size_t>(pos) * half + j;
        // Llama 3 scaling divides pair j's frequency by its factor (1 without scaling).
        const float factor = cfg_.rope_freq_factors.empty()
                                 ? 1.0f
                                 : cfg_.rope_freq_factors[static_cast<size_t>(j)];
        if (cfg_.rope_style == RopeStyle::Interleaved) {
          float freq = 1.0f / std::pow(cfg_.rope_theta, static_cast<float>(2 * j) /
                                                            static_cast<float>(cfg_.head_dim));
          if (factor != 1.0f) freq /= factor;
          const float val = static_cast<float>(pos) * freq;
          rope_cos_[idx] = std::cos(val);
          rope_sin_[idx] = std::sin(val);
        } else {
          const double freq = 1.0 /
                              std::pow(static_cast<double>(cfg_.rope_theta),
                                       static_cast<double>(2 * j) / cfg_.head_dim) /
                              static_cast<double>(factor);
          const double val = pos * freq;
          rope_cos_[idx] = static_cast<float>(std::cos(val));
          rope_sin_[idx] = static_cast<float>(std::sin(val));
        }
      }
    }
  }
}

Transformer::~Transformer() = default;

void Transformer::set_ffn_backend(FfnBackend* ffn) {
  ffn_ = ffn != nullptr ? ffn : dense_ffn_.get();
  ffn_->set_model_dim(cfg_.dim);
}

int64_t Transformer::kv_cache_bytes() const {
  return int64_t{cfg_.n_layers} * blocks_held_ * block_bytes_;
}

int64_t Transformer::kv_cache_bytes_for(int positions) const {
  return flashchat::kv_cache_bytes_for(cfg_, kv_type_, std::clamp(positions, 0, max_context_),
                                       block_positions_);
}

int64_t Transformer::scratch_bytes() const {
  int64_t bytes = 0;
  for (const std::vector<float>* v : {&x_, &xb_, &xb2_, &q_, &k_, &v_, &att_, &logits_,
                                      &ffn_out_, &rope_cos_, &rope_sin_}) {
    bytes += vector_bytes(*v);
  }
  for (const std::vector<float>* v :
       {&batch_.x, &batch_.xb, &batch_.xb2, &batch_.q, &batch_.k, &batch_.v, &batch_.ffn_out}) {
    bytes += vector_bytes(*v);
  }
  bytes += vector_bytes(ffn_inputs_);
  for (const std::vector<float>& v : ffn_inputs_) bytes += vector_bytes(v);
  bytes += vector_bytes(kv_blocks_) + vector_bytes(kv_block_ptrs_);
  for (size_t l = 0; l < kv_blocks_.size(); ++l) {
    bytes += vector_bytes(kv_blocks_[l]) + vector_bytes(kv_block_ptrs_[l]);
  }
  if (dense_ffn_) bytes += dense_ffn_->scratch_bytes();
  return bytes;
}

void Transformer::truncate(int positions) {
  if (positions < 0 || positions > n_cached_) {
    fail(source_of(model_), "truncate: " + std::to_string(positions) +
                                " positions requested, the context holds " +
                                std::to_string(n_cached_));
  }
  const int keep = (positions + block_positions_ - 1) / block_positions_;
  for (size_t l = 0; l < kv_blocks_.size(); ++l) {
    kv_blocks_[l].resize(static_cast<size_t>(keep));
    kv_block_ptrs_[l].resize(static_cast<size_t>(keep));
  }
  blocks_held_ = std::min(blocks_held_.load(), keep);
  n_cached_ = positions;
}

void Transformer::kv_ensure(int pos) {
  const int needed = pos / block_positions_ + 1;
  while (blocks_held_ < needed) {
    // One new block per layer; on bad_alloc the layers that got one give it back.
    size_t l = 0;
    try {
      for (; l < kv_blocks_.size(); ++l) {
        const size_t bytes = static_cast<size_t>(block_bytes_);
        const bool mapped = kv_block_mapped(block_bytes_);
        uint8_t* p = nullptr;
        if (mapped) {
          void* m =
              mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
          if (m == MAP_FAILED) throw std::bad_alloc();
          p = static_cast<uint8_t*>(m);
        } else {
          p = static_cast<uint8_t*>(::operator new(bytes, kKvBlockAlign));
        }
        // capacity reserved: never reallocates
        kv_blocks_[l].emplace_back(p, BlockFree{bytes, mapped});
        kv_block_ptrs_[l].push_back(p);
      }
    } catch (...) {
      for (size_t i = 0; i < l; ++i) {
        kv_blocks_[i].pop_back();
        kv_block_ptrs_[i].pop_back();
      }
      throw;
    }
    ++blocks_held_;
  }
}

uint8_t* Transformer::kv_key_row(int layer, int pos) {
  const int64_t row_bytes = block_key_bytes_ / block_positions_;
  return kv_blocks_[static_cast<size_t>(layer)][static_cast<size_t>(pos / block_positions_)].get() +
         (pos % block_positions_) * row_bytes;
}

uint8_t* Transformer::kv_value_row(int layer, int pos) {
  return kv_key_row(layer, pos) + block_key_bytes_;
}

// in (dim,) -> out (dim,). RMSNorm (llama2.c arithmetic), or LayerNorm (OPT, Falcon).
void Transformer::norm(const Tensor& w, const Tensor& b, const float* in, float* out) const {
  const int n = cfg_.dim;
  const float* weight = w.f32();
  if (!cfg_.layer_norm()) {
    float ss = 0.0f;
    for (int j = 0; j < n; ++j) ss += in[j] * in[j];
    ss /= static_cast<float>(n);
    ss += cfg_.norm_eps;
    ss = 1.0f / std::sqrt(ss);
    for (int j = 0; j < n; ++j) out[j] = weight[j] * (ss * in[j]);
    if (!b.empty()) add_bias(b, out, n);
    return;
  }
  double mean = 0.0;
  for (int j = 0; j < n; ++j) mean += in[j];
  mean /= n;
  double var = 0.0;
  for (int j = 0; j < n; ++j) {
    const double d = in[j] - mean;
    var += d * d;
  }
  var /= n;
  const float inv = static_cast<float>(1.0 / std::sqrt(var + cfg_.norm_eps));
  const float m = static_cast<float>(mean);
  const float* bias = b.empty() ? nullptr : b.f32();
  for (int j = 0; j < n; ++j) {
    const float y = (in[j] - m) * inv * weight[j];
    out[j] = bias != nullptr ? y + bias[j] : y;
  }
}

// For each token t: q (n, q_dim) row t and the cache [0, pos0 + t] of `layer` -> out row t.
void Transformer::attention(int layer, int pos0, int n, const float* q, float* out) {
  const int hd = cfg_.head_dim;
  const int kv_mul = cfg_.n_heads / cfg_.n_kv_heads;
  const size_t q_dim = static_cast<size_t>(cfg_.n_heads) * hd;
  KvBlocksView kv;
  kv.dtype = kv_dtype(kv_type_);
  kv.blocks = kv_block_ptrs_[static_cast<size_t>(layer)].data();
  kv.block_positions = block_positions_;
  kv.row_elems = int64_t{cfg_.n_kv_heads} * hd;
  // OPT pre-scales q (HF: q_proj(x) * head_dim^-0.5); llama divides each score by sqrtf(hd).
  const float score_div = cfg_.arch != Arch::Opt ? std::sqrt(static_cast<float>(hd)) : 1.0f;

  // head h of token t: q (hd,) . keys [0, pos0 + t] -> att (pos0+t+1,) -> out (hd,)
  auto head = [&](int h) {
    for (int t = 0; t < n; ++t) {
      const size_t row = static_cast<size_t>(t) * q_dim + static_cast<size_t>(h) * hd;
      attention_head(kv, int64_t{h / kv_mul} * hd, hd, q + row, pos0 + t + 1, score_div,
                     att_.data() + static_cast<size_t>(h) * max_context_, out + row);
    }
  };

  const int64_t work = (int64_t{pos0} * n + int64_t{n} * (n + 1) / 2) * cfg_.n_heads * hd;
  if (work >= kParallelAttentionWork && cfg_.n_heads > 1) {
    tbb::parallel_for(tbb::blocked_range<int>(0, cfg_.n_heads),
                      [&](const tbb::blocked_range<int>& r) {
                        for (int h = r.begin(); h != r.end(); ++h) head(h);
                      });
  } else {
    for (int h = 0; h < cfg_.n_heads; ++h) head(h);
  }
}

void Transformer::embed(int token, int pos, float* x) {
  const ModelWeights& w = model_.weights;
  const int dim = cfg_.dim;
  dtype_to_fp32(w.token_embd.dtype, w.token_embd.row(token), x, dim);
  if (cfg_.arch == Arch::Opt) {
    dtype_to_fp32(w.pos_embd.dtype, w.pos_embd.row(pos + cfg_.pos_offset), xb2_.data(), dim);
    for (int i = 0; i < dim; ++i) x[i] += xb2_[static_cast<size_t>(i)];
  }
}

void Transformer::qkv_finish(int layer, int pos, float* q, float* k, float* v) {
  const LayerWeights& L = model_.weights.layers[static_cast<size_t>(layer)];
  const int hd = cfg_.head_dim;
  const int q_dim = cfg_.n_heads * hd;
  const int kv_dim = cfg_.n_kv_heads * hd;
  add_bias(L.bq, q, q_dim);
  add_bias(L.bk, k, kv_dim);
  add_bias(L.bv, v, kv_dim);
  if (cfg_.arch == Arch::Opt) {
    const float q_scale = 1.0f / std::sqrt(static_cast<float>(hd));
    for (int i = 0; i < q_dim; ++i) q[i] *= q_scale;
  }
  const int half = hd / 2;
  const float* rc =
      rope_cos_.empty() ? nullptr : rope_cos_.data() + static_cast<size_t>(pos) * half;
  const float* rs =
      rope_sin_.empty() ? nullptr : rope_sin_.data() + static_cast<size_t>(pos) * half;
  if (cfg_.rope_style == RopeStyle::Interleaved) {
    // pairs (2j, 2j+1) within each head
    auto rotate = [&](float* vec, int n) {
      for (int i = 0; i < n; i += 2) {
        const int j = (i % hd) / 2;
        const float fcr = rc[j], fci = rs[j];
        const float v0 = vec[i], v1 = vec[i + 1];
        vec[i] = v0 * fcr - v1 * fci;
        vec[i + 1] = v0 * fci + v1 * fcr;
      }
    };
    rotate(q, q_dim);
    rotate(k, kv_dim);
  } else if (cfg_.rope_style == RopeStyle::Halves) {
    // pairs (j, j + head_dim/2) within each head
    auto rotate = [&](float* vec, int n_heads) {
      for (int h = 0; h < n_heads; ++h) {
        float* vh = vec + static_cast<size_t>(h) * hd;
        for (int j = 0; j < half; ++j) {
          const float fcr = rc[j], fci = rs[j];
          const float v0 = vh[j], v1 = vh[j + half];
          vh[j] = v0 * fcr - v1 * fci;
          vh[j + half] = v0 * fci + v1 * fcr;
        }
      }
    };
    rotate(q, cfg_.n_heads);
    rotate(k, cfg_.n_kv_heads);
  }
  // k, v (kv_dim,) -> this position's cache rows, in the cache's element type
  kv_row_store(kv_dtype(kv_type_), k, kv_key_row(layer, pos), kv_dim);
  kv_row_store(kv_dtype(kv_type_), v, kv_value_row(layer, pos), kv_dim);
}

// Throws unless tokens [0, n) at pos0.. are valid; truncates to pos0 and allocates KV blocks.
void Transformer::positions_prepare(const int* tokens, int n, int pos0) {
  const std::string src = source_of(model_);
  if (n < 1) fail(src, "forward: a block needs at least one token");
  if (pos0 < 0 || int64_t{pos0} + n > max_context_) {
    fail(src, "forward: positions [" + std::to_string(pos0) + ", " + std::to_string(int64_t{pos0} + n) +
                  ") outside the context [0, " + std::to_string(max_context_) + ")");
  }
  for (int t = 0; t < n; ++t) {
    if (tokens[t] < 0 || tokens[t] >= cfg_.vocab_size) {
      fail(src, "forward: token " + std::to_string(tokens[t]) + " outside the vocabulary [0, " +
                    std::to_string(cfg_.vocab_size) + ")");
    }
  }
  if (pos0 > n_cached_) {
    fail(src, "forward: position " + std::to_string(pos0) + " skips positions (the context holds " +
                  std::to_string(n_cached_) + ")");
  }
  if (pos0 < n_cached_) truncate(pos0);
  kv_ensure(pos0 + n - 1);
}

const float* Transformer::forward(int token, int pos) {
  positions_prepare(&token, 1, pos);
  const ModelWeights& w = model_.weights;
  const int dim = cfg_.dim;
  float* x = x_.data();
  embed(token, pos, x);

  const bool prefetch = ffn_->prefetch_wanted();
  for (int l = 0; l < cfg_.n_layers; ++l) {
    const LayerWeights& L = w.layers[static_cast<size_t>(l)];
    if (prefetch && !cfg_.parallel_residual) {
      // The FFN's input estimated from the residual before attention (xb2 is free until wo).
      norm(L.ffn_norm, L.ffn_norm_bias, x, xb2_.data());
      ffn_->ffn_prefetch(l, xb2_.data());
    }
    if (cfg_.parallel_residual) {
      // Falcon: the FFN reads the residual before attention; its output joins after attention.
      norm(L.ffn_norm, L.ffn_norm_bias, x, xb2_.data());
      if (prefetch) ffn_->ffn_prefetch(l, xb2_.data());  // exact: the input is known
      ffn_inputs_record(l, xb2_.data(), 1);
      ffn_->ffn_forward(l, xb2_.data(), ffn_out_.data());
    }
    norm(L.attn_norm, L.attn_norm_bias, x, xb_.data());
    // wq (q_dim, dim) @ xb (dim,) -> q (q_dim,); wk/wv (kv_dim, dim) @ xb -> k, v (kv_dim,)
    matvec(L.wq, xb_.data(), q_.data());
    matvec(L.wk, xb_.data(), k_.data());
    matvec(L.wv, xb_.data(), v_.data());
    qkv_finish(l, pos, q_.data(), k_.data(), v_.data());

    attention(l, pos, 1, q_.data(), xb_.data());
    // wo (dim, q_dim) @ xb (q_dim,) -> xb2 (dim,)
    matvec(L.wo, xb_.data(), xb2_.data());
    add_bias(L.bo, xb2_.data(), dim);
    for (int i = 0; i < dim; ++i) x[i] += xb2_[static_cast<size_t>(i)];

    if (!cfg_.parallel_residual) {
      norm(L.ffn_norm, L.ffn_norm_bias, x, xb_.data());
      ffn_inputs_record(l, xb_.data(), 1);
      ffn_->ffn_forward(l, xb_.data(), ffn_out_.data());
    }
    for (int i = 0; i < dim; ++i) x[i] += ffn_out_[static_cast<size_t>(i)];
  }
  return logits_finish(x, pos);
}

// The last token's residual x (dim,) -> output norm -> logits; the context now ends at pos.
const float* Transformer::logits_finish(float* x, int pos) {
  const ModelWeights& w = model_.weights;
  norm(w.output_norm, w.output_norm_bias, x, x);
  // output (vocab, dim) @ x (dim,) -> logits (vocab,)
  matvec(w.output, x, logits_.data());
  n_cached_ = pos + 1;
  return logits_.data();
}

}  // namespace flashchat
