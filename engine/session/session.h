// session.h - the engine's front door for a GUI or the CLI: one loaded model, one conversation
// context, generation with streaming text and per-token telemetry, settings that change between
// tokens, and a stop that takes effect within one token.
//
// Threading: generate() runs on the caller's thread (the GUI's engine thread) and calls the
// callbacks there. request_stop(), set_window(), set_budget(), set_mode() and last_telemetry()
// may be called from any thread; settings are applied before the next forward pass.
// No Qt in here: the GUI bridge turns the callbacks into queued signals.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "flash/flash_model.h"
#include "model/model.h"
#include "model/tokenizer.h"
#include "runtime/flash_ffn.h"
#include "runtime/telemetry.h"
#include "session/generator.h"

namespace flashchat {

struct SessionOptions {
  std::string model_path;     // GGUF file, HF directory, or converted flash model directory
  FfnMode mode = FfnMode::Flash;  // flash models only; others always run dense in DRAM
  int window = 4;
  int64_t budget_bytes = 0;   // 0 = unlimited
  bool bundling = true;
  bool oracle = false;
  bool evaluate_predictor = false;
  bool direct_io = true;
  int context = 0;            // 0 = min(model context, 4096)
  bool verify_checksums = true;
};

using TelemetryCallback = std::function<void(const TokenTelemetry&)>;

class Session {
 public:
  // Loads the model. Throws Error (file and problem) on bad input or a budget below the minimum.
  explicit Session(const SessionOptions& options);
  ~Session();

  const Model& model() const { return *model_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  bool is_flash_model() const { return flash_ != nullptr; }
  const FlashModel* flash_model() const { return flash_.get(); }
  const SessionOptions& options() const { return options_; }

  // Generates after what the context already holds. Throws Error on I/O failures mid-way; the
  // session stays usable (the failed token is not in the context).
  GenerateResult generate(const std::vector<int>& prompt, const GenerateOptions& options,
                          const std::function<bool(const TokenEvent&)>& on_token = {},
                          const TelemetryCallback& on_telemetry = {});

  // Any thread.
  void request_stop() { stop_requested_ = true; }
  void set_window(int k);              // throws Error when k < 1
  void set_budget(int64_t bytes);      // throws Error below the current mode's minimum
  void set_mode(FfnMode mode);         // throws Error for non-flash models / too small budget
  int64_t minimum_budget_bytes(FfnMode mode) const;
  TokenTelemetry last_telemetry() const;

  void reset_context();
  int context_used() const { return generator_->context_used(); }
  int context_size() const { return generator_->context_size(); }

 private:
  void apply_pending();
  void on_forward(int token, int pos, bool prompt, double forward_ms, double sampling_ms);
  std::unique_ptr<FlashFfn> make_ffn(FfnMode mode, int64_t budget) const;
  FlashFfnOptions ffn_options(FfnMode mode) const;
  int64_t fixed_bytes() const;

  SessionOptions options_;
  std::unique_ptr<FlashModel> flash_;
  std::unique_ptr<Model> dense_model_;
  const Model* model_ = nullptr;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<Generator> generator_;
  std::unique_ptr<FlashFfn> ffn_;
  GeneratorHooks hooks_;
  TelemetryCallback on_telemetry_;
  int64_t token_index_ = 0;

  std::atomic<bool> stop_requested_{false};
  // Guards pending_*, last_telemetry_, and options_ against the engine thread's updates.
  mutable std::mutex mutex_;
  std::optional<int> pending_window_;
  std::optional<int64_t> pending_budget_;
  std::optional<FfnMode> pending_mode_;
  TokenTelemetry last_telemetry_;
};

}  // namespace flashchat
