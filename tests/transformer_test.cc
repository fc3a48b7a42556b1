// transformer_test.cc - Transformer::forward on tiny random in-memory models (llama with GQA and
// both RoPE layouts, every FFN activation; OPT with biases and learned positions) against a
// naive double-precision forward written here from the math.
#include "model/transformer.h"

#include <QtTest>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "formats/dtype.h"
#include "model/model.h"

using namespace flashchat;

namespace {

// A weight as the reference sees it: (rows, cols) doubles holding exactly the stored values.
struct Mat {
  int64_t rows = 0, cols = 0;
  std::vector<double> v;
  bool empty() const { return v.empty(); }
  double at(int64_t r, int64_t c) const { return v[static_cast<size_t>(r * cols + c)]; }
};

struct RefLayer {
  Mat attn_norm, attn_norm_b, wq, wk, wv, wo, bq, bk, bv, bo;
  Mat ffn_norm, ffn_norm_b, gate, up, down, up_b, down_b;
};

struct RefWeights {
  Mat embd, pos, out_norm, out_norm_b, output;
  std::vector<RefLayer> layers;
};

// Builds a Model whose tensors live in buffers held by model.storage, and the matching RefWeights.
class ModelBuilder {
 public:
  ModelBuilder(const ModelConfig& cfg, DType matrix_dtype, uint64_t seed)
      : model_(std::make_unique<Model>()), dtype_(matrix_dtype), rng_(seed) {
    model_->config = cfg;
    model_->source_path = "test-model";
  }

  std::unique_ptr<Model> build(RefWeights& ref) {
    const ModelConfig& c = model_->config;
    const bool opt = c.arch == Arch::Opt;
    const int64_t q_dim = int64_t{c.n_heads} * c.head_dim;
    const int64_t kv_dim = int64_t{c.n_kv_heads} * c.head_dim;
    ModelWeights& w = model_->weights;
    w.token_embd = matrix(c.vocab_size, c.dim, 1.0, ref.embd);
    if (opt) w.pos_embd = matrix(c.max_seq_len + c.pos_offset, c.dim, 0.5, ref.pos);
    w.output_norm = norm_weight(c.dim, ref.out_norm);
    if (opt) w.output_norm_bias = vec(c.dim, 0.1, ref.out_norm_b);
    if (c.tied_output) {
      w.output = w.token_embd;
      ref.output = ref.embd;
    } else {
      w.output = matrix(c.vocab_size, c.dim, 1.0 / std::sqrt(c.dim), ref.output);
    }
    ref.layers.resize(static_cast<size_t>(c.n_layers));
    for (int l = 0; l < c.n_layers; ++l) {
      LayerWeights L;
      RefLayer& R = ref.layers[static_cast<size_t>(l)];
      const double s_in = 1.0 / std::sqrt(c.dim);
      L.attn_norm = norm_weight(c.dim, R.attn_norm);
      L.wq = matrix(q_dim, c.dim, s_in, R.wq);
      L.wk = matrix(kv_dim, c.dim, s_in, R.wk);
      L.wv = matrix(kv_dim, c.dim, s_in, R.wv);
      L.wo = matrix(c.dim, q_dim, 1.0 / std::sqrt(static_cast<double>(q_dim)), R.wo);
      L.ffn_norm = norm_weight(c.dim, R.ffn_norm);
      if (c.ffn_gated) L.ffn_gate = matrix(c.ffn_dim, c.dim, 2.0 * s_in, R.gate);
      L.ffn_up = matrix(c.ffn_dim, c.dim, 2.0 * s_in, R.up);
      L.ffn_down = matrix(c.dim, c.ffn_dim, 1.0 / std::sqrt(c.ffn_dim), R.down);
      if (opt) {
        L.attn_norm_bias = vec(c.dim, 0.1, R.attn_norm_b);
        L.ffn_norm_bias = vec(c.dim, 0.1, R.ffn_norm_b);
        L.bq = vec(q_dim, 0.2, R.bq);
        L.bk = vec(kv_dim, 0.2, R.bk);
        L.bv = vec(kv_dim, 0.2, R.bv);
        L.bo = vec(c.dim, 0.2, R.bo);
        L.ffn_up_bias = vec(c.ffn_dim, 0.2, R.up_b);
        L.ffn_down_bias = vec(c.dim, 0.2, R.down_b);
      }
      w.layers.push_back(L);
    }
    return std::move(model_);
  }

