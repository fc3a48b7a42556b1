// session.h - THE front door of the engine, for the GUI, the CLI, the benchmarks and the tests:
// one loaded model (any format), one conversation context, prompt and chat building, generation
// with streaming text and per-token telemetry, settings that change between tokens, and a stop
// that takes effect within one token.
//
// Threading contract:
//   - The Session is created, used for generation (generate/chat/complete), reset and destroyed
//     on one thread: the "engine thread" (a GUI's worker thread, or main in the CLI). The
//     callbacks run on that thread, inside the call.
//   - request_stop(), set_window(), set_budget(), set_mode(), settings(), minimum_budget_bytes(),
//     last_telemetry(), info() and context_used()/context_size() may be called from any thread
//     at any time, also while a generation runs.
//   - Settings asked for with set_* are applied together, between two forward passes, as one
//     change: every token's telemetry reports the settings that were in force for it, and
//     settings() never reports a value that is not in force. A change that cannot be applied at
//     that point (e.g. the budget fell below the minimum because the KV cache grew) is rejected
//     as a whole, and on_settings reports it with the reason; the old settings stay in force.
//   - Changing the FFN mode releases the old FFN's memory before the new one is built.
// No Qt in here: a GUI bridge turns the callbacks into queued signals.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "model/chat_template.h"
#include "runtime/active_trace.h"
#include "runtime/budget.h"
#include "runtime/flash_ffn.h"
#include "runtime/telemetry.h"
#include "session/generator.h"
#include "session/model_open.h"

namespace flashchat {

struct SessionOptions {
  std::string model_path;     // GGUF file, HF directory, or converted flash model directory
  FfnMode mode = FfnMode::Flash;  // flash models only; others always run dense in DRAM
  int window = 4;
  int64_t budget_bytes = 0;   // 0 = unlimited
  bool bundling = true;
  bool overlap_io = true;     // flash: read misses while cached rows are multiplied
  bool prefetch = false;      // flash: predict and read each layer's set during its attention
  bool oracle = false;
  bool evaluate_predictor = false;
  bool direct_io = true;
  int context = 0;            // 0 = min(model context, 4096)
  bool verify_checksums = true;  // CRC-check a flash model's files (after the budget check;
                                 // files verified before and unchanged since are skipped)
  bool verify_force = false;     // check every file even when the stamp says it is unchanged
  std::string chat_format;    // "" = detect from the model's template; else a chat_format name
  bool kv_f32 = false;        // KV cache in F32 (the reference arithmetic) instead of F16
};

// The settings a generation runs with; all three change between tokens.
struct SessionSettings {
  FfnMode mode = FfnMode::Flash;
  int window = 4;
  int64_t budget_bytes = 0;  // 0 = unlimited
  bool operator==(const SessionSettings&) const = default;
};

// A change applied (error empty) or rejected between two tokens.
struct SettingsChange {
  int64_t token_index = 0;   // the first token (telemetry index) that runs with `after`
  SessionSettings before, after;
  std::string error;         // non-empty: rejected, `before` stays in force
};

using TelemetryCallback = std::function<void(const TokenTelemetry&)>;

struct GenerateCallbacks {
  std::function<bool(const TokenEvent&)> on_token;       // false = stop after this token
  TelemetryCallback on_telemetry;  // every forward pass: a generated token or a prompt block
  std::function<void(int done, int total)> on_prompt_progress;  // prompt tokens processed, per
                                                                // block
  std::function<void(const SettingsChange&)> on_settings;       // applied or rejected changes
  // Flash mode: every forward pass's per-layer active sets (with the fixed DRAM, window and
  // budget in force), for a trace or the teaching view. Unset = nothing is recorded or copied.
  std::function<void(const ActiveTraceToken&)> on_active_sets;
};

class Session {
 public:
  // Opens the model and checks the budget (before anything large is allocated or checksummed).
  // Throws Error (file and problem) on bad input or a budget below the minimum.
  explicit Session(const SessionOptions& options);
  ~Session();

  // --- The model -------------------------------------------------------------------------
  const Model& model() const { return opened_.model(); }
  const Tokenizer& tokenizer() const { return *opened_.tokenizer; }
  bool is_flash_model() const { return opened_.is_flash(); }
  const FlashModel* flash_model() const { return opened_.flash.get(); }
  const SessionOptions& options() const { return options_; }  // as opened (settings: below)
  ModelInfo info() const { return info_; }
  bool has_chat_template() const { return !model().chat_template.empty(); }
  ChatFormat chat_format() const { return chat_template_.format; }
  double load_ms() const { return opened_.load_ms; }

  // --- Prompts ---------------------------------------------------------------------------
  // Plain text, BOS first when the model says so (Tokenizer::encode_prompt, the one BOS rule).
  std::vector<int> text_tokens(const std::string& text) const;
  // A conversation in the model's chat format (plain "User:/Assistant:" turns without one),
  // ending with the assistant's opening.
  std::vector<int> chat_tokens(const std::vector<ChatMessage>& messages) const;

