#include "session/model_open.h"

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <map>

#include "core/units.h"
#include "formats/gguf.h"
#include "model/tokenizer_gguf.h"
#include "model/tokenizer_json.h"
#include "session/session.h"
#include "model/chat_template.h"

namespace flashchat {

OpenedModel model_open(const std::string& path, bool verify_checksums) {
  const auto t0 = std::chrono::steady_clock::now();
  OpenedModel m;
  if (flash_model_is_dir(path)) {
    m.flash = flash_model_open(path, verify_checksums);
  } else {
    m.dense = model_load(path);
  }
  // The vocabulary moves into the tokenizer (held once, not twice); the model keeps the spec's
  // scalar fields (kind, special ids, BOS/EOS rules).
  Model& model = m.flash ? *m.flash->model : *m.dense;
  m.tokenizer = std::make_unique<Tokenizer>(std::move(model.tokenizer));
  const TokenizerSpec& spec = m.tokenizer->spec();
  model.tokenizer = TokenizerSpec();
  model.tokenizer.kind = spec.kind;
  model.tokenizer.pre_tokenizer = spec.pre_tokenizer;
  model.tokenizer.bos_id = spec.bos_id;
  model.tokenizer.eos_id = spec.eos_id;
  model.tokenizer.unk_id = spec.unk_id;
  model.tokenizer.pad_id = spec.pad_id;
  model.tokenizer.add_bos = spec.add_bos;
  model.tokenizer.add_eos = spec.add_eos;
  model.tokenizer.add_space_prefix = spec.add_space_prefix;
  m.heap_bytes = m.tokenizer->memory_bytes();
  m.load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                  .count();
  return m;
}

Tokenizer tokenizer_open(const std::string& path) {
  std::error_code ec;
  if (flash_model_is_dir(path)) {
    OpenedModel m = model_open(path, false);
    return std::move(*m.tokenizer);
  }
  if (std::filesystem::is_directory(path, ec)) {
    return Tokenizer(tokenizer_spec_from_hf_json(path + "/tokenizer.json"));
  }
  return Tokenizer(tokenizer_spec_from_gguf(GgufFile::open(path)));
}

ModelInfo model_info_of(const OpenedModel& m) {
  const Model& model = m.model();
  const ModelConfig& c = model.config;
  ModelInfo info;
  info.path = m.is_flash() ? m.flash->dir : model.source_path;
  info.format = m.is_flash() ? "flash" : model.source_format;
  info.name = c.name;
  info.architecture = c.arch_name();
  info.n_layers = c.n_layers;
  info.dim = c.dim;
  info.n_heads = c.n_heads;
  info.n_kv_heads = c.n_kv_heads;
  info.head_dim = c.head_dim;
  info.ffn_dim = c.ffn_dim;
  info.vocab_size = c.vocab_size;
  info.max_context = c.max_seq_len;
  info.ffn_gated = c.ffn_gated;
  info.activation = activation_name(c.activation);
  info.has_chat_template = !model.chat_template.empty();
  info.chat_format = chat_format_name(chat_format_detect(model.chat_template));
  info.parameters = model.parameter_count();
  info.bytes = model.bytes();
  info.model_bytes = info.bytes.total();
  if (m.is_flash()) {
    const FlashModel& f = *m.flash;
    info.is_flash = true;
    info.ffn_file_bytes = static_cast<int64_t>(f.ffn.size_bytes);
    info.bundle_bytes = f.ffn.bundle_bytes;
    for (size_t l = 0; l < f.predictors.size(); ++l) {
      PredictorInfo p;
      p.rank = f.predictors[l].rank;
      p.bytes = f.predictors[l].size_bytes();
      if (l < f.metrics.size()) {
        p.recall = f.metrics[l].recall;
        p.precision = f.metrics[l].precision;
        p.predicted_active = f.metrics[l].predicted_active;
        p.true_active = f.metrics[l].true_active;
      }
      info.predictor_bytes += p.bytes;
      info.predictors.push_back(p);
    }
    // The resident part's bytes() and parameters leave out the FFN matrices (in ffn.bin).
    // Quantised bundles' block scales (ffn_scales.bin) are resident but part of the FFN's size.
    info.bytes.ffn += info.ffn_file_bytes + f.ffn_scale_bytes();
    info.parameters += int64_t{f.ffn.n_layers} * f.ffn.neurons * f.ffn.dim * (f.ffn.gated ? 3 : 2);
    info.model_bytes = info.bytes.total();
  }
  return info;
}

ModelInfo model_info_read(const std::string& path) {
  return model_info_of(model_open(path, /*verify_checksums=*/false));
}

namespace {

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...) {
  char buf[1024];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  return buf;
}

// Tensors and bytes of one dtype.
struct DtypeTally {
  int tensors = 0;
  int64_t bytes = 0;
};

}  // namespace

