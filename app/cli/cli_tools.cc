// cli_tools.cc - `flashchat-cli dump` and `flashchat-cli perplexity`. See cli_tools.h.
#include "cli/cli_tools.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

#include "core/error.h"
#include "core/read_file.h"
#include "flash/flash_model.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"
#include "model/tokenizer.h"
#include "model/transformer.h"
#include "runtime/flash_ffn.h"
#include "session/model_open.h"

using namespace flashchat;

namespace {

// A raw tensor found in a file: dtype, innermost dimension, element count, bytes.
struct RawTensor {
  DType dtype = DType::F32;
  int64_t row_elems = 1;
  int64_t n_elems = 0;
  const uint8_t* data = nullptr;
  std::shared_ptr<void> keep;  // the file the bytes belong to
};

bool raw_from_safetensors(const std::string& path, const std::string& name, RawTensor* out) {
  auto file = std::make_shared<SafetensorsFile>(SafetensorsFile::open(path));
  auto it = file->tensors().find(name);
  if (it == file->tensors().end()) return false;
  const SafetensorsTensor& t = it->second;
  out->dtype = t.dtype;
  out->row_elems = t.shape.empty() ? 1 : t.shape.back();
  out->n_elems = t.n_elements();
  out->data = t.data;
  out->keep = file;
  return true;
}

RawTensor raw_find(const std::string& path, const std::string& name) {
  namespace fs = std::filesystem;
  RawTensor r;
  if (fs::is_directory(path)) {
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(path)) {
      if (e.path().extension() == ".safetensors") files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
    for (const std::string& f : files) {
      if (raw_from_safetensors(f, name, &r)) return r;
    }
    fail(path, "no tensor '" + name + "' in its .safetensors files");
  }
  if (path.size() >= 12 && path.compare(path.size() - 12, 12, ".safetensors") == 0) {
    if (!raw_from_safetensors(path, name, &r)) fail(path, "no tensor '" + name + "'");
    return r;
  }
  auto file = std::make_shared<GgufFile>(GgufFile::open(path));
  const GgufTensorInfo* t = file->find_tensor(name);
  if (t == nullptr) fail(path, "no tensor '" + name + "'");
  r.data = file->tensor_data(*t);  // throws for types the engine cannot read
  r.dtype = t->dtype;
  r.row_elems = t->ne.empty() ? 1 : t->ne[0];
  r.n_elems = t->n_elements();
  r.keep = file;
  return r;
}

// "A:B" -> [A, B) within [0, n_rows].
void rows_parse(const std::string& spec, int64_t n_rows, int64_t* a, int64_t* b) {
  *a = 0;
  *b = n_rows;
  if (spec.empty()) return;
  const size_t colon = spec.find(':');
  if (colon == std::string::npos) fail("--rows", "'" + spec + "' is not A:B");
  auto number = [&](const std::string& s, int64_t fallback) -> int64_t {
    if (s.empty()) return fallback;
    size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != s.size() || v < 0) fail("--rows", "'" + spec + "' is not A:B with A, B >= 0");
    return v;
  };
  *a = number(spec.substr(0, colon), 0);
  *b = number(spec.substr(colon + 1), n_rows);
  if (*a > *b || *b > n_rows) {
    fail("--rows", "'" + spec + "' is outside the tensor's " + std::to_string(n_rows) + " rows");
  }
}

}  // namespace

void cli_dump_register(CLI::App& app, CliDumpArgs& a, CLI::App** sub) {
  *sub = app.add_subcommand("dump", "Print a tensor's values, one row (innermost dimension) per line");
  (*sub)->add_option("-m,--model", a.model, "GGUF file, .safetensors file or directory of them")->required();
  (*sub)->add_option("--tensor", a.tensor, "Tensor name as stored in the file")->required();
  (*sub)->add_option("--rows", a.rows, "Rows A:B (A included, B excluded; default all)");
}

