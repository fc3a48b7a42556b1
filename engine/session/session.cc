#include "session/session.h"

#include <malloc.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <unicode/uchar.h>

#include <algorithm>

#include "core/error.h"
#include "core/process_stats.h"
#include "core/read_file.h"
#include "core/units.h"

namespace flashchat {
namespace {

int64_t predictor_bytes(const OpenedModel& m) {
  int64_t bytes = 0;
  if (m.flash) {
    for (const Predictor& p : m.flash->predictors) bytes += p.size_bytes();
  }
  return bytes;
}

// Quantised bundles' block scales (ffn_scales.bin): resident weights.
int64_t scale_bytes(const OpenedModel& m) { return m.flash ? m.flash->ffn_scale_bytes() : 0; }

size_t common_prefix(const std::vector<int>& a, const std::vector<int>& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

// A flash model's budget against the minimum its manifest implies (resident weights, predictors,
// one KV block, I/O buffers, the FFN's maps, one bundle per layer; only the tokenizer's heap and
// the transformer's scratch are left out, so this is a lower bound), so a budget that can never
// fit is refused in milliseconds instead of after reading gigabytes of resident weights. The
// exact check follows the open.
void budget_precheck(const SessionOptions& o) {
  if (o.budget_bytes <= 0 || !flash_model_is_dir(o.model_path)) return;
  const FlashModelSizes sizes = flash_model_sizes(o.model_path);
  const int context = o.context > 0 ? std::min(o.context, sizes.config.max_seq_len)
                                    : std::min(sizes.config.max_seq_len, 4096);
  const KvType kv = o.kv_f32 ? KvType::F32 : KvType::F16;
  const int64_t fixed = sizes.resident_file_bytes + sizes.ffn_scale_bytes + sizes.predictor_bytes +
                        kv_cache_bytes_for(sizes.config, kv, 1, kv_block_positions_for(context));
  const IoBufferPlan io = budget_io_plan(sizes.ffn, o.mode, o.direct_io, FlashStoreOptions());
  const int64_t lower_bound =
      budget_minimum_bytes(sizes.ffn, o.mode, o.window, fixed, io.total());
  if (o.budget_bytes < lower_bound) {
    fail("budget", size_format_bytes(o.budget_bytes) + " is below the minimum of at least " +
                       size_format_bytes(lower_bound) + " for " + ffn_mode_name(o.mode) +
                       " mode (resident weights, predictors, KV cache and I/O buffers" +
                       (o.mode == FfnMode::Flash ? std::string(", one neuron per layer)")
                                                 : std::string(")")));
  }
}

// Brings up the runtime every model uses before the process's fixed overhead is measured: TBB's
// worker threads (stacks, task arenas) and ICU's character property tables (the tokenizers'
// pre-tokenizer classes). What they hold does not depend on the model or the budget.
void runtime_warm_up() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::atomic<int64_t> sink{0};
    tbb::parallel_for(0, 4096, [&](int i) { sink += i; });
    for (UChar32 c = 0; c < 0x30000; c += 61) sink += u_charType(c) + u_isUWhiteSpace(c);
  });
}

std::mutex g_threads_mutex;
std::unique_ptr<tbb::global_control> g_threads;

}  // namespace

void session_set_threads(int n) {
  std::lock_guard<std::mutex> lock(g_threads_mutex);
  g_threads.reset();
  if (n > 0) {
    g_threads = std::make_unique<tbb::global_control>(
        tbb::global_control::max_allowed_parallelism, static_cast<size_t>(n));
  }
}

