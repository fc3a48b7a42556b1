#include "model/model.h"

#include <filesystem>

#include "core/error.h"

namespace flashchat {

namespace {

int64_t bytes_of(const Tensor& t) { return t.empty() ? 0 : t.size_bytes(); }

}  // namespace

ModelBytes Model::bytes() const {
  ModelBytes b;
  b.embeddings = bytes_of(weights.token_embd) + bytes_of(weights.pos_embd);
  if (!config.tied_output) b.embeddings += bytes_of(weights.output);
  b.other = bytes_of(weights.output_norm) + bytes_of(weights.output_norm_bias);
  for (const LayerWeights& l : weights.layers) {
    b.attention += bytes_of(l.wq) + bytes_of(l.wk) + bytes_of(l.wv) + bytes_of(l.wo) +
                   bytes_of(l.bq) + bytes_of(l.bk) + bytes_of(l.bv) + bytes_of(l.bo);
    b.ffn += bytes_of(l.ffn_gate) + bytes_of(l.ffn_up) + bytes_of(l.ffn_down) +
             bytes_of(l.ffn_up_bias) + bytes_of(l.ffn_down_bias);
    b.other += bytes_of(l.attn_norm) + bytes_of(l.attn_norm_bias) + bytes_of(l.ffn_norm) +
               bytes_of(l.ffn_norm_bias);
  }
  return b;
}

std::vector<const Tensor*> Model::tensors() const {
  std::vector<const Tensor*> out;
  auto add = [&out](const Tensor& t) {
    if (!t.empty()) out.push_back(&t);
  };
  add(weights.token_embd);
  add(weights.pos_embd);
  add(weights.output_norm);
  add(weights.output_norm_bias);
  if (!config.tied_output) add(weights.output);
  for (const LayerWeights& l : weights.layers) {
    for (const Tensor* t : {&l.attn_norm, &l.attn_norm_bias, &l.wq, &l.wk, &l.wv, &l.wo, &l.bq,
                            &l.bk, &l.bv, &l.bo, &l.ffn_norm, &l.ffn_norm_bias, &l.ffn_gate,
                            &l.ffn_up, &l.ffn_down, &l.ffn_up_bias, &l.ffn_down_bias}) {
      add(*t);
    }
  }
  return out;
}

int64_t Model::parameter_count() const {
  int64_t n = 0;
  for (const Tensor* t : tensors()) n += t->n_elements();
  return n;
}

std::unique_ptr<Model> model_load(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) return model_load_hf(path);
  if (!fs::exists(path, ec)) fail(path, "no such file or directory");
  return model_load_gguf(path);
}

}  // namespace flashchat