 private:
  // (rows, cols) of uniform(-scale, scale) in the builder's matrix dtype.
  Tensor matrix(int64_t rows, int64_t cols, double scale, Mat& ref) {
    return store(rows, cols, scale, 0.0, dtype_, ref);
  }
  Tensor vec(int64_t n, double scale, Mat& ref) { return store(1, n, scale, 0.0, DType::F32, ref); }
  Tensor norm_weight(int64_t n, Mat& ref) { return store(1, n, 0.2, 1.0, DType::F32, ref); }

  Tensor store(int64_t rows, int64_t cols, double scale, double offset, DType dtype, Mat& ref) {
    std::uniform_real_distribution<double> dist(-scale, scale);
    const size_t n = static_cast<size_t>(rows * cols);
    ref.rows = rows;
    ref.cols = cols;
    ref.v.resize(n);
    Tensor t;
    t.dtype = dtype;
    t.rows = rows;
    t.cols = cols;
    if (dtype == DType::F32) {
      auto buf = std::make_shared<std::vector<float>>(n);
      for (size_t i = 0; i < n; ++i) {
        (*buf)[i] = static_cast<float>(offset + dist(rng_));
        ref.v[i] = (*buf)[i];
      }
      t.data = buf->data();
      model_->storage.push_back(buf);
    } else {
      auto buf = std::make_shared<std::vector<uint16_t>>(n);
      for (size_t i = 0; i < n; ++i) {
        const float f = static_cast<float>(offset + dist(rng_));
        if (dtype == DType::F16) {
          (*buf)[i] = fp32_to_fp16(f);
          ref.v[i] = fp16_to_fp32((*buf)[i]);
        } else {
          (*buf)[i] = fp32_to_bf16(f);
          ref.v[i] = bf16_to_fp32((*buf)[i]);
        }
      }
      t.data = buf->data();
      model_->storage.push_back(buf);
    }
    return t;
  }

  std::unique_ptr<Model> model_;
  DType dtype_;
  std::mt19937_64 rng_;
};

// ---------------------------------------------------------------------------------------------
// The reference forward pass, in double, straight from the definitions.

using Vec = std::vector<double>;

Vec mat_vec(const Mat& W, const Vec& x) {
  Vec out(static_cast<size_t>(W.rows), 0.0);
  for (int64_t r = 0; r < W.rows; ++r) {
    double s = 0.0;
    for (int64_t c = 0; c < W.cols; ++c) s += W.at(r, c) * x[static_cast<size_t>(c)];
    out[static_cast<size_t>(r)] = s;
  }
  return out;
}

void add(Vec& a, const Mat& b) {
  if (b.empty()) return;
  for (size_t i = 0; i < a.size(); ++i) a[i] += b.v[i];
}

double act(Activation a, double x) {
  switch (a) {
    case Activation::Silu:
      return x / (1.0 + std::exp(-x));
    case Activation::Gelu:
      return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    case Activation::Relu:
    case Activation::DRelu:
      return std::max(x, 0.0);
    case Activation::Relu2:
      return std::max(x, 0.0) * std::max(x, 0.0);
    case Activation::GeluErf:
      return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
  }
  return x;
}

class RefForward {
 public:
  RefForward(const ModelConfig& c, const RefWeights& w) : c_(c), w_(w) {
    keys_.resize(static_cast<size_t>(c.n_layers));
    values_.resize(static_cast<size_t>(c.n_layers));
  }

  Vec norm(const Mat& weight, const Mat& bias, const Vec& x) const {
    const size_t n = x.size();
    Vec out(n);
    if (c_.arch == Arch::Llama) {
      double ss = 0.0;
      for (double v : x) ss += v * v;
      const double inv = 1.0 / std::sqrt(ss / n + c_.norm_eps);
      for (size_t i = 0; i < n; ++i) out[i] = x[i] * inv * weight.v[i];
    } else {
      double mean = 0.0, var = 0.0;
      for (double v : x) mean += v;
      mean /= n;
      for (double v : x) var += (v - mean) * (v - mean);
      var /= n;
      const double inv = 1.0 / std::sqrt(var + c_.norm_eps);
      for (size_t i = 0; i < n; ++i) out[i] = (x[i] - mean) * inv * weight.v[i] + bias.v[i];
    }
    return out;
  }