int64_t session_minimum_budget_bytes(const OpenedModel& m, FfnMode mode, int context,
                                     int kv_positions, int window, bool direct_io,
                                     KvType kv_type) {
  const Model& model = m.model();
  const int session_context = context > 0 ? std::min(context, model.config.max_seq_len)
                                          : std::min(model.config.max_seq_len, 4096);
  const int positions = std::clamp(kv_positions, 1, session_context);
  // The transformer's scratch and KV blocks depend on its context; building one allocates no KV.
  Transformer probe(model, session_context, nullptr, kv_type);
  probe.reserve_batch(std::min(kPromptBlockTokens, session_context));  // as the Generator does
  const int64_t fixed = model.bytes().total() + scale_bytes(m) + predictor_bytes(m) +
                        m.heap_bytes +
                        probe.scratch_bytes() + probe.kv_cache_bytes_for(positions);
  if (!m.flash) return fixed;
  const IoBufferPlan io = budget_io_plan(m.flash->ffn, mode, direct_io, FlashStoreOptions());
  return budget_minimum_bytes(m.flash->ffn, mode, window, fixed, io.total());
}

Session::Session(const SessionOptions& options) : options_(options) {
  if (options_.window < 1) fail("window", "must be at least 1");
  runtime_warm_up();
  base_rss_bytes_ = process_rss_bytes();  // binary, libraries, runtime: outside the budget
  budget_precheck(options_);  // before gigabytes of resident weights are read
  opened_ = model_open(options_.model_path, /*verify_checksums=*/false);
  // The tokenizer's heap (vocabulary, maps) is runtime state: "other".
  model_heap_bytes_ = opened_.heap_bytes;
  info_ = model_info_of(opened_);
  // Fixed for the session's life; fixed_dram() runs twice per token, so not re-summed there.
  resident_bytes_ = model().bytes().total() + scale_bytes(opened_);
  predictor_bytes_ = predictor_bytes(opened_);
  if (!opened_.is_flash()) options_.mode = FfnMode::Dram;
  chat_template_ = chat_template_detect(model().chat_template);
  if (!options_.chat_format.empty()) {
    auto f = chat_format_from_name(options_.chat_format);
    if (!f) fail("chat format", "unknown chat format '" + options_.chat_format + "'");
    if (*f != chat_template_.format) chat_template_ = ChatTemplate{*f, {}, {}};
  }
  settings_ = {options_.mode, options_.window, options_.budget_bytes};

  const int context = options_.context > 0 ? options_.context
                                           : std::min(model().config.max_seq_len, 4096);
  // The budget is checked before the KV cache and the FFN are built.
  const int64_t minimum = minimum_budget_bytes(settings_.mode);
  if (opened_.is_flash()) {
    budget_check(settings_.budget_bytes, minimum, settings_.mode);
  } else if (settings_.budget_bytes > 0 && settings_.budget_bytes < minimum) {
    fail("budget", size_format_bytes(settings_.budget_bytes) + " is below the " +
                       size_format_bytes(minimum) + " this model needs in DRAM (convert it "
                       "to a flash model to run it in less)");
  }
  // Checksums after the budget check, without the page cache; unchanged files verified before
  // are skipped (the stamp), unless verify_force.
  if (opened_.is_flash() && options_.verify_checksums) {
    FlashVerifyOptions vo;
    vo.force = options_.verify_force;
    flash_model_verify(*opened_.flash, vo);
  }
  // Parsing the manifest and the vocabulary left megabytes of freed heap that glibc keeps
  // mapped; give it back so the process holds what the budget counts.
  malloc_trim(0);
  generator_ = std::make_unique<Generator>(model(), tokenizer(), context,
                                           options_.kv_f32 ? KvType::F32 : KvType::F16);
  context_size_ = generator_->context_size();
  if (opened_.is_flash()) {
    ffn_ = make_ffn(settings_);
    generator_->transformer().set_ffn_backend(ffn_.get());
  }
  fixed_total_ = fixed_dram().total();
  // Again with what the FFN really holds, so the minimum reported from now on is the one that
  // was enforced (a budget at it runs; one byte less is refused here).
  if (ffn_) budget_check(settings_.budget_bytes, minimum_budget_bytes(settings_.mode), settings_.mode);
  hooks_.before_forward = [this](int n_tokens) {
    block_tokens_ = n_tokens;
    apply_pending();
  };
  hooks_.after_forward = [this](int token, int pos, bool prompt, double f_ms, double s_ms,
                                int n_tokens) {
    block_tokens_ = 1;
    on_forward(token, pos, prompt, f_ms, s_ms, n_tokens);
  };
  hooks_.should_stop = [this] { return stop_requested_.load(); };
  generator_->set_hooks(&hooks_);
}

