#include "session/generator.h"

#include <algorithm>
#include <chrono>

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

Generator::Generator(const Model& model, const Tokenizer& tokenizer, int max_context)
    : model_(model),
      tokenizer_(tokenizer),
      transformer_(model, max_context > 0 ? max_context : model.config.max_seq_len) {}

void Generator::reset() { history_.clear(); }

GenerateResult Generator::generate(const std::vector<int>& prompt, const GenerateOptions& options,
                                   const std::function<bool(const TokenEvent&)>& on_token) {
  GenerateResult result;
  result.prompt_tokens = static_cast<int>(prompt.size());
  const int context = transformer_.max_context();
  const int free_positions = context - context_used();
  if (prompt.empty()) fail("generate", "empty prompt (start from at least a BOS token)");
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

  // Prompt: every token goes through the model; the last one's logits start generation.
  auto t_prompt = std::chrono::steady_clock::now();
  const float* logits = nullptr;
  for (int id : prompt) {
    logits = transformer_.forward(id, context_used());
    history_.push_back(id);
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
    event.pos = context_used();
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

    // Feed the token so the next one can be sampled (and the context holds the whole reply).
    const bool context_full = context_used() >= context;
    if (!stop_string_hit && !context_full) {
      logits = transformer_.forward(id, context_used());
      history_.push_back(id);
    }
    event.token_ms = ms_since(t_token);
    const bool go_on = !on_token || on_token(event);
    if (stop_string_hit) {
      result.reason = StopReason::StopString;
      break;
    }
    if (context_full) {
      result.reason = StopReason::ContextFull;
      break;
    }
    if (!go_on) {
      result.reason = StopReason::Cancelled;
      break;
    }
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
