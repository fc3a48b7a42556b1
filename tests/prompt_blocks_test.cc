// prompt_blocks_test.cc - the Session feeds prompts in blocks of kPromptBlockTokens: progress and
// telemetry once per block (block_tokens, the block's last position, the DRAM within the budget),
// a stop between blocks restores the context, and the text equals token-by-token decoding.
#include <QtTest>
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/resource_paths.h"
#include "model/transformer.h"
#include "runtime/flash_ffn.h"
#include "session/model_open.h"
#include "session/session.h"
#include "test_support.h"

using namespace flashchat;
using flashchat_test::greedy;

namespace {

const char* kLongText =
    "And it came to pass in those days, that there went out a decree from the king, that all "
    "the land should be taxed. And all went to be taxed, every one into his own city, and the "
    "people of the land went up out of their cities unto the city of David, which is called "
    "Bethlehem, because they were of the house and lineage of David, to be taxed with their "
    "wives and their children, and their servants, and their cattle";

}  // namespace

class PromptBlocksTest : public QObject {
  Q_OBJECT
  std::string model_;
  int64_t model_bytes_ = 0;

  SessionOptions options(FfnMode mode, int64_t budget) const {
    SessionOptions o;
    o.model_path = model_;
    o.mode = mode;
    o.budget_bytes = budget;
    o.context = 128;
    return o;
  }

 private slots:
  void initTestCase() {
    model_ = default_model_path();
    model_bytes_ = model_info_read(model_).model_bytes;
    QVERIFY(model_bytes_ > 0);
  }

  // Flash mode with its predictors at about 70% of the model: one progress report and one
  // telemetry row per block, each within the budget, reading from flash.
  void progress_and_telemetry_per_block() {
    Session probe(options(FfnMode::Flash, 0));
    const int64_t budget = std::max(model_bytes_ * 70 / 100,
                                    probe.minimum_budget_bytes(FfnMode::Flash, 100));
    Session s(options(FfnMode::Flash, budget));
    std::vector<int> prompt = s.text_tokens(kLongText);
    const int n = 2 * kPromptBlockTokens + 11;  // two whole blocks and a partial one
    QVERIFY(int(prompt.size()) >= n);
    prompt.resize(n);
    std::vector<std::pair<int, int>> progress;
    std::vector<TokenTelemetry> rows;
    GenerateCallbacks cb;
    cb.on_prompt_progress = [&](int done, int total) { progress.emplace_back(done, total); };
    cb.on_telemetry = [&](const TokenTelemetry& t) { rows.push_back(t); };
    const GenerateResult r = s.generate(prompt, greedy(6), cb);
    QCOMPARE(r.prompt_tokens, n);
    const std::vector<std::pair<int, int>> expected = {
        {kPromptBlockTokens, n}, {2 * kPromptBlockTokens, n}, {n, n}};
    QCOMPARE(progress, expected);
    QVERIFY(rows.size() >= 4);
    const int block_sizes[] = {kPromptBlockTokens, kPromptBlockTokens, n - 2 * kPromptBlockTokens};
    for (int b = 0; b < 3; ++b) {
      const TokenTelemetry& t = rows[static_cast<size_t>(b)];
      QVERIFY(t.prompt);
      QCOMPARE(t.block_tokens, block_sizes[b]);
      QCOMPARE(t.pos, std::min(n, (b + 1) * kPromptBlockTokens) - 1);
      QCOMPARE(t.index, int64_t{b});
      QVERIFY(t.bytes_read > 0);  // the block's union, read once
    }
    for (size_t i = 3; i < rows.size(); ++i) {
      QVERIFY(!rows[i].prompt);
      QCOMPARE(rows[i].block_tokens, 1);
      QCOMPARE(rows[i].pos, n + int(i) - 3);
    }
    for (const TokenTelemetry& t : rows) {
      QVERIFY2(t.dram.total() <= budget,
               qPrintable(QString("row %1: %2 > %3").arg(t.index).arg(t.dram.total()).arg(budget)));
    }
    QCOMPARE(s.context_used(), n + int(r.tokens.size()));  // the last reply token counts, unfed
  }

  // A stop requested during a block takes effect before the next one; the context is what it
  // was, and the same request afterwards gives what a fresh session gives.
  void stop_between_blocks_restores_the_context() {
    Session s(options(FfnMode::Flash, 0));
    const std::vector<int> prompt = s.text_tokens(kLongText);
    GenerateCallbacks cb;
    int reports = 0;
    cb.on_prompt_progress = [&](int, int) {
      if (++reports == 1) s.request_stop();
    };
    const GenerateResult stopped = s.generate(prompt, greedy(8), cb);
    QCOMPARE(stopped.reason, StopReason::Cancelled);
    QCOMPARE(reports, 1);
    QCOMPARE(s.context_used(), 0);
    QVERIFY(stopped.tokens.empty());
    const GenerateResult again = s.generate(prompt, greedy(8));
    Session fresh(options(FfnMode::Flash, 0));
    const GenerateResult ref = fresh.generate(prompt, greedy(8));
    QCOMPARE(again.tokens, ref.tokens);
    QCOMPARE(again.text, ref.text);
  }

  // Dense (dram mode): the blocked session's greedy text is the token-by-token forward()'s.
  void blocked_text_equals_token_by_token() {
    Session s(options(FfnMode::Dram, 0));
    const std::vector<int> prompt = s.text_tokens(kLongText);
    const int n_gen = 24;
    const GenerateResult r = s.generate(prompt, greedy(n_gen));
    OpenedModel m = model_open(model_);
    FlashFfnOptions fo;
    fo.mode = FfnMode::Dram;
    FlashFfn ffn(*m.flash, fo, 0, 0);
    Transformer tf(m.model(), 128, &ffn);
    const int vocab = m.model().config.vocab_size;
    const float* logits = nullptr;
    int pos = 0;
    for (int id : prompt) logits = tf.forward(id, pos++);
    std::vector<int> tokens;
    while (int(tokens.size()) < int(r.tokens.size())) {
      const int id = int(std::max_element(logits, logits + vocab) - logits);
      tokens.push_back(id);
      logits = tf.forward(id, pos++);
    }
    QVERIFY(r.tokens.size() >= 8);
    QCOMPARE(r.tokens, tokens);
  }
};

QTEST_GUILESS_MAIN(PromptBlocksTest)
#include "prompt_blocks_test.moc"
