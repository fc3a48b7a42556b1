// prompt_bos_test.cc - the model's own BOS rule decides how a Session starts a prompt: the tiny
// Llama model (tests/data/tiny_llama) once as shipped (tokenizer_config add_bos_token = true)
// and once with add_bos_token = false, for plain text and for a chat.
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>
#include <nlohmann/json.hpp>

#include "session/session.h"
#include "test_support.h"

using namespace flashchat;

namespace {

// Copies tiny_llama into `dir`, with tokenizer_config.json's add_bos_token set to `add_bos`.
bool tiny_llama_copy(const QString& dir, bool add_bos) {
  const QString src = flashchat_test::test_data_path("tiny_llama");
  for (const char* name : {"config.json", "model.safetensors", "tokenizer.json"}) {
    if (!QFile::copy(src + "/" + name, dir + "/" + name)) return false;
  }
  nlohmann::json config =
      nlohmann::json::parse(flashchat_test::read_all(src + "/tokenizer_config.json"));
  config["add_bos_token"] = add_bos;
  QFile out(dir + "/tokenizer_config.json");
  if (!out.open(QIODevice::WriteOnly)) return false;
  const std::string text = config.dump();
  return out.write(text.data(), static_cast<qint64>(text.size())) ==
         static_cast<qint64>(text.size());
}

std::unique_ptr<Session> open_session(const QString& dir) {
  SessionOptions o;
  o.model_path = dir.toStdString();
  return std::make_unique<Session>(o);
}

}  // namespace

class PromptBosTest : public QObject {
  Q_OBJECT

 private slots:
  void session_follows_add_bos_token() {
    REQUIRE_FIXTURE(flashchat_test::test_data_path("tiny_llama/tokenizer_config.json"));
    QTemporaryDir with_dir, without_dir;
    QVERIFY(with_dir.isValid() && without_dir.isValid());
    QVERIFY(tiny_llama_copy(with_dir.path(), true));
    QVERIFY(tiny_llama_copy(without_dir.path(), false));
    const auto with = open_session(with_dir.path());
    const auto without = open_session(without_dir.path());
    const int bos = with->tokenizer().bos_id();
    QVERIFY(bos >= 0);
    QCOMPARE(without->tokenizer().bos_id(), bos);  // same vocabulary, only the rule differs

    const std::string text = "Once upon a time";
    const std::vector<int> body = with->tokenizer().encode(text, false);
    std::vector<int> with_bos = {bos};
    with_bos.insert(with_bos.end(), body.begin(), body.end());
    QCOMPARE(with->text_tokens(text), with_bos);
    QCOMPARE(without->text_tokens(text), body);

    const std::vector<ChatMessage> chat = {{"user", "Hi"}};
    const std::vector<int> chat_with = with->chat_tokens(chat);
    const std::vector<int> chat_without = without->chat_tokens(chat);
    QCOMPARE(chat_with.front(), bos);
    QVERIFY(chat_without.front() != bos);
    QCOMPARE(std::vector<int>(chat_with.begin() + 1, chat_with.end()), chat_without);
    // An empty prompt still starts from BOS: generation needs a first token.
    QCOMPARE(without->text_tokens(""), std::vector<int>{bos});
  }
};

QTEST_GUILESS_MAIN(PromptBosTest)
#include "prompt_bos_test.moc"
