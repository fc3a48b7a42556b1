// forward_batch_test.cc - Transformer::forward_batch against forward() token by token, on real
// checkpoints of every architecture and weight dtype (stories260K GGUF F32, HF llama F16 / BF16
// gated / F32 dReLU, OPT F32 / F16, the default flash model F16), and FlashFfn's block path
// (oracle flash, naive) against its token-by-token path.
//
// Tolerances: with F16/BF16 matrices matmul equals matvec bit for bit (compute/matmul.h), and
// everything else in a block runs the same per-token arithmetic, so the logits must be EQUAL.
// With F32 matrices matvec sums in Eigen's order, matmul in its own: each projection differs by
// at most 2*gamma_dim*sum|w*x| (matmul_test), i.e. ~1e-7 relative per layer; through a few layers
// we allow 1e-4 * max|logit| (the measured worst is logged). Flash blocks sum each token's
// neurons (and dram blocks all bundles) in another order than the token path (ascending rows,
// cached part then streamed part), so they get the same relative tolerance. Greedy continuations must be identical throughout.
#include <QtTest>
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/resource_paths.h"
#include "model/transformer.h"
#include "runtime/flash_ffn.h"
#include "session/model_open.h"
#include "test_support.h"

using namespace flashchat;

namespace {

constexpr double kF32RelTolerance = 1e-4;

int argmax(const float* v, int n) {
  return static_cast<int>(std::max_element(v, v + n) - v);
}

// max |a - b| / max |a|
double rel_diff(const std::vector<float>& a, const float* b) {
  double diff = 0.0, scale = 1e-30;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::fabs(double(a[i]) - b[i]));
    scale = std::max(scale, std::fabs(double(a[i])));
  }
  return diff / scale;
}

std::vector<int> random_tokens(int n, int vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(0, vocab - 1);
  std::vector<int> t(static_cast<size_t>(n));
  for (int& v : t) v = dist(rng);
  return t;
}

// Feeds `prompt` to `ref` token by token and to `blk` in blocks of the given sizes (cycled),
// comparing the logits after every block; then greedy-decodes `gen` tokens on both (forward),
// comparing every step. exact: logits must be equal, else within kF32RelTolerance. Returns the
// worst relative difference.
double compare_block_feed(Transformer& ref, Transformer& blk, const std::vector<int>& prompt,
                          const std::vector<int>& blocks, int gen, bool exact) {
  const int vocab = ref.model().config.vocab_size;
  std::vector<float> ref_logits;
  double worst = 0.0;
  int pos = 0;
  size_t b = 0;
  const float* blk_logits = nullptr;
  auto check = [&](const float* got, const char* what) {
    const double d = rel_diff(ref_logits, got);
    worst = std::max(worst, d);
    if (exact) {
      QVERIFY2(std::equal(ref_logits.begin(), ref_logits.end(), got),
               qPrintable(QString("%1 at position %2: logits differ (rel %3)").arg(what).arg(pos).arg(d)));
    } else {
      QVERIFY2(d <= kF32RelTolerance, qPrintable(QString("%1 at position %2: rel diff %3").arg(what).arg(pos).arg(d)));
    }
  };
  while (pos < static_cast<int>(prompt.size())) {
    const int n = std::min(blocks[b++ % blocks.size()], static_cast<int>(prompt.size()) - pos);
    for (int t = 0; t < n; ++t) {
      const float* l = ref.forward(prompt[static_cast<size_t>(pos + t)], pos + t);
      ref_logits.assign(l, l + vocab);
    }
    blk_logits = blk.forward_batch(prompt.data() + pos, n, pos);
    pos += n;
    check(blk_logits, "prompt block");
    if (QTest::currentTestFailed()) return worst;
  }
  if (blk.context_length() != pos) {
    QTest::qFail("forward_batch left the context at the wrong length", __FILE__, __LINE__);
    return worst;
  }
  for (int i = 0; i < gen; ++i) {
    const int a = argmax(ref_logits.data(), vocab), c = argmax(blk_logits, vocab);
    if (a != c) {
      QTest::qFail(qPrintable(QString("greedy token %1 differs: %2 vs %3").arg(i).arg(a).arg(c)), __FILE__, __LINE__);
      return worst;
    }
    const float* l = ref.forward(a, pos);
    ref_logits.assign(l, l + vocab);
    blk_logits = blk.forward(c, pos);
    ++pos;
    check(blk_logits, "generated token");
    if (QTest::currentTestFailed()) return worst;
  }
  return worst;
}