Session::~Session() = default;

// Everything the engine holds besides the neuron cache and the I/O buffers. The KV cache is
// counted as it will be after the next forward pass (a new block is paid for before it is
// allocated; a prompt block of n tokens may add several); before the generator exists, as one block.
FixedDram Session::fixed_dram() const {
  FixedDram f;
  f.resident_weights = resident_bytes_;
  f.predictors = predictor_bytes_;
  f.other = model_heap_bytes_;  // the FFN's own state is on its side of the budget
  if (generator_) {
    const Transformer& tf = generator_->transformer();
    f.kv_cache = tf.kv_cache_bytes_for(
        std::min(tf.context_length() + block_tokens_, tf.max_context()));
    f.other += tf.scratch_bytes();
  } else {
    const int context = options_.context > 0 ? options_.context
                                             : std::min(model().config.max_seq_len, 4096);
    Transformer probe(model(), context, nullptr, options_.kv_f32 ? KvType::F32 : KvType::F16);
    probe.reserve_batch(std::min(kPromptBlockTokens, context));  // as the Generator does
    f.kv_cache = probe.kv_cache_bytes_for(1);
    f.other += probe.scratch_bytes();
  }
  return f;
}

int64_t Session::io_buffer_bytes_for(FfnMode mode) const {
  if (!opened_.is_flash()) return 0;
  return budget_io_plan(opened_.flash->ffn, mode, options_.direct_io, FlashStoreOptions()).total();
}

std::unique_ptr<FlashFfn> Session::make_ffn(const SessionSettings& s) const {
  FlashFfnOptions o;
  o.mode = s.mode;
  o.window = s.window;
  o.bundling = options_.bundling;
  o.overlap_io = options_.overlap_io;
  o.prefetch = options_.prefetch;
  o.oracle = options_.oracle;
  o.evaluate_predictor = options_.evaluate_predictor || evaluate_wanted_.load();
  o.direct_io = options_.direct_io;
  return std::make_unique<FlashFfn>(*opened_.flash, o, fixed_dram().total(), s.budget_bytes);
}

// Any thread: sizes only (fixed_total_ is the engine thread's last measurement).
int64_t Session::minimum_budget_bytes(FfnMode mode) const {
  int64_t fixed = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    fixed = fixed_total_;
  }
  if (fixed == 0) fixed = fixed_dram().total();  // during construction
  if (!opened_.is_flash()) return fixed;
  int window = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    window = pending_window_.value_or(settings_.window);
  }
  return budget_minimum_bytes(opened_.flash->ffn, mode, window, fixed, io_buffer_bytes_for(mode));
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
    mode = pending_mode_.value_or(settings_.mode);
  }
  if (!opened_.is_flash() && bytes > 0 && bytes < minimum_budget_bytes(mode)) {
    fail("budget", size_format_bytes(bytes) + " is below the " +
                       size_format_bytes(minimum_budget_bytes(mode)) + " this model needs");
  }
  budget_check(bytes, minimum_budget_bytes(mode), mode);
  std::lock_guard<std::mutex> lock(mutex_);
  pending_budget_ = bytes;
}

void Session::set_mode(FfnMode mode) {
  if (!opened_.is_flash()) {
    if (mode == FfnMode::Dram) return;
    fail(options_.model_path, "only converted flash models can change mode");
  }
  int64_t budget = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    budget = pending_budget_.value_or(settings_.budget_bytes);
  }
  budget_check(budget, minimum_budget_bytes(mode), mode);
  std::lock_guard<std::mutex> lock(mutex_);
  pending_mode_ = mode;
}

SessionSettings Session::settings() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return settings_;
}

