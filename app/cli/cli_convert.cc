#include "cli/cli_convert.h"

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "core/units.h"
#include "convert/flash_convert.h"

using namespace flashchat;

namespace {

std::atomic<bool> g_cancel{false};

extern "C" void convert_on_sigint(int) {
  g_cancel.store(true);
}

// Installs the cancelling handler for SIGINT (Ctrl-C) and SIGTERM for the lifetime of the
// object, then restores the previous handlers.
struct SigintGuard {
  struct sigaction previous_int {
  }, previous_term{};
  SigintGuard() {
    g_cancel.store(false);
    struct sigaction sa {};
    sa.sa_handler = convert_on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &previous_int);
    sigaction(SIGTERM, &sa, &previous_term);
  }
  ~SigintGuard() {
    sigaction(SIGINT, &previous_int, nullptr);
    sigaction(SIGTERM, &previous_term, nullptr);
  }
};

std::string duration_format(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof(text), "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(text, sizeof(text), "%ld:%02ld", s / 60, s % 60);
  }
  return text;
}

// One-line progress bar on stderr: "[#########...........]  45% ffn  ETA 0:12".
class ProgressBar {
 public:
  ProgressBar() : tty_(::isatty(STDERR_FILENO) == 1), start_(std::chrono::steady_clock::now()) {}

  void update(double fraction, const std::string& stage) {
    const auto now = std::chrono::steady_clock::now();
    // On a terminal redraw at most 10x a second; into a log only every 5% or on a new stage.
    if (stage == stage_ && fraction < 1.0) {
      if (tty_ && std::chrono::duration<double>(now - last_draw_).count() < 0.1) return;
      if (!tty_ && fraction < last_fraction_ + 0.05) return;
    }
    last_fraction_ = fraction;
    last_draw_ = now;
    stage_ = stage;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(fraction * kWidth + 0.5);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(kWidth - filled), '.');
    std::string eta = "--:--";
    if (fraction >= 1.0) {
      eta = duration_format(elapsed);
    } else if (fraction > 0.02 && elapsed > 1.0) {
      eta = duration_format(elapsed * (1.0 - fraction) / fraction);
    }
    std::string stage_text = stage.substr(0, 36);
    // On a terminal the line is redrawn in place (\r, then clear to the end of the line).
    std::fprintf(stderr, "%s[%s] %3d%% %-36s %s %s%s", tty_ ? "\r" : "", bar.c_str(),
                 static_cast<int>(fraction * 100.0), stage_text.c_str(),
                 fraction >= 1.0 ? "took" : "ETA", eta.c_str(), tty_ ? "\x1b[K" : "\n");
    std::fflush(stderr);
    drawn_ = true;
  }

  // Ends the progress line (before other output).
  void finish() {
    if (drawn_ && tty_) std::fputc('\n', stderr);
    drawn_ = false;
  }

 private:
  bool tty_;
  bool drawn_ = false;
  std::string stage_;
  double last_fraction_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_{};
};

void report_print(const CliConvertArgs& a, const ConvertReport& r) {
  const FlashLayout& L = r.ffn;
  std::printf("converted %s -> %s in %.1f s\n", a.input.c_str(), a.output.c_str(), r.seconds);
  std::printf("ffn.bin:           %s (%s, %d layers x %d neurons, %lld-byte %s bundles)\n",
              size_format_bytes(static_cast<int64_t>(L.size_bytes)).c_str(), dtype_name(L.dtype),
              L.n_layers, L.neurons, static_cast<long long>(L.bundle_bytes),
              L.gate_in_bundle() ? "gate|up|down" : "up|down");
  if (r.scale_bytes > 0) {
    std::printf("ffn_scales.bin:    %s (the bundles' block scales, resident)\n",
                size_format_bytes(static_cast<int64_t>(r.scale_bytes)).c_str());
  }
  std::printf("dram.safetensors:  %s%s\n",
              size_format_bytes(static_cast<int64_t>(r.dram_bytes)).c_str(),
              L.gate_resident ? " (with the gate matrices)" : "");
  if (L.gate_resident) {
    std::printf("sparsity:          gate, thresholds keep %.4g of |act(gate) * up| on %lld "
                "calibration tokens\n",
                a.gate_mass, static_cast<long long>(r.gate.tokens));
    std::printf("layer  threshold  neurons kept  mass kept\n");
    for (size_t i = 0; i < r.gate.thresholds.size(); ++i) {
      std::printf("%5zu  %9.3g  %11.2f%%  %8.2f%%\n", i, r.gate.thresholds[i],
                  100.0 * r.gate.kept[i], 100.0 * r.gate.mass[i]);
    }
    return;
  }
  if (r.metrics.empty()) {
    std::printf("predictors:        none (--no-predictors)\n");
    return;
  }
  std::printf("predictors:        %s, %d calibration tokens (model run %.1f s, training %.1f s)\n",
              size_format_bytes(static_cast<int64_t>(r.predictor_bytes)).c_str(), r.calib_tokens,
              r.collect_seconds, r.train_seconds);
  std::printf("\nheld-out metrics on %lld tokens (the threshold was chosen on other held-out tokens):\n",
              static_cast<long long>(r.metric_tokens));
  std::printf("layer  rank  recall  precision  predicted active  truly active  predicted/true\n");
  double recall = 0, precision = 0, predicted = 0, truth = 0;
  for (size_t i = 0; i < r.metrics.size(); ++i) {
    const PredictorMetrics& m = r.metrics[i];
    std::printf("%5zu  %4d  %6.3f  %9.3f  %15.2f%%  %11.2f%%  %13.2fx\n", i, r.ranks[i], m.recall,
                m.precision, 100.0 * m.predicted_active, 100.0 * m.true_active,
                m.true_active > 0 ? m.predicted_active / m.true_active : 0.0);
    recall += m.recall;
    precision += m.precision;
    predicted += m.predicted_active;
    truth += m.true_active;
  }
  const double n = static_cast<double>(r.metrics.size());
  std::printf("  all        %6.3f  %9.3f  %15.2f%%  %11.2f%%  %13.2fx\n", recall / n, precision / n,
              100.0 * predicted / n, 100.0 * truth / n, truth > 0 ? predicted / truth : 0.0);
}

}  // namespace