bool half_matrices(const Model& m) {
  const DType d = m.weights.layers.front().wq.dtype;
  return d == DType::F16 || d == DType::BF16;
}

}  // namespace

class ForwardBatchTest : public QObject {
  Q_OBJECT
 private slots:
  void denseModels_data();
  void denseModels();
  void defaultModelModes_data();
  void defaultModelModes();
  void flashOracleBlocksEqualTokens();
  void flashSubBlocksEqualTokensWithinTheBound();
  void naiveBlockReadsEachLayerOnce();
  void recordsEveryTokensFfnInput();
  void rejectsBadBlocks();
};

void ForwardBatchTest::denseModels_data() {
  QTest::addColumn<QString>("path");
  QTest::newRow("stories260K gguf") << flashchat_test::fixture_path("models/stories260K/stories260K.gguf");
  for (const char* d : {"tiny_llama", "tiny_llama_silu", "tiny_llama_drelu", "tiny_opt", "tiny_opt_untied"}) {
    QTest::newRow(d) << flashchat_test::test_data_path(d);
  }
}

// Dense FFN (DenseFfn::ffn_forward_batch through matmul), blocks of odd sizes.
void ForwardBatchTest::denseModels() {
  QFETCH(QString, path);
  REQUIRE_FIXTURE(path);
  OpenedModel m = model_open(path.toStdString());
  const Model& model = m.model();
  const int context = std::min(64, model.config.max_seq_len);
  const std::vector<int> prompt = random_tokens(context - 16, model.config.vocab_size, 11);
  Transformer ref(model, context), blk(model, context);
  const bool exact = half_matrices(model);
  const double worst = compare_block_feed(ref, blk, prompt, {13, 1, 20, 7}, 12, exact);
  qInfo("%s: %s, worst relative logit difference %.3g", qPrintable(path),
        exact ? "F16/BF16 (exact)" : "F32", worst);
}

void ForwardBatchTest::defaultModelModes_data() {
  QTest::addColumn<int>("mode");
  for (FfnMode m : {FfnMode::Dram, FfnMode::Mmap, FfnMode::Naive}) {
    QTest::newRow(ffn_mode_name(m)) << static_cast<int>(m);
  }
}

// The default flash model in the modes that multiply every bundle (dram: all cached, mmap: the
// mapped file, naive: streamed once per block): the block multiplies them through
// bundle_ffn_compute_tokens (a matmul for the up rows, ascending rows per token) where the token
// path sums fixed row blocks, so the same float tolerance as F32 applies.
void ForwardBatchTest::defaultModelModes() {
  QFETCH(int, mode);
  OpenedModel m = model_open(resource_path_find("models/default"));
  QVERIFY(m.is_flash() && half_matrices(m.model()));
  FlashFfnOptions fo;
  fo.mode = static_cast<FfnMode>(mode);
  FlashFfn ffn_ref(*m.flash, fo, 0, 0), ffn_blk(*m.flash, fo, 0, 0);
  const int context = m.model().config.max_seq_len;
  Transformer ref(m.model(), context, &ffn_ref), blk(m.model(), context, &ffn_blk);
  const std::vector<int> prompt = m.tokenizer->encode(
      "And it came to pass, when the king heard the words of the law, that he rent his clothes. "
      "And the king commanded the priest, saying,", true);
  QVERIFY(prompt.size() > 32);
  const double worst = compare_block_feed(ref, blk, prompt, {32, 5}, 24, false);
  qInfo("%s blocks: worst relative logit difference %.3g", ffn_mode_name(fo.mode), worst);
}

