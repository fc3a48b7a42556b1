// gate_calib.cc - per-layer |act(gate)| thresholds from calibration text: a capturing FFN backend
// histograms (|act(g)|, |act(g) * u|) over a logarithmic grid while the dense FFN runs.
#include "convert/gate_calib.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "compute/matvec.h"
#include "core/error.h"
#include "model/transformer.h"

namespace flashchat {
namespace {

constexpr double kGridLow = 1e-7;  // bin 0 holds everything below (zero included)
constexpr int kStepsPerDecade = 64;
constexpr int kDecades = 11;       // up to 1e4; larger values land in the last bin
constexpr int kBins = 1 + kStepsPerDecade * kDecades;
constexpr int kMaxChunkTokens = 256;

// Lower edge of bin k >= 1 (bin 0 starts at 0).
double bin_low(int k) { return kGridLow * std::pow(10.0, double(k - 1) / kStepsPerDecade); }

int bin_of(float v) {
  if (!(v >= kGridLow)) return 0;
  const int k = 1 + static_cast<int>(std::floor(std::log10(v / kGridLow) * kStepsPerDecade));
  return std::min(k, kBins - 1);
}

struct Histogram {
  std::vector<double> mass = std::vector<double>(kBins, 0.0);
  std::vector<int64_t> count = std::vector<int64_t>(kBins, 0);
};

// Dense FFN that also histograms every neuron's gate activation and contribution.
class GateCapture : public FfnBackend {
 public:
  GateCapture(const Model& model, std::vector<Histogram>& hist)
      : model_(model), dense_(model), hist_(hist) {
    const size_t n = static_cast<size_t>(model.config.ffn_dim);
    g_.resize(n);
    u_.resize(n);
    a_.resize(n);
    ones_.assign(n, 1.0f);
  }

  // Off: the FFN runs without recording (BOS positions are not calibration tokens).
  void set_recording(bool on) { recording_ = on; }

  void ffn_forward(int layer, const float* x, float* out) override {
    if (!recording_) return dense_.ffn_forward(layer, x, out);
    const LayerWeights& l = model_.weights.layers[static_cast<size_t>(layer)];
    const int64_t n = model_.config.ffn_dim;
    matvec(l.ffn_gate, x, g_.data());  // gate (n,) . x
    matvec(l.ffn_up, x, u_.data());    // up (n,) . x
    if (!l.ffn_up_bias.empty()) {
      for (int64_t i = 0; i < n; ++i) u_[static_cast<size_t>(i)] += l.ffn_up_bias.f32()[i];
    }
    ffn_activate(model_.config, g_.data(), ones_.data(), a_.data(), n);  // act(g) alone
    Histogram& h = hist_[static_cast<size_t>(layer)];
    for (int64_t i = 0; i < n; ++i) {
      const float a = std::fabs(a_[static_cast<size_t>(i)]);
      const int k = bin_of(a);
      h.mass[static_cast<size_t>(k)] += double(a) * std::fabs(u_[static_cast<size_t>(i)]);
      ++h.count[static_cast<size_t>(k)];
    }
    dense_.ffn_forward(layer, x, out);
  }

 private:
  const Model& model_;
  DenseFfn dense_;
  std::vector<Histogram>& hist_;
  std::vector<float> g_, u_, a_, ones_;
  bool recording_ = true;
};

}  // namespace

GateCalibration gate_calibrate(const Model& model, const std::vector<int>& tokens,
                               double target_mass) {
  const ModelConfig& c = model.config;
  if (!c.ffn_gated) fail("gate calibration", "the model's FFN has no gate (use the predictors)");
  if (tokens.empty()) fail("gate calibration", "no calibration tokens");
  if (!(target_mass > 0.0 && target_mass <= 1.0)) {
    fail("gate calibration", "target mass " + std::to_string(target_mass) + " is not in (0, 1]");
  }
  std::vector<Histogram> hist(static_cast<size_t>(c.n_layers));
  const int context = c.max_seq_len > 0 ? std::min(c.max_seq_len, kMaxChunkTokens) : kMaxChunkTokens;
  const int bos = model.tokenizer.bos_id;
  const bool with_bos = bos >= 0 && bos < c.vocab_size;
  const int per_chunk = with_bos ? context - 1 : context;
  if (per_chunk < 1) fail("gate calibration", "model context too short");
  GateCapture capture(model, hist);
  for (size_t first = 0; first < tokens.size(); first += static_cast<size_t>(per_chunk)) {
    const size_t last = std::min(tokens.size(), first + static_cast<size_t>(per_chunk));
    Transformer t(model, context, &capture);
    int pos = 0;
    if (with_bos) {
      capture.set_recording(false);
      t.forward(bos, pos++);
      capture.set_recording(true);
    }
    for (size_t i = first; i < last; ++i) t.forward(tokens[i], pos++);
  }
  GateCalibration out;
  out.tokens = static_cast<int64_t>(tokens.size());
  for (int l = 0; l < c.n_layers; ++l) {
    const Histogram& h = hist[static_cast<size_t>(l)];
    double total = 0;
    int64_t pairs = 0;
    for (int k = 0; k < kBins; ++k) {
      total += h.mass[static_cast<size_t>(k)];
      pairs += h.count[static_cast<size_t>(k)];
    }
    // From the top bin down until the kept pairs carry target_mass of the total.
    double kept_mass = 0;
    int64_t kept_pairs = 0;
    int k = kBins - 1;
    for (; k >= 0; --k) {
      kept_mass += h.mass[static_cast<size_t>(k)];
      kept_pairs += h.count[static_cast<size_t>(k)];
      if (target_mass < 1.0 && kept_mass >= target_mass * total) break;
    }
    k = std::max(k, 0);
    // Bin k's pairs have |a| >= its lower edge: the threshold sits just below it (|a| > t).
    out.thresholds.push_back(k == 0 ? 0.0f : std::nextafter(static_cast<float>(bin_low(k)), 0.0f));
    out.kept.push_back(pairs > 0 ? double(kept_pairs) / double(pairs) : 0.0);
    out.mass.push_back(total > 0 ? kept_mass / total : 1.0);
  }
  return out;
}

}  // namespace flashchat