std::string model_info_describe(const OpenedModel& m, int context) {
  const Model& model = m.model();
  const ModelConfig& c = model.config;
  std::map<std::string, DtypeTally> dtypes;
  for (const Tensor* t : model.tensors()) {
    DtypeTally& d = dtypes[dtype_name(t->dtype)];
    ++d.tensors;
    d.bytes += t->size_bytes();
  }
  const ModelBytes b = model.bytes();
  auto pct = [&b](int64_t x) { return b.total() ? 100.0 * x / b.total() : 0.0; };
  std::string out;
  out += format("model:         %s (%s)\n", model.source_path.c_str(), model.source_format.c_str());
  out += format("name:          %s\n", c.name.empty() ? "(unnamed)" : c.name.c_str());
  out += format("architecture:  %s\n", c.arch_name());
  out += format("layers:        %d\n", c.n_layers);
  out += format("dim:           %d\n", c.dim);
  out += format("heads:         %d (kv heads %d, head dim %d)\n", c.n_heads, c.n_kv_heads, c.head_dim);
  out += format("ffn:           %d neurons per layer, %s, %s\n", c.ffn_dim,
                c.ffn_gated ? "gated" : "ungated", activation_name(c.activation));
  out += format("vocab:         %d\n", c.vocab_size);
  out += format("context:       %d\n", c.max_seq_len);
  out += format("norm:          %s, eps %g\n", c.layer_norm() ? "LayerNorm" : "RMSNorm", c.norm_eps);
  if (c.rope_style != RopeStyle::None) {
    out += format("rope:          theta %g, %s pairs%s\n", c.rope_theta,
                  c.rope_style == RopeStyle::Interleaved ? "adjacent" : "half-split",
                  c.rope_freq_factors.empty() ? "" : ", llama3 frequency scaling");
  } else {
    out += format("positions:     learned (offset %d)\n", c.pos_offset);
  }
  if (c.parallel_residual) out += "blocks:        parallel attention + FFN\n";
  out += format("output head:   %s\n", c.tied_output ? "tied to token embedding" : "separate");
  // As held in memory: matrices in their stored type, norm weights and biases as F32.
  out += "tensor types: ";
  for (const auto& [name, d] : dtypes) {
    out += format(" %s x%d (%lld bytes)", name.c_str(), d.tensors, static_cast<long long>(d.bytes));
  }
  out += "\n";
  const TokenizerSpec& ts = m.tokenizer->spec();
  out += format("tokenizer:     %s, %zu tokens, bos %d, eos %d\n",
                ts.kind == TokenizerKind::Spm ? "sentencepiece-bpe" : "byte-level-bpe",
                ts.tokens.size(), ts.bos_id, ts.eos_id);
  out += format("chat format:   %s\n", chat_format_name(chat_format_detect(model.chat_template)));
  out += format("parameters:    %lld\n", static_cast<long long>(model.parameter_count()));
  out += format("bytes:         %s total\n", size_format_bytes(b.total()).c_str());
  out += format("  embeddings   %s (%.1f%%)\n", size_format_bytes(b.embeddings).c_str(), pct(b.embeddings));
  out += format("  attention    %s (%.1f%%)\n", size_format_bytes(b.attention).c_str(), pct(b.attention));
  out += format("  ffn          %s (%.1f%%)\n", size_format_bytes(b.ffn).c_str(), pct(b.ffn));
  out += format("  other        %s (%.1f%%)\n", size_format_bytes(b.other).c_str(), pct(b.other));
  if (m.flash) {
    const FlashLayout& f = m.flash->ffn;
    out += format("flash FFN:     %s on flash (ffn.bin), %s bundles of %lld bytes (%s x %d neurons "
                  "x %d layers)\n",
                  size_format_bytes(static_cast<int64_t>(f.size_bytes)).c_str(),
                  f.gate_in_bundle() ? "gate|up|down" : "up|down", static_cast<long long>(f.bundle_bytes),
                  dtype_name(f.dtype), f.neurons, f.n_layers);
    if (f.gate_resident) {
      out += format("               exact gate mode: gate matrices resident, a neuron is read when "
                    "|act(gate)| passes its layer's threshold\n");
    }
    if (f.split_scales) {
      out += format("               block scales apart: %s resident (ffn_scales.bin)\n",
                    size_format_bytes(m.flash->ffn_scale_bytes()).c_str());
    }
    out += format("predictors:    %zu layers\n", m.flash->predictors.size());
    for (size_t l = 0; l < m.flash->predictors.size(); ++l) {
      const Predictor& p = m.flash->predictors[l];
      const PredictorMetrics pm =
          l < m.flash->metrics.size() ? m.flash->metrics[l] : PredictorMetrics();
      out += format("  layer %-3zu   rank %-4d recall %.3f precision %.3f predicted %.2f%% true "
                    "%.2f%% predicted/true %.2fx (%s)\n",
                    l, p.rank, pm.recall, pm.precision, 100 * pm.predicted_active,
                    100 * pm.true_active,
                    pm.true_active > 0 ? pm.predicted_active / pm.true_active : 0.0,
                    size_format_bytes(p.size_bytes()).c_str());
    }
  }
  const ModelInfo info = model_info_of(m);
  const int ctx = context > 0 ? context : std::min(c.max_seq_len, 4096);
  out += format("minimum budget (KV cache for %d positions / for a short chat; model %s):\n", ctx,
                size_format_bytes(info.model_bytes).c_str());
  const FfnMode modes[] = {FfnMode::Flash, FfnMode::Naive, FfnMode::Mmap, FfnMode::Dram};
  for (FfnMode mode : modes) {
    if (!m.flash && mode != FfnMode::Dram) continue;
    const int64_t full = session_minimum_budget_bytes(m, mode, ctx, ctx);
    const int64_t shortc = session_minimum_budget_bytes(m, mode, ctx, 1);
    out += format("  %-6s       %s (%.1f%%) / %s (%.1f%%)\n", ffn_mode_name(mode),
                  size_format_bytes(full).c_str(), 100.0 * full / info.model_bytes,
                  size_format_bytes(shortc).c_str(), 100.0 * shortc / info.model_bytes);
  }
  return out;
}

}  // namespace flashchat