int cli_dump_run(const CliDumpArgs& a) {
  const RawTensor t = raw_find(a.model, a.tensor);
  if (t.row_elems <= 0) fail(a.model, "tensor '" + a.tensor + "' is empty");
  const int64_t n_rows = t.n_elems / t.row_elems;
  int64_t r0 = 0, r1 = 0;
  rows_parse(a.rows, n_rows, &r0, &r1);
  const int64_t row_bytes = dtype_bytes_for(t.dtype, t.row_elems);
  std::vector<float> row(static_cast<size_t>(t.row_elems));
  std::string line;
  char buf[32];
  for (int64_t r = r0; r < r1; ++r) {
    dtype_to_fp32(t.dtype, t.data + r * row_bytes, row.data(), t.row_elems);
    line.clear();
    for (int64_t i = 0; i < t.row_elems; ++i) {
      std::snprintf(buf, sizeof buf, i ? " %.9g" : "%.9g", static_cast<double>(row[size_t(i)]));
      line += buf;
    }
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
  return 0;
}

void cli_perplexity_register(CLI::App& app, CliPerplexityArgs& a, CLI::App** sub) {
  *sub = app.add_subcommand("perplexity", "Perplexity of a model on a text file (flash models: FFN computed dense unless --mode flash)");
  (*sub)->add_option("-m,--model", a.model, "Model (GGUF, Hugging Face folder or flash model directory)")->required();
  (*sub)->add_option("--file", a.file, "Text file")->required();
  (*sub)->add_option("--ctx", a.context, "Tokens per chunk (default: the model's context)")->check(CLI::NonNegativeNumber);
  (*sub)->add_option("--mode", a.mode, "Flash models: dram (every FFN neuron) or flash (the predicted or gate-selected neurons, window 4, no budget)")
      ->check(CLI::IsMember({"dram", "flash"}));
}

int cli_perplexity_run(const CliPerplexityArgs& a) {
  OpenedModel m = model_open(a.model, false);
  const Model& model = m.model();
  const int bos = m.tokenizer->spec().bos_id;
  const std::vector<int> ids = m.tokenizer->encode(file_read_text(a.file), false);
  const int ctx = std::min(a.context > 0 ? a.context : model.config.max_seq_len, model.config.max_seq_len);
  const bool with_bos = a.bos && bos >= 0;
  // Chunks of ctx positions: [BOS] + text tokens; every token after the first is predicted.
  const int per_chunk = ctx - (with_bos ? 1 : 0);
  if (per_chunk < 2 || ids.size() < 2) fail(a.file, "too few tokens or too short a context for perplexity");
  std::unique_ptr<FlashFfn> ffn;
  if (m.flash) {
    FlashFfnOptions fo;
    fo.mode = a.mode == "flash" ? FfnMode::Flash : FfnMode::Dram;
    ffn = std::make_unique<FlashFfn>(*m.flash, fo, 0, 0);
  }
  int64_t bytes_read = 0, neurons_predicted = 0;  // flash mode: over all predicted tokens
  double nll = 0;
  int64_t predicted = 0;
  const int vocab = model.config.vocab_size;
  for (size_t start = 0; start + 1 < ids.size(); start += static_cast<size_t>(per_chunk)) {
    std::vector<int> chunk;
    if (with_bos) chunk.push_back(bos);
    const size_t end = std::min(ids.size(), start + static_cast<size_t>(per_chunk));
    chunk.insert(chunk.end(), ids.begin() + static_cast<std::ptrdiff_t>(start), ids.begin() + static_cast<std::ptrdiff_t>(end));
    Transformer t(model, static_cast<int>(chunk.size()), ffn.get(), KvType::F32);
    for (size_t p = 0; p + 1 < chunk.size(); ++p) {
      if (ffn) ffn->begin_token();
      const float* logits = t.forward(chunk[p], static_cast<int>(p));
      if (ffn && ffn->options().mode == FfnMode::Flash) {
        TokenTelemetry tel;
        ffn->fill_telemetry(tel);
        bytes_read += tel.bytes_read;
        for (const LayerTelemetry& l : tel.layers) neurons_predicted += l.neurons_predicted;
      }
      // log softmax at the next token, in double
      double mx = logits[0];
      for (int v = 1; v < vocab; ++v) mx = std::max(mx, double(logits[v]));
      double z = 0;
      for (int v = 0; v < vocab; ++v) z += std::exp(double(logits[v]) - mx);
      nll += std::log(z) + mx - double(logits[chunk[p + 1]]);
      ++predicted;
    }
  }
  const double mean = nll / static_cast<double>(predicted);
  std::printf("perplexity: %.4f (mean NLL %.5f nats over %lld predicted tokens, chunks of %d)\n",
              std::exp(mean), mean, static_cast<long long>(predicted), ctx);
  if (ffn && ffn->options().mode == FfnMode::Flash) {
    const FlashLayout& L = m.flash->ffn;
    std::printf("flash FFN: %.1f KiB read per token, %.2f%% of the FFN neurons predicted active "
                "(window 4, no budget)\n",
                static_cast<double>(bytes_read) / 1024.0 / static_cast<double>(predicted),
                100.0 * static_cast<double>(neurons_predicted) /
                    (static_cast<double>(predicted) * L.n_layers * L.neurons));
  }
  return 0;
}