  // Rotates each head of v (n_heads * head_dim) by the angles of position pos.
  void rope(Vec& v, int n_heads, int pos) const {
    const int hd = c_.head_dim;
    for (int h = 0; h < n_heads; ++h) {
      double* x = v.data() + static_cast<size_t>(h) * hd;
      for (int j = 0; j < hd / 2; ++j) {
        const double angle = pos * std::pow(static_cast<double>(c_.rope_theta), -2.0 * j / hd);
        const int a = c_.rope_style == RopeStyle::Interleaved ? 2 * j : j;
        const int b = c_.rope_style == RopeStyle::Interleaved ? 2 * j + 1 : j + hd / 2;
        const double x0 = x[a], x1 = x[b];
        x[a] = x0 * std::cos(angle) - x1 * std::sin(angle);
        x[b] = x0 * std::sin(angle) + x1 * std::cos(angle);
      }
    }
  }

  Vec forward(int token, int pos) {
    const int hd = c_.head_dim;
    const bool opt = c_.arch == Arch::Opt;
    Vec x(w_.embd.v.begin() + static_cast<ptrdiff_t>(token) * c_.dim,
          w_.embd.v.begin() + static_cast<ptrdiff_t>(token + 1) * c_.dim);
    if (opt) {
      for (int i = 0; i < c_.dim; ++i)
        x[static_cast<size_t>(i)] += w_.pos.at(pos + c_.pos_offset, i);
    }
    for (int l = 0; l < c_.n_layers; ++l) {
      const RefLayer& L = w_.layers[static_cast<size_t>(l)];
      const Vec h = norm(L.attn_norm, L.attn_norm_b, x);
      Vec q = mat_vec(L.wq, h), k = mat_vec(L.wk, h), v = mat_vec(L.wv, h);
      add(q, L.bq);
      add(k, L.bk);
      add(v, L.bv);
      if (opt) {
        for (double& e : q) e /= std::sqrt(static_cast<double>(hd));
      } else {
        rope(q, c_.n_heads, pos);
        rope(k, c_.n_kv_heads, pos);
      }
      keys_[static_cast<size_t>(l)].push_back(k);
      values_[static_cast<size_t>(l)].push_back(v);
      Vec attn(static_cast<size_t>(c_.n_heads) * hd, 0.0);
      const int group = c_.n_heads / c_.n_kv_heads;
      for (int head = 0; head < c_.n_heads; ++head) {
        const int kvh = head / group;
        Vec scores(static_cast<size_t>(pos) + 1);
        for (int t = 0; t <= pos; ++t) {
          double s = 0.0;
          for (int i = 0; i < hd; ++i) {
            s += q[static_cast<size_t>(head * hd + i)] *
                 keys_[static_cast<size_t>(l)][static_cast<size_t>(t)]
                      [static_cast<size_t>(kvh * hd + i)];
          }
          scores[static_cast<size_t>(t)] = opt ? s : s / std::sqrt(static_cast<double>(hd));
        }
        double z = 0.0;
        for (double s : scores) z += std::exp(s);  // small logits: no max subtraction needed
        for (int t = 0; t <= pos; ++t) {
          const double a = std::exp(scores[static_cast<size_t>(t)]) / z;
          for (int i = 0; i < hd; ++i) {
            attn[static_cast<size_t>(head * hd + i)] +=
                a * values_[static_cast<size_t>(l)][static_cast<size_t>(t)]
                           [static_cast<size_t>(kvh * hd + i)];
          }
        }
      }
      Vec o = mat_vec(L.wo, attn);
      add(o, L.bo);
      for (size_t i = 0; i < x.size(); ++i) x[i] += o[i];

      const Vec f = norm(L.ffn_norm, L.ffn_norm_b, x);
      Vec up = mat_vec(L.up, f);
      add(up, L.up_b);
      Vec hidden(up.size());
      if (c_.ffn_gated) {
        const Vec gate = mat_vec(L.gate, f);
        for (size_t i = 0; i < up.size(); ++i) {
          hidden[i] = c_.activation == Activation::DRelu
                          ? std::max(gate[i], 0.0) * std::max(up[i], 0.0)
                          : act(c_.activation, gate[i]) * up[i];
        }
      } else {
        for (size_t i = 0; i < up.size(); ++i) hidden[i] = act(c_.activation, up[i]);
      }
      last_hidden = hidden;
      Vec down = mat_vec(L.down, hidden);
      add(down, L.down_b);
      for (size_t i = 0; i < x.size(); ++i) x[i] += down[i];
    }
    return mat_vec(w_.output, norm(w_.out_norm, w_.out_norm_b, x));
  }