// Engine thread, before every forward pass: the pending change as one transaction.
void Session::apply_pending() {
  SessionSettings before, after;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    before = settings_;
    after = before;
    if (pending_window_) after.window = *pending_window_;
    if (pending_budget_) after.budget_bytes = *pending_budget_;
    if (pending_mode_) after.mode = *pending_mode_;
    pending_window_.reset();
    pending_budget_.reset();
    pending_mode_.reset();
  }
  std::string error;
  const int64_t fixed = fixed_dram().total();
  if (ffn_ && !(after == before)) {
    try {
      if (after.mode != before.mode) {
        budget_check(after.budget_bytes,
                     budget_minimum_bytes(opened_.flash->ffn, after.mode, after.window, fixed,
                                          io_buffer_bytes_for(after.mode)),
                     after.mode);
        // Release the old FFN (its cache) before the new one allocates.
        generator_->transformer().set_ffn_backend(nullptr);
        ffn_.reset();
        try {
          ffn_ = make_ffn(after);
        } catch (...) {
          ffn_ = make_ffn(before);  // what ran a token ago fits again
          generator_->transformer().set_ffn_backend(ffn_.get());
          throw;
        }
        generator_->transformer().set_ffn_backend(ffn_.get());
      } else {
        const int64_t minimum = budget_minimum_bytes(opened_.flash->ffn, after.mode,
                                                     after.window, fixed,
                                                     ffn_->io_buffer_bytes());
        budget_check(after.budget_bytes, minimum, after.mode);
        ffn_->set_fixed_bytes(fixed);
        ffn_->set_window_and_budget(after.window, after.budget_bytes);
      }
    } catch (const Error& e) {
      error = e.what();
      after = before;
    }
  }
  if (!ffn_ && !(after == before)) {
    // Dense models hold everything in DRAM: only the budget is kept (for the telemetry).
    after.mode = FfnMode::Dram;
    after.window = before.window;
    if (after.budget_bytes > 0 && after.budget_bytes < fixed) {
      error = "budget: " + size_format_bytes(after.budget_bytes) + " is below the " +
              size_format_bytes(fixed) + " this model needs";
      after = before;
    }
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    settings_ = after;
  }
  if ((!(after == before) || !error.empty()) && callbacks_ && callbacks_->on_settings) {
    SettingsChange change;
    change.token_index = token_index_;
    change.before = before;
    change.after = after;  // == before when rejected
    change.error = error;
    callbacks_->on_settings(change);
  }
  if (ffn_) {
    // The KV cache may have grown: the neuron cache yields rows to it. When even one row per
    // layer no longer fits, the conversation has outgrown the budget.
    try {
      ffn_->set_fixed_bytes(fixed);
    } catch (const Error& e) {
      fail("budget", "the conversation's KV cache no longer fits the budget of " +
                         size_format_bytes(after.budget_bytes) + " (at " +
                         std::to_string(generator_->context_used()) +
                         " positions: " + e.what() + "); raise the budget or start a new chat");
    }
    ffn_->set_record_active(callbacks_ != nullptr && callbacks_->on_active_sets != nullptr);
    const bool evaluate = options_.evaluate_predictor || evaluate_wanted_.load();
    if (ffn_->options().evaluate_predictor != evaluate) {
      ffn_->set_evaluate_predictor(evaluate);
    }
    ffn_->begin_token();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  fixed_total_ = fixed;
}

ActiveTraceHeader Session::trace_header() const {
  if (!ffn_ || ffn_->options().mode != FfnMode::Flash) {
    fail(options_.model_path, "a trace needs the model running in flash mode");
  }
  ActiveTraceHeader h;
  h.model = options_.model_path;
  h.layout = opened_.flash->ffn;
  h.oracle = ffn_->options().oracle;
  h.bundling = ffn_->options().bundling;
  h.direct_io = ffn_->direct_io_in_force();
  h.request_bytes = ffn_->io_plan().store.request_bytes;
  h.io_buffer_rows = ffn_->io_plan().buffer_rows;
  h.io_plan_bytes = ffn_->io_plan().total();
  h.open_fixed_bytes = ffn_->open_fixed_bytes();
  h.fresh = ffn_->planner() != nullptr && ffn_->planner()->token_now() < 0;
  h.prefetch = ffn_->prefetch_wanted();
  return h;
}

