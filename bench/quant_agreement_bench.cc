// quant_agreement_bench - how far a quantised model's greedy text stays with a reference's
// (e.g. `convert --weights q4_0` against the F16 model): both decode greedily from the same
// prompts (flash models with their FFN computed dense), `--per` tokens from each, until N tokens
// in all (a short-context model such as the default one, 128 positions, needs several), then
//   free-running: positions whose tokens are identical, and the first position that differs;
//   teacher-forced: the test model's argmax on the reference's sequence, share equal to it.
// Prompts: the first 12 words of each paragraph (blank-line separated) of --prompts FILE.
//
//   quant_agreement_bench --ref DIR_F16 --test DIR_Q4 --prompts FILE [-n 256] [--per 64]
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <memory>
#include <vector>

#include "core/error.h"
#include "core/read_file.h"
#include "runtime/flash_ffn.h"
#include "model/transformer.h"
#include "session/model_open.h"

using namespace flashchat;

namespace {

// A model with its decoder (flash FFN computed dense): argmax of the next token.
struct Runner {
  OpenedModel m;
  std::unique_ptr<FlashFfn> ffn;
  std::unique_ptr<Transformer> t;

  Runner(const std::string& path, int context) : m(model_open(path, false)) {
    if (m.flash) {
      FlashFfnOptions fo;
      fo.mode = FfnMode::Dram;
      ffn = std::make_unique<FlashFfn>(*m.flash, fo, 0, 0);
    }
    t = std::make_unique<Transformer>(m.model(), context, ffn.get(), KvType::F32);
  }
  int next(int token, int pos) {
    if (ffn) ffn->begin_token();
    const float* l = t->forward(token, pos);
    return int(std::max_element(l, l + m.model().config.vocab_size) - l);
  }
};

// Greedy continuation of `prompt` (ids) for n tokens; when `forced` is given, feeds it instead
// of the model's own choices and returns the argmax at each step.
std::vector<int> decode(Runner& r, const std::vector<int>& prompt, int n,
                        const std::vector<int>* forced) {
  std::vector<int> out;
  int pos = 0, next = 0;
  for (int id : prompt) next = r.next(id, pos++);
  for (int i = 0; i < n; ++i) {
    out.push_back(next);
    next = r.next(forced ? (*forced)[size_t(i)] : next, pos++);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"greedy agreement of a (quantised) model with a reference"};
  std::string ref, test, prompts_path;
  int n = 256, per = 64;
  app.add_option("--ref", ref, "Reference model")->required();
  app.add_option("--test", test, "Model to compare")->required();
  app.add_option("--prompts", prompts_path, "Text whose paragraphs' openings are the prompts")->required();
  app.add_option("-n", n, "Tokens to generate in all")->check(CLI::PositiveNumber);
  app.add_option("--per", per, "Tokens to generate per prompt")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  try {
    std::vector<std::string> prompts;
    std::istringstream text(file_read_text(prompts_path));
    std::string line, para;
    while (std::getline(text, line)) {
      if (!line.empty()) {
        para += (para.empty() ? "" : " ") + line;
        continue;
      }
      std::istringstream words(para);
      std::string w, p;
      for (int k = 0; k < 12 && words >> w; ++k) p += (k ? " " : "") + w;
      if (!p.empty()) prompts.push_back(p);
      para.clear();
    }
    int total = 0, same = 0, forced = 0, seqs = 0, identical_seqs = 0;
    double first_sum = 0;
    for (const std::string& prompt : prompts) {
      if (total >= n) break;
      const int m = std::min(per, n - total);
      Runner ra(ref, 1);
      const std::vector<int> ids = ra.m.tokenizer->encode(prompt, true);
      const int context = int(ids.size()) + m + 1;
      if (context > ra.m.model().config.max_seq_len) continue;
      Runner a(ref, context), b(test, context), f(test, context);
      const std::vector<int> ya = decode(a, ids, m, nullptr);
      const std::vector<int> yb = decode(b, ids, m, nullptr);
      const std::vector<int> yf = decode(f, ids, m, &ya);
      int first = m;
      for (int i = 0; i < m; ++i) {
        same += ya[size_t(i)] == yb[size_t(i)];
        if (first == m && ya[size_t(i)] != yb[size_t(i)]) first = i;
        forced += ya[size_t(i)] == yf[size_t(i)];
      }
      first_sum += first;
      identical_seqs += first == m;
      ++seqs;
      total += m;
    }
    if (total == 0) fail(prompts_path, "no prompt fits the context");
    std::printf("%d prompts x up to %d tokens = %d tokens\n", seqs, per, total);
    std::printf("free-running: %d/%d tokens identical (%.1f%%); %d/%d continuations identical; "
                "mean first difference at token %.1f\n",
                same, total, 100.0 * same / total, identical_seqs, seqs, first_sum / seqs);
    std::printf("teacher-forced: %d/%d argmax equal (%.1f%%)\n", forced, total, 100.0 * forced / total);
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