  Vec last_hidden;  // last layer's FFN hidden activations of the last forward

 private:
  const ModelConfig& c_;
  const RefWeights& w_;
  std::vector<std::vector<Vec>> keys_, values_;  // [layer][pos] -> (kv_dim,)
};

// Largest |got - ref| relative to the largest |ref| (at least 1).
double rel_error(const float* got, const Vec& ref) {
  double max_ref = 1.0, max_err = 0.0;
  for (size_t i = 0; i < ref.size(); ++i) {
    max_ref = std::max(max_ref, std::abs(ref[i]));
    max_err = std::max(max_err, std::abs(got[i] - ref[i]));
  }
  return max_err / max_ref;
}

ModelConfig llama_config(RopeStyle rope, Activation act) {
  ModelConfig c;
  c.arch = Arch::Llama;
  c.dim = 48;
  c.n_layers = 2;
  c.n_heads = 6;
  c.n_kv_heads = 2;  // GQA: three query heads per KV head
  c.head_dim = 8;
  c.ffn_dim = 70;
  c.vocab_size = 37;
  c.max_seq_len = 16;
  c.rope_style = rope;
  c.activation = act;
  return c;
}

ModelConfig opt_config() {
  ModelConfig c;
  c.arch = Arch::Opt;
  c.dim = 40;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 4;
  c.head_dim = 10;
  c.ffn_dim = 83;
  c.vocab_size = 29;
  c.max_seq_len = 12;
  c.rope_style = RopeStyle::None;
  c.activation = Activation::Relu;
  c.ffn_gated = false;
  c.tied_output = true;
  c.pos_offset = 2;
  c.has_biases = true;
  return c;
}

const int kTokens[] = {3, 17, 0, 17, 25, 8, 11};

// Forwards kTokens through both implementations; returns the worst relative error.
double compare_forward(const ModelConfig& cfg, DType dtype, uint64_t seed) {
  RefWeights ref;
  std::unique_ptr<Model> model = ModelBuilder(cfg, dtype, seed).build(ref);
  Transformer tf(*model, cfg.max_seq_len, nullptr, KvType::F32);  // vs the double reference
  RefForward rf(model->config, ref);
  double worst = 0.0;
  int pos = 0;
  for (int tok : kTokens) {
    const Vec expected = rf.forward(tok % cfg.vocab_size, pos);
    const float* got = tf.forward(tok % cfg.vocab_size, pos);
    worst = std::max(worst, rel_error(got, expected));
    ++pos;
  }
  return worst;
}

// An FFN backend that delegates to DenseFfn and records the inputs it saw.
class WrappingFfn : public FfnBackend {
 public:
  explicit WrappingFfn(const Model& m)
      : dense(m), inputs(static_cast<size_t>(m.config.n_layers)), dim_(m.config.dim) {}
  void ffn_forward(int layer, const float* x, float* out) override {
    inputs[static_cast<size_t>(layer)].assign(x, x + dim_);
    ++calls;
    dense.ffn_forward(layer, x, out);
  }
  DenseFfn dense;
  std::vector<std::vector<float>> inputs;
  int calls = 0;

 private:
  int dim_;
};

}  // namespace

class TransformerTest : public QObject {
  Q_OBJECT