void Session::on_forward(int /*token*/, int pos, bool prompt, double forward_ms,
                         double sampling_ms, int n_tokens) {
  TokenTelemetry t;
  t.index = token_index_++;
  t.pos = pos;
  t.prompt = prompt;
  t.block_tokens = n_tokens;
  const SessionSettings s = settings();
  t.mode = ffn_mode_name(s.mode);
  if (ffn_) ffn_->fill_telemetry(t);  // mode, window and budget as the FFN runs them
  t.sampling_ms = sampling_ms;
  t.total_ms = forward_ms + sampling_ms;
  t.compute_ms = std::max(0.0, forward_ms - t.predictor_ms - t.io_ms - t.memory_ms);
  if (!ffn_) {
    t.budget_bytes = s.budget_bytes;  // flash models: the FFN reports what it runs with
    t.window_requested = s.window;
  }
  const FixedDram f = fixed_dram();
  t.dram.resident_weights = f.resident_weights;
  t.dram.predictors = f.predictors;
  t.dram.kv_cache = generator_->transformer().kv_cache_bytes();  // held now
  t.dram.other = f.other + (ffn_ ? ffn_->state_bytes() + ffn_->batch_state_bytes() : 0);
  t.process_rss_bytes = process_rss_bytes();
  t.process_base_rss_bytes = base_rss_bytes_;
  context_used_ = generator_->context_used();
  if (prompt) {
    prompt_done_ += n_tokens;
    if (callbacks_ && callbacks_->on_prompt_progress) {
      callbacks_->on_prompt_progress(prompt_done_, prompt_total_);
    }
  }
  if (callbacks_ && callbacks_->on_telemetry) callbacks_->on_telemetry(t);
  if (callbacks_ && callbacks_->on_active_sets && ffn_ && !ffn_->recorded_active().empty()) {
    ActiveTraceToken a;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      a.fixed_bytes = fixed_total_;
    }
    a.window = ffn_->options().window;
    a.budget_bytes = ffn_->budget_bytes();
    a.prompt = prompt;
    a.block = ffn_->recorded_block();
    a.active = ffn_->recorded_active();
    a.evaluation = ffn_->recorded_evaluation();
    callbacks_->on_active_sets(a);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  last_telemetry_ = std::move(t);
}

GenerateResult Session::generate(const std::vector<int>& prompt, const GenerateOptions& options,
                                 const GenerateCallbacks& callbacks) {
  stop_requested_ = false;
  callbacks_ = &callbacks;
  struct Clear {
    Session* s;
    ~Clear() {
      s->callbacks_ = nullptr;
      s->context_used_ = s->generator_->context_used();
    }
  } clear{this};
  check_request_fits(static_cast<int>(prompt.size()), options.max_new_tokens);
  const std::vector<int> before = generator_->context_tokens();
  prompt_total_ = static_cast<int>(prompt.size());
  prompt_done_ = 0;
  GenerateResult r = generator_->generate(prompt, options, callbacks.on_token);
  if (r.reason == StopReason::Cancelled && prompt_done_ < prompt_total_) {
    // Stopped inside the prompt: forget the part of it that was fed.
    generator_->truncate(static_cast<int>(before.size()));
    refresh_fixed();
  }
  return r;
}

// Refuses, before anything is fed, a request whose KV cache cannot fit the budget in force:
// the prompt plus up to max_new_tokens positions (as far as the context goes), with no neuron
// cached beyond one row per layer. Without it the reply would stop midway once the blocks grew.
void Session::check_request_fits(int prompt_tokens, int max_new_tokens) const {
  SessionSettings s;  // what will be in force for the first token: pending changes included
  {
    std::lock_guard<std::mutex> lock(mutex_);
    s = settings_;
    if (pending_budget_) s.budget_bytes = *pending_budget_;
    if (pending_mode_) s.mode = *pending_mode_;
  }
  if (s.budget_bytes <= 0) return;
  const int positions = std::min(generator_->transformer().max_context(),
                                 generator_->context_used() + prompt_tokens + max_new_tokens);
  const int64_t minimum = minimum_budget_bytes(s.mode, positions);
  if (s.budget_bytes < minimum) {
    fail("budget", size_format_bytes(s.budget_bytes) + " is below the minimum of " +
                       size_format_bytes(minimum) + " for this request: its KV cache holds " +
                       std::to_string(positions) + " positions (" +
                       std::to_string(generator_->context_used()) + " in the context, " +
                       std::to_string(prompt_tokens) + " of prompt, up to " +
                       std::to_string(max_new_tokens) +
                       " new tokens); raise the budget, ask for fewer tokens or start a new chat");
  }
}