// Flash mode with the oracle, at about half the FFN cached: a block reads the union of its
// tokens' sets once and each token multiplies its own; equal to the token path within float
// summation order, and the greedy continuation is the same.
void ForwardBatchTest::flashOracleBlocksEqualTokens() {
  OpenedModel m = model_open(resource_path_find("models/default"));
  FlashFfnOptions fo;
  fo.mode = FfnMode::Flash;
  fo.oracle = true;
  const FlashLayout& lay = m.flash->ffn;
  const int64_t ffn_bytes = int64_t{lay.neurons} * lay.bundle_bytes * lay.n_layers;
  const int64_t fixed = m.model().bytes().total();
  const int64_t minimum = FlashFfn(*m.flash, fo, fixed, 0).minimum_budget_bytes();
  const int64_t budget = minimum + ffn_bytes / 8;
  FlashFfn ffn_ref(*m.flash, fo, fixed, budget), ffn_blk(*m.flash, fo, fixed, budget);
  const int context = m.model().config.max_seq_len;
  Transformer ref(m.model(), context, &ffn_ref), blk(m.model(), context, &ffn_blk);
  const std::vector<int> prompt = m.tokenizer->encode(
      "In the beginning God created the heaven and the earth. And the earth was without form, "
      "and void; and darkness was upon the face of the deep.", true);
  QVERIFY(prompt.size() > 32);
  // A single token first (the token path: it fills the cache), so the next block finds some of
  // its neurons cached and streams the rest.
  const double worst = compare_block_feed(ref, blk, prompt, {1, 32, 9}, 24, false);
  qInfo("flash oracle blocks: worst relative logit difference %.3g", worst);
  // And against the dense FFN: the oracle sets are exactly the active neurons.
  FlashFfnOptions dense;
  dense.mode = FfnMode::Dram;
  FlashFfn ffn_dense(*m.flash, dense, 0, 0);
  Transformer tdense(m.model(), context, &ffn_dense), tblk(m.model(), context, &ffn_blk);
  const double worst_dense = compare_block_feed(tdense, tblk, prompt, {32}, 4, false);
  qInfo("flash oracle blocks vs dense: worst relative logit difference %.3g", worst_dense);
}

// A block whose predicted sets overflow the set pool (here 1 id per neuron instead of
// kBatchIdsPerNeuron) runs as sub-blocks: still equal to the token path, each sub-block reads
// its own union (more reads than one pool-wide block), and the FFN's state stays within the
// bound the budget counts (budget_map_bytes), as with the full pool.
void ForwardBatchTest::flashSubBlocksEqualTokensWithinTheBound() {
  OpenedModel m = model_open(resource_path_find("models/default"));
  const FlashLayout& lay = m.flash->ffn;
  FlashFfnOptions fo;
  fo.mode = FfnMode::Flash;
  FlashFfnOptions small = fo;
  small.batch_ids_per_neuron = 1;
  const int64_t fixed = m.model().bytes().total();
  const int64_t budget = FlashFfn(*m.flash, fo, fixed, 0).minimum_budget_bytes() +
                         int64_t{lay.neurons} * lay.bundle_bytes * lay.n_layers / 8;
  FlashFfn ffn_ref(*m.flash, fo, fixed, budget), ffn_small(*m.flash, small, fixed, budget),
      ffn_full(*m.flash, fo, fixed, budget);
  const int context = m.model().config.max_seq_len;
  Transformer ref(m.model(), context, &ffn_ref), tsmall(m.model(), context, &ffn_small),
      tfull(m.model(), context, &ffn_full);
  const std::vector<int> prompt = m.tokenizer->encode(
      "Once upon a time there was a little girl who lived in a village near the forest. "
      "Whenever she went out, the little girl wore a red riding cloak.", true);
  QVERIFY(prompt.size() >= 32);
  const std::vector<int> block(prompt.begin(), prompt.begin() + 32);
  // Sub-blocks against the token path.
  compare_block_feed(ref, tsmall, block, {32}, 0, false);
  if (QTest::currentTestFailed()) return;
  // The same block with the whole pool: fewer bundles predicted (one union instead of several).
  ffn_small.begin_token();
  tsmall.reset();
  tsmall.forward_batch(block.data(), 32, 0);
  TokenTelemetry t_small, t_full;
  ffn_small.fill_telemetry(t_small);
  ffn_full.begin_token();
  tfull.forward_batch(block.data(), 32, 0);
  ffn_full.fill_telemetry(t_full);
  int64_t p_small = 0, p_full = 0;
  for (const LayerTelemetry& l : t_small.layers) p_small += l.neurons_predicted;
  for (const LayerTelemetry& l : t_full.layers) p_full += l.neurons_predicted;
  qInfo("predicted bundles of a 32-token block: %lld in sub-blocks, %lld in one", 
        static_cast<long long>(p_small), static_cast<long long>(p_full));
  QVERIFY2(p_small > p_full, "the small pool did not split the block");
  for (const FlashFfn* f : {&ffn_small, &ffn_full}) {
    const int64_t held = f->state_bytes() + f->batch_state_bytes();
    const int64_t bound = budget_map_bytes(lay, FfnMode::Flash, fo.window);
    QVERIFY2(held <= bound, qPrintable(QString("FFN state %1 > bound %2").arg(held).arg(bound)));
  }
}