 private slots:
  void llama_matches_reference_data() {
    QTest::addColumn<int>("rope");
    QTest::addColumn<int>("activation");
    QTest::addColumn<int>("dtype");
    const std::pair<const char*, Activation> acts[] = {{"silu", Activation::Silu},
                                                       {"gelu", Activation::Gelu},
                                                       {"relu", Activation::Relu},
                                                       {"relu2", Activation::Relu2},
                                                       {"drelu", Activation::DRelu},
                                                       {"gelu_erf", Activation::GeluErf}};
    const std::pair<const char*, DType> dtypes[] = {
        {"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16}};
    for (const auto& [rname, rope] : {std::pair{"interleaved", RopeStyle::Interleaved},
                                      std::pair{"halves", RopeStyle::Halves}}) {
      for (const auto& [aname, act] : acts) {
        for (const auto& [dname, dt] : dtypes) {
          const std::string row = std::string(rname) + " " + aname + " " + dname;
          QTest::newRow(row.c_str())
              << static_cast<int>(rope) << static_cast<int>(act) << static_cast<int>(dt);
        }
      }
    }
  }

  void llama_matches_reference() {
    QFETCH(int, rope);
    QFETCH(int, activation);
    QFETCH(int, dtype);
    const ModelConfig cfg =
        llama_config(static_cast<RopeStyle>(rope), static_cast<Activation>(activation));
    const double err =
        compare_forward(cfg, static_cast<DType>(dtype), 1000 + rope * 10 + activation);
    QVERIFY2(err < 1e-4, qPrintable(QString("relative error %1").arg(err)));
  }

  void llama_wide_heads_and_theta() {
    // head_dim * n_heads != dim, odd head count, large theta, untied head.
    ModelConfig cfg = llama_config(RopeStyle::Halves, Activation::Silu);
    cfg.dim = 36;
    cfg.n_heads = 3;
    cfg.n_kv_heads = 1;
    cfg.head_dim = 14;
    cfg.rope_theta = 500000.0f;
    cfg.norm_eps = 1e-6f;
    const double err = compare_forward(cfg, DType::F32, 77);
    QVERIFY2(err < 1e-4, qPrintable(QString("relative error %1").arg(err)));
    cfg.rope_style = RopeStyle::Interleaved;
    const double err2 = compare_forward(cfg, DType::F16, 78);
    QVERIFY2(err2 < 1e-4, qPrintable(QString("relative error %1").arg(err2)));
  }

  void opt_matches_reference() {
    for (DType dt : {DType::F32, DType::F16, DType::BF16}) {
      const double err = compare_forward(opt_config(), dt, 4242);
      QVERIFY2(err < 1e-4,
               qPrintable(QString("%1: relative error %2").arg(dtype_name(dt)).arg(err)));
    }
    ModelConfig untied = opt_config();
    untied.tied_output = false;
    untied.norm_eps = 1e-5f;
    const double err = compare_forward(untied, DType::F32, 4343);
    QVERIFY2(err < 1e-4, qPrintable(QString("untied: relative error %1").arg(err)));
  }

  void custom_backend_gives_identical_logits() {
    for (const ModelConfig& cfg :
         {llama_config(RopeStyle::Interleaved, Activation::Silu), opt_config()}) {
      RefWeights ref;
      std::unique_ptr<Model> model = ModelBuilder(cfg, DType::F16, 5).build(ref);
      WrappingFfn wrapper(*model);
      // F32 KV: the hidden activations are checked against the double reference below
      Transformer dense_tf(*model, 8, nullptr, KvType::F32);
      Transformer custom_tf(*model, 8, &wrapper, KvType::F32);
      QCOMPARE(custom_tf.ffn_backend(), &wrapper);
      custom_tf.set_record_ffn_inputs(true);
      RefForward rf(model->config, ref);
      for (int pos = 0; pos < 5; ++pos) {
        const int tok = kTokens[pos] % cfg.vocab_size;
        dense_tf.forward(tok, pos);
        const float* la = dense_tf.forward(tok, pos);  // re-running a position is allowed
        const std::vector<float> dense_logits(la, la + cfg.vocab_size);
        const float* lb = custom_tf.forward(tok, pos);
        const std::vector<float> custom_logits(lb, lb + cfg.vocab_size);
        QCOMPARE(custom_logits, dense_logits);
        // the backend saw exactly the recorded FFN inputs
        for (int l = 0; l < cfg.n_layers; ++l) {
          const float* rec = custom_tf.ffn_input(l);
          QCOMPARE(std::vector<float>(rec, rec + cfg.dim), wrapper.inputs[static_cast<size_t>(l)]);
        }
        // DenseFfn::last_hidden is the last layer's hidden activations
        rf.forward(tok, pos);
        const std::vector<float>& hidden = wrapper.dense.last_hidden();
        QCOMPARE(hidden.size(), rf.last_hidden.size());
        QVERIFY(rel_error(hidden.data(), rf.last_hidden) < 1e-4);
      }
      QCOMPARE(wrapper.calls, 5 * cfg.n_layers);
      // back to dense
      custom_tf.set_ffn_backend(nullptr);
      QVERIFY(custom_tf.ffn_backend() != &wrapper);
      custom_tf.forward(1, 5);
      QCOMPARE(wrapper.calls, 5 * cfg.n_layers);
    }
  }

  void ffn_without_weights_needs_a_backend() {
    // A flash model keeps no FFN matrices in memory: the transformer accepts it, the dense FFN
    // refuses to run it, and a backend that supplies the FFN makes it work.
    for (const ModelConfig& cfg :
         {llama_config(RopeStyle::Halves, Activation::Silu), opt_config()}) {
      RefWeights ref;
      std::unique_ptr<Model> full = ModelBuilder(cfg, DType::F32, 21).build(ref);
      std::unique_ptr<Model> flash = ModelBuilder(cfg, DType::F32, 21).build(ref);
      for (LayerWeights& L : flash->weights.layers) L.ffn_gate = L.ffn_up = L.ffn_down = Tensor{};
      WrappingFfn from_full(*full);
      Transformer dense_tf(*full, 6);
      Transformer flash_tf(*flash, 6);
      QVERIFY_THROWS_EXCEPTION(Error, flash_tf.forward(1, 0));
      Transformer backed_tf(*flash, 6, &from_full);
      for (int pos = 0; pos < 4; ++pos) {
        const int tok = kTokens[pos] % cfg.vocab_size;
        const float* a = dense_tf.forward(tok, pos);
        const std::vector<float> expected(a, a + cfg.vocab_size);
        const float* b = backed_tf.forward(tok, pos);
        QCOMPARE(std::vector<float>(b, b + cfg.vocab_size), expected);
      }
    }
  }

  void bad_input_throws() {
    RefWeights ref;
    const ModelConfig cfg = llama_config(RopeStyle::Interleaved, Activation::Silu);
    std::unique_ptr<Model> model = ModelBuilder(cfg, DType::F32, 9).build(ref);
    Transformer tf(*model, 4);
    QCOMPARE(tf.max_context(), 4);
    QCOMPARE(tf.kv_cache_bytes(), int64_t{0});  // blocks come with the positions
    QCOMPARE(tf.kv_cache_bytes_for(4),
             int64_t{2} * cfg.n_layers * 4 * cfg.n_kv_heads * cfg.head_dim * 2);  // F16
    QVERIFY_THROWS_EXCEPTION(Error, tf.forward(1, 1));  // position 0 was never fed
    QVERIFY_THROWS_EXCEPTION(Error, tf.truncate(1));
    QVERIFY_THROWS_EXCEPTION(Error, tf.forward(1, 4));
    QVERIFY_THROWS_EXCEPTION(Error, tf.forward(1, -1));
    QVERIFY_THROWS_EXCEPTION(Error, tf.forward(cfg.vocab_size, 0));
    QVERIFY_THROWS_EXCEPTION(Error, tf.forward(-1, 0));
    QVERIFY_THROWS_EXCEPTION(Error, tf.ffn_input(0));  // recording off
    QVERIFY_THROWS_EXCEPTION(Error, Transformer(*model, 0));
    QVERIFY_THROWS_EXCEPTION(Error, Transformer(*model, cfg.max_seq_len + 1));
    // a weight of the wrong shape is reported, not read out of bounds
    model->weights.layers[1].wk.rows -= 1;
    QVERIFY_THROWS_EXCEPTION(Error, Transformer(*model, 4));
    model->weights.layers[1].wk.rows += 1;
    model->weights.layers[0].ffn_gate = Tensor{};
    QVERIFY_THROWS_EXCEPTION(Error, Transformer(*model, 4));
  }
};

QTEST_GUILESS_MAIN(TransformerTest)
#include "transformer_test.moc"