// Engine thread or any thread: sizes only.
int64_t Session::minimum_budget_bytes(FfnMode mode, int kv_positions) const {
  const Transformer& tf = generator_->transformer();
  const int64_t kv_now = tf.kv_cache_bytes_for(std::min(tf.max_context(), context_used() + 1));
  const int64_t kv_then = tf.kv_cache_bytes_for(std::min(tf.max_context(), kv_positions));
  return minimum_budget_bytes(mode) + std::max<int64_t>(0, kv_then - kv_now);
}

// Makes the context `tokens` (reusing the longest common prefix already fed) and generates.
GenerateResult Session::run(const std::vector<int>& tokens, const GenerateOptions& options,
                            const GenerateCallbacks& callbacks) {
  if (tokens.empty()) fail("generate", "the prompt is empty and the model has no BOS token");
  if (static_cast<int>(tokens.size()) >= context_size_) {
    fail("context", "the conversation (" + std::to_string(tokens.size()) +
                        " tokens) does not fit the context of " + std::to_string(context_size_) +
                        " tokens; start a new chat");
  }
  const std::vector<int> held = generator_->context_tokens();
  // At least the last token is fed again: its logits start the reply.
  const size_t keep = std::min(common_prefix(held, tokens), tokens.size() - 1);
  generator_->truncate(static_cast<int>(keep));
  context_used_ = generator_->context_used();
  refresh_fixed();
  GenerateOptions o = options;
  const int bos = tokenizer().bos_id();
  if (bos >= 0 && std::find(o.stop_token_ids.begin(), o.stop_token_ids.end(), bos) ==
                      o.stop_token_ids.end()) {
    o.stop_token_ids.push_back(bos);  // a BOS mid-generation starts a new document
  }
  return generate(std::vector<int>(tokens.begin() + static_cast<std::ptrdiff_t>(keep), tokens.end()),
                  o, callbacks);
}

std::vector<int> Session::text_tokens(const std::string& text) const {
  return tokenizer().encode_prompt(text, false);
}

std::vector<int> Session::chat_tokens(const std::vector<ChatMessage>& messages) const {
  return tokenizer().encode_prompt(chat_template_apply(chat_template_, messages), true);
}

GenerateResult Session::chat(const std::vector<ChatMessage>& messages,
                             const GenerateOptions& options, const GenerateCallbacks& callbacks) {
  if (messages.empty() || messages.back().role != "user") {
    fail("chat", "the conversation must end with a user message");
  }
  GenerateOptions o = options;
  for (const std::string& s : chat_format_stop_strings(chat_template_.format)) {
    if (std::find(o.stop_strings.begin(), o.stop_strings.end(), s) == o.stop_strings.end()) {
      o.stop_strings.push_back(s);
    }
  }
  return run(chat_tokens(messages), o, callbacks);
}

GenerateResult Session::complete(const std::string& text, const GenerateOptions& options,
                                 const GenerateCallbacks& callbacks) {
  return run(text_tokens(text), options, callbacks);
}

TokenTelemetry Session::last_telemetry() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_telemetry_;
}

void Session::reset_context() {
  generator_->reset();
  context_used_ = 0;
  refresh_fixed();
}

// The fixed DRAM after the context changed outside a forward pass (reset, truncation), so that
// minimum_budget_bytes() answers for the KV cache as it is now.
void Session::refresh_fixed() {
  const int64_t fixed = fixed_dram().total();
  std::lock_guard<std::mutex> lock(mutex_);
  fixed_total_ = fixed;
}

}  // namespace flashchat