void cli_convert_register(CLI::App& app, CliConvertArgs& args, CLI::App** sub) {
  CLI::App* c = app.add_subcommand(
      "convert", "Convert a GGUF file or Hugging Face directory into a flash model directory");
  c->add_option("input", args.input, "GGUF file or Hugging Face directory")->required()->type_name("PATH");
  c->add_option("-o,--output", args.output,
                "Flash model directory to create (must not exist or be empty)")
      ->required()
      ->type_name("DIR");
  c->add_option("--calib", args.calib,
                "Calibration text for the predictors (default: the bundled corpus, "
                "share/flashchat/calib/default.txt)")
      ->type_name("FILE");
  c->add_option("--rank", args.rank, "Predictor rank (capped by the model's width)")
      ->check(CLI::PositiveNumber);
  c->add_option("--rank-last", args.rank_last,
                "Predictor rank of the last layers (-1: 4 x --rank, 0: --rank)")
      ->check(CLI::Range(-1, 1 << 20));
  c->add_option("--last-layers", args.last_layers,
                "How many layers get --rank-last (-1: a quarter of them, rounded up)")
      ->check(CLI::Range(-1, 1 << 20));
  c->add_option("--ranks", args.ranks,
                "Rank of every layer, comma-separated (overrides --rank, --rank-last, "
                "--last-layers)")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  c->add_option("--steps", args.steps, "Adam steps per predictor")->check(CLI::PositiveNumber);
  c->add_option("--batch", args.batch_rows, "Calibration tokens per Adam step")
      ->check(CLI::PositiveNumber);
  c->add_option("--recall", args.recall,
                "Target recall of each layer's threshold on held-out tokens (0: no threshold)")
      ->check(CLI::Range(0.0, 1.0));
  c->add_option("--pos-weight-max", args.pos_weight_max,
                "Cap of the active class's loss weight (1: plain cross-entropy)")
      ->check(CLI::Range(1.0, 1e6));
  c->add_option("--tokens", args.tokens, "Calibration tokens")->check(CLI::PositiveNumber);
  c->add_flag("--no-predictors", args.no_predictors, "Do not train predictors");
  c->add_option("--weights", args.weights,
                "Type of the FFN bundles and resident matrices: f32, f16, bf16, q8_0, q4_0 "
                "(default: the FFN's own type when plain, else f16)")
      ->check(CLI::IsMember({"f32", "f16", "bf16", "q8_0", "q4_0"}));
  c->add_option("--sparsity", args.sparsity,
                "How active neurons are chosen: predictor (low-rank predictors, the default) or "
                "gate (gated FFNs: the gate stays resident and picks the neurons exactly)")
      ->check(CLI::IsMember({"predictor", "gate"}));
  c->add_option("--gate-mass", args.gate_mass,
                "With --sparsity gate: share of the calibration |act(gate) * up| mass the kept "
                "neurons carry, per layer (1: every neuron with a non-zero gate)")
      ->check(CLI::Range(1e-6, 1.0));
  *sub = c;
}

int cli_convert_run(const CliConvertArgs& a) {
  ConvertOptions o;
  o.train_predictors = !a.no_predictors;
  o.calib_tokens = a.tokens;
  o.calib_path = a.calib;  // empty: the shipped default (flash_default_calib_path)
  o.predictor.rank = a.rank;
  o.predictor.rank_last_layers = a.rank_last;
  if (!a.weights.empty()) {
    std::string upper = a.weights;
    for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    DType t;
    if (!dtype_from_name(upper, &t)) fail("--weights", "unknown type '" + a.weights + "'");
    o.weights = t;
  }
  o.gate_sparsity = a.sparsity == "gate";
  o.gate_mass = a.gate_mass;
  o.predictor.n_last_layers = a.last_layers;
  o.predictor.layer_ranks = a.ranks;
  o.predictor.steps = a.steps;
  o.predictor.batch_rows = a.batch_rows;
  o.predictor.target_recall = a.recall;
  o.predictor.positive_weight_max = a.pos_weight_max;
  ProgressBar bar;
  o.progress = [&bar](double fraction, const std::string& stage) {
    if (g_cancel.load()) return false;
    bar.update(fraction, stage);
    return true;
  };
  SigintGuard sigint;
  ConvertReport report;
  try {
    report = flash_convert(a.input, a.output, o);
  } catch (const Error&) {
    bar.finish();
    if (g_cancel.load()) {
      std::fprintf(stderr, "conversion cancelled; %s was not created\n", a.output.c_str());
      return 130;
    }
    throw;
  }
  bar.finish();
  report_print(a, report);
  return 0;
}