  // --- Generation (engine thread) ---------------------------------------------------------
  // Feeds `prompt` after what the context already holds, then generates. Throws Error before
  // feeding anything when the prompt does not fit the context, or when the KV cache of the
  // prompt plus max_new_tokens would not fit the budget (the message says what would); on I/O
  // failures mid-way (the session stays usable; the failed token is not in the context). A
  // stop during the prompt leaves the context as it was.
  GenerateResult generate(const std::vector<int>& prompt, const GenerateOptions& options,
                          const GenerateCallbacks& callbacks = {});
  // The whole conversation (system first if any, then the turns; the last is a user turn):
  // formatted with chat_tokens(), the KV cache reused for the longest common prefix with what
  // was fed before (a follow-up turn processes only the new text; an edit or a regenerate
  // re-processes from the first changed token), then the assistant's reply is generated. The
  // format's end-of-turn strings and BOS are stop markers. Throws Error when the conversation
  // does not fit the context ("start a new chat").
  GenerateResult chat(const std::vector<ChatMessage>& messages, const GenerateOptions& options,
                      const GenerateCallbacks& callbacks = {});
  // A continuation of `text` (BOS + text), with the same prefix reuse.
  GenerateResult complete(const std::string& text, const GenerateOptions& options,
                          const GenerateCallbacks& callbacks = {});
  void reset_context();

  // --- Any thread -------------------------------------------------------------------------
  void request_stop() { stop_requested_ = true; }
  // Ask for a change from the next token on. Throw Error at once for values that can never
  // apply: k < 1, a budget below the minimum of the mode asked for, a mode change on a model
  // that is not a flash model.
  void set_window(int k);
  void set_budget(int64_t bytes);
  void set_mode(FfnMode mode);
  // Flash mode with predictors: from the next token on, also compute each layer's true active
  // set (dense up-projection through a mapping of ffn.bin) and fill the telemetry's
  // true_active / true_positive; with on_active_sets the sets carry an ActiveEvaluation. Off
  // (the default unless SessionOptions::evaluate_predictor): nothing extra is computed.
  void set_evaluate_predictor(bool on) { evaluate_wanted_ = on; }
  SessionSettings settings() const;  // in force
  // Smallest budget `mode` accepts now (with the KV cache as allocated now).
  int64_t minimum_budget_bytes(FfnMode mode) const;
  // ... with a KV cache holding `kv_positions` (e.g. what a request will fill: generate() refuses
  // a request whose KV cache would not fit, saying "for this request").
  int64_t minimum_budget_bytes(FfnMode mode, int kv_positions) const;
  TokenTelemetry last_telemetry() const;
  // What a trace of this session's flash runs needs to be replayed (layout, I/O in force).
  // Throws Error when the model does not run in flash mode now.
  ActiveTraceHeader trace_header() const;
  int context_used() const { return context_used_.load(); }
  int context_size() const { return context_size_; }

 private:
  void apply_pending();
  void on_forward(int token, int pos, bool prompt, double forward_ms, double sampling_ms,
                  int n_tokens);
  std::unique_ptr<FlashFfn> make_ffn(const SessionSettings& s) const;
  FixedDram fixed_dram() const;
  int64_t io_buffer_bytes_for(FfnMode mode) const;
  GenerateResult run(const std::vector<int>& context_tokens, const GenerateOptions& options,
                     const GenerateCallbacks& callbacks);
  void check_request_fits(int prompt_tokens, int max_new_tokens) const;
  void refresh_fixed();

  SessionOptions options_;
  OpenedModel opened_;
  ModelInfo info_;
  ChatTemplate chat_template_;  // detected from the model's template (or the override)
  int64_t base_rss_bytes_ = 0;    // process RSS before the model was opened
  int64_t resident_bytes_ = 0;    // model().bytes().total() + the FFN's block scales
  int64_t predictor_bytes_ = 0;   // all layers' predictors
  int64_t model_heap_bytes_ = 0;  // heap the open left besides predictors (measured)
  std::unique_ptr<Generator> generator_;
  std::unique_ptr<FlashFfn> ffn_;
  GeneratorHooks hooks_;
  const GenerateCallbacks* callbacks_ = nullptr;  // during a generation
  int prompt_total_ = 0, prompt_done_ = 0;
  int block_tokens_ = 1;  // tokens of the forward pass about to run (its KV rows are counted)
  int64_t token_index_ = 0;
  int context_size_ = 0;
  std::atomic<int> context_used_{0};
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> evaluate_wanted_{false};

  // Guards settings_, pending_, fixed_total_ and last_telemetry_ (the engine thread writes them,
  // any thread reads).
  mutable std::mutex mutex_;
  SessionSettings settings_;
  std::optional<int> pending_window_;
  std::optional<int64_t> pending_budget_;
  std::optional<FfnMode> pending_mode_;
  int64_t fixed_total_ = 0;  // FixedDram::total() as of the last token
  TokenTelemetry last_telemetry_;
};

// Worker threads of the engine's parallel loops (TBB) for the whole process: n >= 1, or 0 for
// all cores. Any thread; takes effect for loops started afterwards.
void session_set_threads(int n);

// Smallest budget `mode` accepts for `model` in a session of `context` positions (0 = the
// session default, min(model, 4096)) whose KV cache holds `kv_positions` (1 = a short chat: one
// block; `context` = full), at window `window`. Cheap: no weights or KV are allocated.
int64_t session_minimum_budget_bytes(const OpenedModel& model, FfnMode mode, int context,
                                     int kv_positions, int window = 4, bool direct_io = true,
                                     KvType kv_type = KvType::F16);

}  // namespace flashchat
