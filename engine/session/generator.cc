#include "session/generator.h"

#include <algorithm>
#include <chrono>
#include <string>

#include "core/error.h"

namespace flashchat {

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Length of the longest suffix of `text` that is a proper prefix of one of `stops`: those bytes
// must be held back because the next token may complete a stop string.
size_t stop_prefix_suffix(const std::string& text, const std::vector<std::string>& stops) {
  size_t keep = 0;
  for (const std::string& s : stops) {
    for (size_t k = std::min(s.size() - 1, text.size()); k > keep; --k) {
      if (text.compare(text.size() - k, k, s, 0, k) == 0) {
        keep = k;
        break;
      }
    }
  }
  return keep;
}

}  // namespace

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::MaxTokens: return "max_tokens";
    case StopReason::EndOfText: return "end_of_text";
    case StopReason::StopString: return "stop_string";
    case StopReason::ContextFull: return "context_full";
    case StopReason::Cancelled: return "cancelled";
  }
  return "?";
}

Generator::Generator(const Model& model, const Tokenizer& tokenizer, int max_context,
                     KvType kv_type)
    : model_(model),
      tokenizer_(tokenizer),
      transformer_(model, max_context > 0 ? max_context : model.config.max_seq_len, nullptr,
                   kv_type) {
  transformer_.reserve_batch(std::min(kPromptBlockTokens, transformer_.max_context()));
}

void Generator::reset() {
  history_.clear();
  unfed_.clear();
  transformer_.reset();
}

void Generator::truncate(int positions) {
  if (positions < 0 || positions > context_used()) {
    fail("generate", "truncate: " + std::to_string(positions) + " positions requested, the "
                     "context holds " + std::to_string(context_used()));
  }
  const int fed = static_cast<int>(history_.size());
  if (positions <= fed) {
    history_.resize(static_cast<size_t>(positions));
    unfed_.clear();
    transformer_.truncate(std::min(positions, transformer_.context_length()));
  } else {
    unfed_.resize(static_cast<size_t>(positions - fed));
  }
}

std::vector<int> Generator::context_tokens() const {
  std::vector<int> tokens = history_;
  tokens.insert(tokens.end(), unfed_.begin(), unfed_.end());
  return tokens;
}

const float* Generator::feed(const int* tokens, int n, bool prompt, double sampling_ms) {
  if (hooks_.before_forward) hooks_.before_forward(n);
  const int pos0 = static_cast<int>(history_.size());
  auto t0 = std::chrono::steady_clock::now();
  const float* logits = n == 1 ? transformer_.forward(tokens[0], pos0)
                               : transformer_.forward_batch(tokens, n, pos0);
  last_forward_ms_ = ms_since(t0);
  history_.insert(history_.end(), tokens, tokens + n);
  if (hooks_.after_forward) {
    hooks_.after_forward(tokens[n - 1], pos0 + n - 1, prompt, last_forward_ms_, sampling_ms, n);
  }
  return logits;
}

GenerateResult Generator::generate(const std::vector<int>& user_prompt,
                                   const GenerateOptions& options,
                                   const std::function<bool(const TokenEvent&)>& on_token) {
  GenerateResult result;
  if (user_prompt.empty()) fail("generate", "empty prompt (start from at least a BOS token)");
  // The last token of the previous reply, if it was never fed, goes first.
  std::vector<int> prompt = unfed_;
  prompt.insert(prompt.end(), user_prompt.begin(), user_prompt.end());
  result.prompt_tokens = static_cast<int>(user_prompt.size());
  const int context = transformer_.max_context();
  const int free_positions = context - static_cast<int>(history_.size());
  if (static_cast<int>(prompt.size()) > free_positions) {
    fail("generate", "prompt of " + std::to_string(prompt.size()) + " tokens does not fit: " +
                         std::to_string(free_positions) + " of " + std::to_string(context) +
                         " context positions are free");
  }
  const int n_vocab = model_.config.vocab_size;
  for (int id : prompt) {
    if (id < 0 || id >= n_vocab) {
      fail("generate", "token id " + std::to_string(id) + " is outside the vocabulary");
    }
  }

  unfed_.clear();

  // Prompt: every token goes through the model, a block at a time; the last one's logits start
  // generation.
  auto t_prompt = std::chrono::steady_clock::now();
  const float* logits = nullptr;
  const int n_prompt = static_cast<int>(prompt.size());
  for (int done = 0; done < n_prompt; done += kPromptBlockTokens) {
    if (hooks_.should_stop && hooks_.should_stop()) {
      result.reason = StopReason::Cancelled;
      result.prompt_ms = ms_since(t_prompt);
      return result;
    }
    logits = feed(prompt.data() + done, std::min(kPromptBlockTokens, n_prompt - done), true, 0.0);
  }
  result.prompt_ms = ms_since(t_prompt);

  Sampler sampler(options.sampling);
  std::vector<float> scratch(static_cast<size_t>(n_vocab));
  Utf8Streamer utf8;
  std::string held;  // decoded text not yet released (could start a stop string)
  int prev = history_.back();
  auto t_generate = std::chrono::steady_clock::now();
  result.reason = StopReason::MaxTokens;

  for (int i = 0; i < options.max_new_tokens; ++i) {
    auto t_token = std::chrono::steady_clock::now();
    std::copy(logits, logits + n_vocab, scratch.begin());
    const int id = sampler.sample(scratch.data(), n_vocab, history_);
    const double sampling_ms = ms_since(t_token);
    const bool is_stop_token =
        id == tokenizer_.eos_id() ||
        std::find(options.stop_token_ids.begin(), options.stop_token_ids.end(), id) !=
            options.stop_token_ids.end();
    if (is_stop_token) {
      result.reason = StopReason::EndOfText;
      break;
    }
    result.tokens.push_back(id);
    held += utf8.push(tokenizer_.token_bytes(prev, id));
    prev = id;

    TokenEvent event;
    event.token = id;
    event.pos = static_cast<int>(history_.size());
    bool stop_string_hit = false;
    for (const std::string& s : options.stop_strings) {
      size_t at = held.find(s);
      if (!s.empty() && at != std::string::npos) {
        held.resize(at);
        stop_string_hit = true;
      }
    }
    size_t keep = stop_string_hit ? 0 : stop_prefix_suffix(held, options.stop_strings);
    event.text = held.substr(0, held.size() - keep);
    held.erase(0, held.size() - keep);
    result.text += event.text;
    event.token_ms = sampling_ms + last_forward_ms_;

    // The text goes out before the next forward pass, so a stop request is honoured at once.
    const bool go_on =
        (!on_token || on_token(event)) && !(hooks_.should_stop && hooks_.should_stop());
    if (stop_string_hit) {
      result.reason = StopReason::StopString;
      break;
    }
    if (!go_on || i + 1 == options.max_new_tokens) {
      // Not fed yet: it enters the KV cache at the start of the next generate() call.
      unfed_.push_back(id);
      result.reason = go_on ? StopReason::MaxTokens : StopReason::Cancelled;
      break;
    }
    if (context_used() >= context) {
      result.reason = StopReason::ContextFull;
      break;
    }
    logits = feed(&id, 1, false, sampling_ms);
  }

  if (result.reason != StopReason::StopString) {
    std::string rest = held + utf8.flush();
    if (!rest.empty()) {
      result.text += rest;
      if (on_token) {
        TokenEvent tail;
        tail.text = rest;
        tail.pos = context_used();
        on_token(tail);
      }
    }
  }
  result.generate_ms = ms_since(t_generate);
  return result;
}

}  // namespace flashchat
