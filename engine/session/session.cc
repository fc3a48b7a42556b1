#include "session/session.h"

#include <algorithm>

#include "core/error.h"
#include "core/process_stats.h"
#include "core/units.h"

namespace flashchat {

Session::Session(const SessionOptions& options) : options_(options) {
  if (flash_model_is_dir(options_.model_path)) {
    flash_ = flash_model_open(options_.model_path, options_.verify_checksums);
    model_ = flash_->model.get();
  } else {
    dense_model_ = model_load(options_.model_path);
    model_ = dense_model_.get();
    options_.mode = FfnMode::Dram;
  }
  tokenizer_ = std::make_unique<Tokenizer>(model_->tokenizer);
  const int context = options_.context > 0 ? options_.context
                                           : std::min(model_->config.max_seq_len, 4096);
  // The generator's Transformer gets the FFN backend below; for dense models it keeps its own.
  generator_ = std::make_unique<Generator>(*model_, *tokenizer_, context);
  if (flash_) {
    const int64_t minimum = minimum_budget_bytes(options_.mode);
    if (options_.budget_bytes > 0 && options_.budget_bytes < minimum) {
      fail("budget", size_format_bytes(options_.budget_bytes) + " is below the minimum of " +
                         size_format_bytes(minimum) + " for " + ffn_mode_name(options_.mode) +
                         " mode (resident weights, predictors, KV cache and I/O buffers" +
                         (options_.mode == FfnMode::Flash ? ", one neuron per layer)" : ")"));
    }
    ffn_ = make_ffn(options_.mode, options_.budget_bytes);
    generator_->transformer().set_ffn_backend(ffn_.get());
  } else if (options_.budget_bytes > 0 && options_.budget_bytes < fixed_bytes()) {
    fail("budget", size_format_bytes(options_.budget_bytes) + " is below the " +
                       size_format_bytes(fixed_bytes()) + " this model needs in DRAM (convert "
                       "it to a flash model to run it in less)");
  }
  hooks_.before_forward = [this] { apply_pending(); };
  hooks_.after_forward = [this](int token, int pos, bool prompt, double f_ms, double s_ms) {
    on_forward(token, pos, prompt, f_ms, s_ms);
  };
  hooks_.should_stop = [this] { return stop_requested_.load(); };
  generator_->set_hooks(&hooks_);
}

Session::~Session() = default;

// Resident weights + predictors + KV cache: what every mode holds besides the FFN.
int64_t Session::fixed_bytes() const {
  // The KV cache the whole context will hold (blocks are allocated as it fills).
  const Transformer& tf = generator_->transformer();
  int64_t bytes = model_->bytes().total() + tf.kv_cache_bytes_for(tf.max_context());
  if (flash_) {
    for (const Predictor& p : flash_->predictors) bytes += p.size_bytes();
  }
  return bytes;
}

FlashFfnOptions Session::ffn_options(FfnMode mode) const {
  FlashFfnOptions o;
  o.mode = mode;
  o.window = options_.window;
  o.bundling = options_.bundling;
  o.oracle = options_.oracle;
  o.evaluate_predictor = options_.evaluate_predictor;
  o.direct_io = options_.direct_io;
  return o;
}

std::unique_ptr<FlashFfn> Session::make_ffn(FfnMode mode, int64_t budget) const {
  return std::make_unique<FlashFfn>(*flash_, ffn_options(mode), fixed_bytes(), budget);
}

// Any thread: depends only on fixed sizes, never on the FFN object the engine thread owns.
int64_t Session::minimum_budget_bytes(FfnMode mode) const {
  if (!flash_) return fixed_bytes();
  FlashFfnOptions o;  // only the I/O settings matter here; they never change after construction
  o.direct_io = options_.direct_io;
  return FlashFfn::minimum_budget_bytes_for(flash_->ffn, mode, fixed_bytes(), o);
}

void Session::set_window(int k) {
  if (k < 1) fail("window", "must be at least 1");
  std::lock_guard<std::mutex> lock(mutex_);
  pending_window_ = k;
}

void Session::set_budget(int64_t bytes) {
  FfnMode mode = FfnMode::Dram;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    mode = pending_mode_.value_or(options_.mode);
  }
  const int64_t minimum = minimum_budget_bytes(mode);
  if (bytes > 0 && bytes < minimum) {
    fail("budget", size_format_bytes(bytes) + " is below the minimum of " +
                       size_format_bytes(minimum) + " for " + ffn_mode_name(mode) + " mode");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  pending_budget_ = bytes;
}

void Session::set_mode(FfnMode mode) {
  if (!flash_) fail(options_.model_path, "only converted flash models can change mode");
  int64_t budget = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    budget = pending_budget_.value_or(options_.budget_bytes);
  }
  const int64_t minimum = minimum_budget_bytes(mode);
  if (budget > 0 && budget < minimum) {
    fail("mode", std::string(ffn_mode_name(mode)) + " mode needs a budget of at least " +
                     size_format_bytes(minimum));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  pending_mode_ = mode;
}

void Session::apply_pending() {
  std::optional<int> window;
  std::optional<int64_t> budget;
  std::optional<FfnMode> mode;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    window.swap(pending_window_);
    budget.swap(pending_budget_);
    mode.swap(pending_mode_);
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (window) options_.window = *window;
    if (budget) options_.budget_bytes = *budget;
    if (mode && ffn_) options_.mode = *mode;
  }
  if (!ffn_) return;
  if (mode && *mode != ffn_->options().mode) {
    ffn_ = make_ffn(options_.mode, options_.budget_bytes);
    generator_->transformer().set_ffn_backend(ffn_.get());
  } else {
    if (window) ffn_->set_window(*window);
    if (budget) ffn_->set_budget(*budget);
  }
  ffn_->begin_token();
}

void Session::on_forward(int /*token*/, int pos, bool prompt, double forward_ms,
                         double sampling_ms) {
  TokenTelemetry t;
  t.index = token_index_++;
  t.pos = pos;
  t.prompt = prompt;
  t.mode = ffn_mode_name(options_.mode);
  if (ffn_) ffn_->fill_telemetry(t);
  t.sampling_ms = sampling_ms;
  t.total_ms = forward_ms + sampling_ms;
  t.compute_ms = std::max(0.0, forward_ms - t.predictor_ms - t.io_ms - t.memory_ms);
  t.budget_bytes = options_.budget_bytes;
  t.dram.resident_weights = model_->bytes().total();
  t.dram.kv_cache = generator_->transformer().kv_cache_bytes();
  t.process_rss_bytes = process_rss_bytes();
  if (flash_) {
    for (const Predictor& p : flash_->predictors) t.dram.predictors += p.size_bytes();
  }
  if (on_telemetry_) on_telemetry_(t);
  std::lock_guard<std::mutex> lock(mutex_);
  last_telemetry_ = std::move(t);
}

GenerateResult Session::generate(const std::vector<int>& prompt, const GenerateOptions& options,
                                 const std::function<bool(const TokenEvent&)>& on_token,
                                 const TelemetryCallback& on_telemetry) {
  stop_requested_ = false;
  on_telemetry_ = on_telemetry;
  struct ClearCallback {
    Session* s;
    ~ClearCallback() { s->on_telemetry_ = nullptr; }
  } clear{this};
  return generator_->generate(prompt, options, on_token);
}

TokenTelemetry Session::last_telemetry() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_telemetry_;
}

void Session::reset_context() { generator_->reset(); }

}  // namespace flashchat