// Naive mode streams each layer's whole FFN: a block reads it once, not once per token.
void ForwardBatchTest::naiveBlockReadsEachLayerOnce() {
  OpenedModel m = model_open(resource_path_find("models/default"));
  FlashFfnOptions fo;
  fo.mode = FfnMode::Naive;
  FlashFfn ffn(*m.flash, fo, 0, 0);
  Transformer tf(m.model(), m.model().config.max_seq_len, &ffn);
  const std::vector<int> prompt = random_tokens(20, m.model().config.vocab_size, 5);
  ffn.begin_token();
  tf.forward_batch(prompt.data(), 20, 0);
  TokenTelemetry t;
  ffn.fill_telemetry(t);
  const FlashLayout& lay = m.flash->ffn;
  QCOMPARE(t.bytes_read, int64_t{lay.neurons} * lay.bundle_bytes * lay.n_layers);
  for (const LayerTelemetry& l : t.layers) QCOMPARE(l.neurons_streamed, lay.neurons);
  // One token alone reads the same: the block cost one token's I/O.
  ffn.begin_token();
  tf.forward(prompt[0], 20);
  TokenTelemetry one;
  ffn.fill_telemetry(one);
  QCOMPARE(one.bytes_read, t.bytes_read);
}

// set_record_ffn_inputs keeps (n, dim) per layer for a block, equal to forward()'s per token.
void ForwardBatchTest::recordsEveryTokensFfnInput() {
  OpenedModel m = model_open(flashchat_test::test_data_path("tiny_llama_silu").toStdString());
  const Model& model = m.model();
  const int dim = model.config.dim;
  Transformer ref(model, 32), blk(model, 32);
  ref.set_record_ffn_inputs(true);
  blk.set_record_ffn_inputs(true);
  const std::vector<int> prompt = random_tokens(9, model.config.vocab_size, 3);
  blk.forward_batch(prompt.data(), 9, 0);
  QCOMPARE(blk.ffn_inputs_recorded(), 9);
  for (int t = 0; t < 9; ++t) {
    ref.forward(prompt[static_cast<size_t>(t)], t);
    QCOMPARE(ref.ffn_inputs_recorded(), 1);
    for (int l = 0; l < model.config.n_layers; ++l) {
      QVERIFY(std::equal(ref.ffn_input(l), ref.ffn_input(l) + dim, blk.ffn_input(l) + t * dim));
    }
  }
}

void ForwardBatchTest::rejectsBadBlocks() {
  OpenedModel m = model_open(flashchat_test::test_data_path("tiny_opt").toStdString());
  Transformer tf(m.model(), 16);
  const std::vector<int> ok = random_tokens(8, m.model().config.vocab_size, 1);
  std::vector<int> bad = ok;
  bad[5] = m.model().config.vocab_size;
  VERIFY_CONTAINS(flashchat_test::error_of([&] { tf.forward_batch(bad.data(), 8, 0); }), "vocabulary");
  VERIFY_CONTAINS(flashchat_test::error_of([&] { tf.forward_batch(ok.data(), 8, 9); }), "context");
  VERIFY_CONTAINS(flashchat_test::error_of([&] { tf.forward_batch(ok.data(), 0, 0); }), "at least one");
  tf.forward_batch(ok.data(), 8, 0);
  VERIFY_CONTAINS(flashchat_test::error_of([&] { tf.forward_batch(ok.data(), 2, 9); }), "skips");
  // A smaller pos0 rewrites from there.
  tf.forward_batch(ok.data(), 4, 2);
  QCOMPARE(tf.context_length(), 6);
}

QTEST_GUILESS_MAIN(ForwardBatchTest)
#include "forward_batch_test.moc"
