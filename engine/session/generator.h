// generator.h - one conversation's token loop: prompt in, streamed text out.
//
// Owns the Transformer (and so the KV cache) and a Sampler. The caller supplies prompt token ids
// and receives each new token's text through a callback as soon as it forms complete UTF-8 and
// cannot be the beginning of a stop string. Returning false from the callback stops generation
// after that token (this is how Stop in a UI takes effect within one token).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/model.h"
#include "model/sampler.h"
#include "model/tokenizer.h"
#include "model/transformer.h"
#include "runtime/budget.h"  // kPromptBlockTokens

namespace flashchat {


struct GenerateOptions {
  int max_new_tokens = 256;
  SamplingParams sampling;
  std::vector<int> stop_token_ids;        // besides EOS (always a stop token)
  std::vector<std::string> stop_strings;  // the text is cut before the first occurrence
};

enum class StopReason { MaxTokens, EndOfText, StopString, ContextFull, Cancelled };
const char* stop_reason_name(StopReason r);

struct TokenEvent {
  int token = -1;
  int pos = -1;          // position of the token in the context
  std::string text;      // newly released text (may be empty while bytes are held back)
  double token_ms = 0;   // forward + sampling time of this token
};

struct GenerateResult {
  StopReason reason = StopReason::MaxTokens;
  std::string text;            // all generated text (stop string excluded)
  std::vector<int> tokens;     // generated token ids
  int prompt_tokens = 0;
  double prompt_ms = 0;        // time to process the prompt
  double generate_ms = 0;      // time for the generated tokens
  double tokens_per_second() const {
    return generate_ms > 0 ? 1000.0 * static_cast<double>(tokens.size()) / generate_ms : 0.0;
  }
};

// Optional observers of the token loop (the Session uses them for telemetry, settings changes
// between tokens and stop requests).
// A forward pass runs one generated token or a block of up to kPromptBlockTokens prompt tokens.
struct GeneratorHooks {
  // Before every forward pass (prompt blocks and generated tokens), with its token count.
  std::function<void(int n_tokens)> before_forward;
  // After every forward pass: its last token and that token's position, whether it was a prompt
  // block, the forward time (the whole block), the sampling time that chose the token (0 for
  // prompt blocks) and the tokens it ran (1 for generated tokens).
  std::function<void(int token, int pos, bool prompt, double forward_ms, double sampling_ms,
                     int n_tokens)>
      after_forward;
  // Checked before every forward pass; true ends generation with StopReason::Cancelled.
  std::function<bool()> should_stop;
};

class Generator {
 public:
  // max_context: positions kept in the KV cache (0 = the model's own context length). kv_type:
  // element type of the KV cache (F16 default; F32 = the reference arithmetic).
  Generator(const Model& model, const Tokenizer& tokenizer, int max_context = 0,
            KvType kv_type = KvType::F16);

  // Feeds `prompt` after what is already in the context (in blocks of kPromptBlockTokens, a stop
  // request is honoured between blocks), then generates. Throws Error when the
  // prompt does not fit in the remaining context ("prompt of N tokens does not fit: M of C
  // positions are free"). Generation ends at EOS, a stop token/string, max_new_tokens, a full
  // context (StopReason::ContextFull) or when on_token returns false.
  GenerateResult generate(const std::vector<int>& prompt, const GenerateOptions& options,
                          const std::function<bool(const TokenEvent&)>& on_token = {});

  // Hooks stay in force until replaced; nullptr clears them.
  void set_hooks(const GeneratorHooks* hooks) { hooks_ = hooks ? *hooks : GeneratorHooks(); }

  // Forgets the context (KV cache positions) and frees the KV blocks, e.g. for a new
  // conversation.
  void reset();
  // Keeps the first `positions` tokens of the context (context_tokens()), e.g. the prefix a new
  // prompt shares with it; the next generate() feeds its prompt from there. Frees the KV blocks
  // past them. Throws Error unless 0 <= positions <= context_used().
  void truncate(int positions);
  // Positions taken: tokens in the KV cache plus the last reply token not yet fed.
  int context_used() const { return static_cast<int>(history_.size() + unfed_.size()); }
  // The context_used() tokens in order: those in the KV cache, then the unfed reply token.
  std::vector<int> context_tokens() const;
  int context_size() const { return transformer_.max_context(); }
  Transformer& transformer() { return transformer_; }

 private:
  const Model& model_;
  const Tokenizer& tokenizer_;
  Transformer transformer_;
  std::vector<int> history_;  // every token in the KV cache, in order
  std::vector<int> unfed_;    // sampled last, not yet run through the model
  GeneratorHooks hooks_;
  double last_forward_ms_ = 0;

  // Runs one forward pass (n tokens: forward_batch when n > 1) with the hooks around it; returns
  // the last token's logits.
  const float* feed(const int* tokens, int n, bool prompt, double sampling_ms);
};

}  // namespace flashchat
