// generate_test.cc - end to end on a real trained model: stories260K (GGUF) must reproduce its
// published greedy reference text exactly, and the Generator's stop rules must hold.

#include <QFile>
#include <QtTest>
#include <memory>
#include <string>

#include "core/error.h"
#include "model/model.h"
#include "model/tokenizer.h"
#include "session/generator.h"
#include "test_support.h"

using namespace flashchat;
using flashchat_test::reference_text_from_readme;
using flashchat_test::greedy;

class GenerateTest : public QObject {
  Q_OBJECT

  std::unique_ptr<Model> model_;
  std::unique_ptr<Tokenizer> tokenizer_;

 private slots:
  void initTestCase() {
    const QString path = flashchat_test::fixture_path("models/stories260K/stories260K.gguf");
    REQUIRE_FIXTURE(path);
    model_ = model_load(path.toStdString());
    tokenizer_ = std::make_unique<Tokenizer>(model_->tokenizer);
  }

  // The acceptance test: 256 steps from BOS (llama2.c samples one token per step), greedy, stopping at
  // BOS, gives exactly the model card's text.
  void reproduces_reference_text() {
    const std::string expected =
        reference_text_from_readme(flashchat_test::fixture_path("README.md"));
    QVERIFY2(expected.rfind("Once upon a time", 0) == 0, "reference text not found in README");
    Generator generator(*model_, *tokenizer_, 0, KvType::F32);  // the model card's float run
    GenerateOptions o = greedy(256);
    o.stop_token_ids = {tokenizer_->bos_id()};
    std::string streamed;
    GenerateResult r = generator.generate({tokenizer_->bos_id()}, o, [&](const TokenEvent& e) {
      streamed += e.text;
      return true;
    });
    QCOMPARE(QString::fromStdString(r.text), QString::fromStdString(expected));
    QCOMPARE(streamed, r.text);
    QCOMPARE(r.reason, StopReason::MaxTokens);
    QCOMPARE(int(r.tokens.size()), 256);
    QCOMPARE(tokenizer_->decode(r.tokens), r.text);
  }

  void greedy_is_deterministic_and_seeded_sampling_repeats() {
    const std::vector<int> prompt = tokenizer_->encode("Once upon a time", true);
    GenerateOptions o = greedy(40);
    o.sampling.temperature = 0.9f;
    o.sampling.seed = 42;
    Generator a(*model_, *tokenizer_), b(*model_, *tokenizer_);
    const std::string ta = a.generate(prompt, o).text;
    QCOMPARE(b.generate(prompt, o).text, ta);
    o.sampling.seed = 43;
    Generator c(*model_, *tokenizer_);
    QVERIFY(c.generate(prompt, o).text != ta);  // 40 sampled tokens: a collision is implausible
  }

  void stop_string_cuts_text_and_is_never_streamed() {
    const std::vector<int> prompt = {tokenizer_->bos_id()};
    Generator reference(*model_, *tokenizer_);
    const std::string full = reference.generate(prompt, greedy(60)).text;
    const std::string stop = "Lily";  // appears in the greedy text, not at its start
    const size_t at = full.find(stop);
    QVERIFY(at != std::string::npos && at > 0);
    GenerateOptions o = greedy(60);
    o.stop_strings = {stop};
    std::string streamed;
    Generator g(*model_, *tokenizer_);
    GenerateResult r = g.generate(prompt, o, [&](const TokenEvent& e) {
      streamed += e.text;
      return true;
    });
    QCOMPARE(r.reason, StopReason::StopString);
    QCOMPARE(r.text, full.substr(0, at));
    QCOMPARE(streamed, r.text);
  }

  void callback_false_stops_after_that_token() {
    Generator g(*model_, *tokenizer_);
    int calls = 0;
    GenerateResult r = g.generate({tokenizer_->bos_id()}, greedy(100), [&](const TokenEvent&) {
      return ++calls < 5;
    });
    QCOMPARE(r.reason, StopReason::Cancelled);
    QCOMPARE(int(r.tokens.size()), 5);
  }

  void context_limit_is_reported() {
    Generator g(*model_, *tokenizer_, 16);
    GenerateResult r = g.generate({tokenizer_->bos_id()}, greedy(100));
    QCOMPARE(r.reason, StopReason::ContextFull);
    QCOMPARE(g.context_used(), 16);
    // A prompt larger than the free context is refused with a message saying so.
    try {
      g.generate(std::vector<int>(8, 100), greedy(1));
      QFAIL("expected an error");
    } catch (const Error& e) {
      QVERIFY2(std::string(e.what()).find("does not fit") != std::string::npos, e.what());
    }
    g.reset();
    QCOMPARE(g.context_used(), 0);
    QCOMPARE(g.generate(std::vector<int>(8, 100), greedy(1)).tokens.size(), size_t(1));
  }

  void conversation_continues_in_the_same_context() {
    // A second turn appends to the KV cache: it holds every prompt and generated token.
    Generator g(*model_, *tokenizer_);
    GenerateResult r1 = g.generate({tokenizer_->bos_id()}, greedy(20));
    QCOMPARE(g.context_used(), 1 + 20);
    const std::vector<int> more = tokenizer_->encode(" The end.", false);
    GenerateResult r2 = g.generate(more, greedy(10));
    QCOMPARE(g.context_used(), 1 + 20 + int(more.size()) + int(r2.tokens.size()));
  }
};

QTEST_GUILESS_MAIN(GenerateTest)
#include "generate_test.moc"
