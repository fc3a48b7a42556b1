// hf_model_test.cc - Hugging Face checkpoint loading (model_load_hf) and the OPT / Llama forward
// pass against an independent float64 numpy reference.
//
// Fixtures: tests/data/tiny_*/ made by tools/make_reference_models.py (tiny seeded checkpoints
// plus reference.json = logits of a fixed token sequence computed from the model math, using
// the weights exactly as stored). Broken copies for the error tests are written into a
// QTemporaryDir at test time.
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "formats/safetensors.h"
#include "model/model.h"
#include "model/tokenizer.h"
#include "model/transformer.h"
#include "test_support.h"

using namespace flashchat;

namespace {

// Tolerance on every logit: |engine - reference| <= kAbsTol + kRelTol * |reference|. The
// reference runs in float64 on the same (rounded) weights the engine reads, so the only error
// is the engine's fp32 arithmetic (~1e-6 relative per op over a 2-layer, width-32 model with
// logits up to ~30); measured max errors are printed and are well below this.
constexpr double kAbsTol = 1e-4;
constexpr double kRelTol = 1e-5;

QString data_dir(const QString& name) {
  return flashchat_test::test_data_path(name);
}

QJsonObject json_read(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QJsonDocument::fromJson(f.readAll()).object();
}

void file_write(const QString& path, const QByteArray& bytes) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
  QCOMPARE(f.write(bytes), bytes.size());
}

// Copies every file of fixture `name` into `dst`.
bool fixture_copy(const QString& name, const QString& dst) {
  QDir src(data_dir(name));
  if (!src.exists()) return false;
  for (const QString& f : src.entryList(QDir::Files)) {
    QFile::remove(dst + "/" + f);
    if (!QFile::copy(src.filePath(f), dst + "/" + f)) return false;
  }
  return true;
}

// Rewrites <dir>/config.json through `edit`.
void config_edit(const QString& dir, const std::function<void(QJsonObject&)>& edit) {
  QJsonObject o = json_read(dir + "/config.json");
  QVERIFY(!o.isEmpty());
  edit(o);
  file_write(dir + "/config.json", QJsonDocument(o).toJson());
}

// Rewrites a safetensors file: `edit` may drop entries or change shapes (data kept as is).
struct StEntry {
  std::string dtype;
  std::vector<int64_t> shape;
  std::string bytes;
};
void safetensors_edit(const QString& path,
                      const std::function<void(std::map<std::string, StEntry>&)>& edit) {
  std::map<std::string, StEntry> entries;
  {
    SafetensorsFile f = SafetensorsFile::open(path.toStdString());
    for (const auto& [name, t] : f.tensors()) {
      entries[name] = StEntry{dtype_name(t.dtype), t.shape,
                              std::string(reinterpret_cast<const char*>(t.data), t.size_bytes)};
    }
  }
  edit(entries);
  nlohmann::json header = nlohmann::json::object();
  std::string data;
  for (const auto& [name, e] : entries) {
    header[name] = {{"dtype", e.dtype},
                    {"shape", e.shape},
                    {"data_offsets", {data.size(), data.size() + e.bytes.size()}}};
    data += e.bytes;
  }
  std::string h = header.dump();
  while (h.size() % 8 != 0) h += ' ';
  QByteArray out;
  const uint64_t n = h.size();
  out.append(reinterpret_cast<const char*>(&n), 8);
  out.append(h.data(), static_cast<qsizetype>(h.size()));
  out.append(data.data(), static_cast<qsizetype>(data.size()));
  file_write(path, out);
}

// Loads `dir` expecting an Error whose message contains every one of `needles`.
void expect_load_error(const QString& dir, const QStringList& needles) {
  try {
    auto m = model_load_hf(dir.toStdString());
    QFAIL(qPrintable("loaded without error: " + dir));
  } catch (const Error& e) {
    const QString msg = QString::fromStdString(e.what());
    for (const QString& n : needles) {
      if (!msg.contains(n)) QFAIL(qPrintable("error message '" + msg + "' lacks '" + n + "'"));
    }
  }
}

}  // namespace

class HfModelTest : public QObject {
  Q_OBJECT

 private slots:
  void loads_config_data();
  void loads_config();
  void logits_match_reference_data();
  void logits_match_reference();
  void tokenizer_matches_reference_data();
  void tokenizer_matches_reference();
  void dispatches_directories();
  void loads_variants();
  void rejects_bad_config();
  void rejects_bad_weights();
  void rejects_missing_files();
};

static const char* kModels[] = {"tiny_opt", "tiny_opt_untied", "tiny_llama", "tiny_llama_silu",
                                "tiny_llama_drelu"};

void HfModelTest::loads_config_data() {
  QTest::addColumn<QString>("name");
  QTest::addColumn<bool>("opt");
  QTest::addColumn<int>("ffn_dim");
  QTest::addColumn<int>("n_kv_heads");
  QTest::addColumn<int>("activation");
  QTest::addColumn<int>("dtype");
  QTest::addColumn<bool>("tied");
  const int relu = int(Activation::Relu), silu = int(Activation::Silu),
            drelu = int(Activation::DRelu);
  const int f32 = int(DType::F32), f16 = int(DType::F16), bf16 = int(DType::BF16);
  QTest::newRow("tiny_opt") << "tiny_opt" << true << 128 << 4 << relu << f32 << true;
  QTest::newRow("tiny_opt_untied") << "tiny_opt_untied" << true << 128 << 4 << relu << f16 << false;
  QTest::newRow("tiny_llama") << "tiny_llama" << false << 96 << 2 << relu << f16 << false;
  QTest::newRow("tiny_llama_silu") << "tiny_llama_silu" << false << 96 << 2 << silu << bf16 << true;
  QTest::newRow("tiny_llama_drelu")
      << "tiny_llama_drelu" << false << 96 << 2 << drelu << f32 << true;
}

void HfModelTest::loads_config() {
  QFETCH(QString, name);
  QFETCH(bool, opt);
  QFETCH(int, ffn_dim);
  QFETCH(int, n_kv_heads);
  QFETCH(int, activation);
  QFETCH(int, dtype);
  QFETCH(bool, tied);
  const QString dir = data_dir(name);
  REQUIRE_FIXTURE(dir + "/config.json");
  const int vocab =
      json_read(dir + "/tokenizer.json")["model"].toObject()["vocab"].toObject().size();
  auto m = model_load_hf(dir.toStdString());
  const ModelConfig& c = m->config;
  QCOMPARE(c.arch, opt ? Arch::Opt : Arch::Llama);
  QCOMPARE(c.name, name.toStdString());
  QCOMPARE(c.dim, 32);
  QCOMPARE(c.n_layers, 2);
  QCOMPARE(c.n_heads, 4);
  QCOMPARE(c.n_kv_heads, n_kv_heads);
  QCOMPARE(c.head_dim, 8);
  QCOMPARE(c.ffn_dim, ffn_dim);
  QCOMPARE(c.vocab_size, vocab);
  QCOMPARE(c.max_seq_len, 64);
  QCOMPARE(int(c.activation), activation);
  QCOMPARE(c.tied_output, tied);
  QCOMPARE(c.ffn_gated, !opt);
  QCOMPARE(c.has_biases, opt);
  QCOMPARE(c.pos_offset, opt ? 2 : 0);
  QCOMPARE(c.rope_style, opt ? RopeStyle::None : RopeStyle::Halves);
  QCOMPARE(c.norm_eps, opt ? 1e-5f : 1e-6f);
  QCOMPARE(c.rope_theta, 10000.0f);
  QCOMPARE(m->source_format, std::string("safetensors"));
  QCOMPARE(m->source_path, dir.toStdString());
  QCOMPARE(int64_t(m->tokenizer.tokens.size()), int64_t(vocab));
  QCOMPARE(m->tokenizer.kind, opt ? TokenizerKind::ByteBpe : TokenizerKind::Spm);
  QCOMPARE(m->chat_template.empty(), opt);  // the llama fixtures ship a chat_template

  // Matrices keep the stored dtype; vectors are F32; tied heads share the embedding.
  const ModelWeights& w = m->weights;
  QCOMPARE(int(w.token_embd.dtype), dtype);
  QCOMPARE(w.layers.size(), size_t(2));
  for (const LayerWeights& l : w.layers) {
    QCOMPARE(int(l.wq.dtype), dtype);
    QCOMPARE(int(l.ffn_down.dtype), dtype);
    QCOMPARE(l.attn_norm.dtype, DType::F32);
    QCOMPARE(l.ffn_norm.cols, int64_t(32));
    QCOMPARE(l.wk.rows, int64_t(n_kv_heads * 8));
    QCOMPARE(l.ffn_gate.empty(), opt);
    QCOMPARE(l.bq.empty(), !opt);
    QCOMPARE(l.ffn_up_bias.empty(), !opt);
    if (opt) QCOMPARE(l.ffn_up_bias.dtype, DType::F32);
  }
  QCOMPARE(w.output.data == w.token_embd.data, tied);
  QCOMPARE(w.output.rows, int64_t(vocab));
  QCOMPARE(w.pos_embd.rows, opt ? int64_t(66) : int64_t(0));

  // Parameter count from the architecture.
  const int64_t d = 32, f = ffn_dim, kv = n_kv_heads * 8, V = vocab;
  int64_t per_layer = opt ? 4 * d * d + 4 * d + 4 * d + 2 * f * d + f + d
                          : 2 * d * d + 2 * kv * d + 2 * d + 3 * f * d;
  int64_t expected = V * d + 2 * per_layer + (opt ? 2 * d + 66 * d : d) + (tied ? 0 : V * d);
  QCOMPARE(m->parameter_count(), expected);
}

void HfModelTest::logits_match_reference_data() {
  QTest::addColumn<QString>("name");
  for (const char* n : kModels) QTest::newRow(n) << QString(n);
}

void HfModelTest::logits_match_reference() {
  QFETCH(QString, name);
  const QString dir = data_dir(name);
  REQUIRE_FIXTURE(dir + "/reference.json");
  const QJsonObject ref = json_read(dir + "/reference.json");
  const QJsonArray tokens = ref["tokens"].toArray();
  const QJsonArray logits = ref["logits"].toArray();
  QVERIFY(tokens.size() >= 8);
  QCOMPARE(logits.size(), tokens.size());

  auto m = model_load_hf(dir.toStdString());
  Transformer tf(*m, int(tokens.size()), nullptr, KvType::F32);  // vs numpy float logits
  double max_err = 0.0, max_ref = 0.0;
  for (int pos = 0; pos < tokens.size(); ++pos) {
    const float* out = tf.forward(tokens[pos].toInt(), pos);
    const QJsonArray row = logits[pos].toArray();
    QCOMPARE(row.size(), qsizetype(m->config.vocab_size));
    for (int i = 0; i < row.size(); ++i) {
      const double r = row[i].toDouble();
      const double err = std::fabs(double(out[i]) - r);
      max_err = std::max(max_err, err);
      max_ref = std::max(max_ref, std::fabs(r));
      if (!(err <= kAbsTol + kRelTol * std::fabs(r))) {
        QFAIL(qPrintable(QString("%1: pos %2 logit %3: engine %4, reference %5")
                             .arg(name)
                             .arg(pos)
                             .arg(i)
                             .arg(out[i], 0, 'g', 9)
                             .arg(r, 0, 'g', 9)));
      }
    }
  }
  QVERIFY(max_ref > 1.0);  // the reference is not trivially small
  qInfo("%s: max abs logit error %.3g (max |logit| %.3g) over %d positions", qPrintable(name),
        max_err, max_ref, int(tokens.size()));
}

void HfModelTest::tokenizer_matches_reference_data() {
  logits_match_reference_data();
}

void HfModelTest::tokenizer_matches_reference() {
  QFETCH(QString, name);
  const QString dir = data_dir(name);
  REQUIRE_FIXTURE(dir + "/reference.json");
  const QJsonObject ref = json_read(dir + "/reference.json");
  const std::string text = ref["text"].toString().toStdString();
  std::vector<int> want;
  for (const QJsonValue& v : ref["text_ids"].toArray()) want.push_back(v.toInt());
  QVERIFY(!want.empty());
  auto m = model_load_hf(dir.toStdString());
  Tokenizer tok(m->tokenizer);
  QCOMPARE(tok.encode(text, false), want);
  QCOMPARE(tok.decode(want), text);
}

void HfModelTest::dispatches_directories() {
  const QString dir = data_dir("tiny_llama");
  REQUIRE_FIXTURE(dir + "/config.json");
  auto m = model_load(dir.toStdString());
  QCOMPARE(m->source_format, std::string("safetensors"));
  QCOMPARE(m->config.arch, Arch::Llama);
}

// Config variants the fixtures do not cover directly: model_type "mistral", architectures only,
// OPT without biases (enable_bias false) and without LayerNorm affine parameters.
void HfModelTest::loads_variants() {
  REQUIRE_FIXTURE(data_dir("tiny_opt") + "/config.json");
  QTemporaryDir tmp;
  QVERIFY(tmp.isValid());
  const QString dir = tmp.path();

  QVERIFY(fixture_copy("tiny_llama", dir));
  config_edit(dir, [](QJsonObject& o) { o["model_type"] = "mistral"; });
  QCOMPARE(model_load_hf(dir.toStdString())->config.arch, Arch::Llama);
  config_edit(dir, [](QJsonObject& o) {
    o.remove("model_type");
    o.remove("num_key_value_heads");  // defaults to num_attention_heads
    o.remove("rope_theta");           // defaults to 10000
  });
  expect_load_error(dir, {"k_proj.weight", "[16,32]", "[32,32]"});  // now MHA: k is (32, 32)

  // OPT with enable_bias = false: the q/k/v/o and fc biases are not read (LayerNorm biases are).
  QVERIFY(fixture_copy("tiny_opt", dir));
  config_edit(dir, [](QJsonObject& o) { o["enable_bias"] = false; });
  safetensors_edit(dir + "/model.safetensors", [](std::map<std::string, StEntry>& e) {
    for (auto it = e.begin(); it != e.end();) {
      const bool drop = it->first.find("_proj.bias") != std::string::npos ||
                        it->first.find(".fc1.bias") != std::string::npos ||
                        it->first.find(".fc2.bias") != std::string::npos;
      it = drop ? e.erase(it) : std::next(it);
    }
  });
  {
    auto m = model_load_hf(dir.toStdString());
    QVERIFY(!m->config.has_biases);
    QVERIFY(m->weights.layers[0].bq.empty());
    QVERIFY(m->weights.layers[1].ffn_down_bias.empty());
    QVERIFY(!m->weights.layers[0].attn_norm_bias.empty());
    Transformer tf(*m, 4);
    const float* logits = tf.forward(5, 0);
    QVERIFY(std::isfinite(logits[0]));
  }

  // OPT with layer_norm_elementwise_affine = false: LayerNorms become weight 1, bias 0.
  QVERIFY(fixture_copy("tiny_opt", dir));
  config_edit(dir, [](QJsonObject& o) { o["layer_norm_elementwise_affine"] = false; });
  safetensors_edit(dir + "/model.safetensors", [](std::map<std::string, StEntry>& e) {
    for (auto it = e.begin(); it != e.end();) {
      it = it->first.find("layer_norm.") != std::string::npos ? e.erase(it) : std::next(it);
    }
  });
  {
    auto m = model_load_hf(dir.toStdString());
    const LayerWeights& l = m->weights.layers[1];
    for (int i = 0; i < 32; ++i) {
      QCOMPARE(l.ffn_norm.f32()[i], 1.0f);
      QCOMPARE(l.ffn_norm_bias.f32()[i], 0.0f);
      QCOMPARE(m->weights.output_norm.f32()[i], 1.0f);
    }
  }
}

void HfModelTest::rejects_bad_config() {
  REQUIRE_FIXTURE(data_dir("tiny_llama") + "/config.json");
  QTemporaryDir tmp;
  QVERIFY(tmp.isValid());
  const QString dir = tmp.path();
  const QString cfg = dir + "/config.json";

  struct Case {
    const char* fixture;
    std::function<void(QJsonObject&)> edit;
    QStringList needles;
  };
  const std::vector<Case> cases = {
      {"tiny_llama",
       [](QJsonObject& o) {
         o["model_type"] = "gpt_neox";
         o.remove("architectures");
       },
       {cfg, "gpt_neox"}},
      {"tiny_llama", [](QJsonObject& o) { o["hidden_act"] = "tanh"; }, {cfg, "hidden_act", "tanh"}},
      {"tiny_opt",
       [](QJsonObject& o) { o["activation_function"] = "gelu"; },
       {cfg, "activation_function", "gelu"}},
      {"tiny_opt",
       [](QJsonObject& o) { o["do_layer_norm_before"] = false; },
       {cfg, "do_layer_norm_before", "unsupported"}},
      {"tiny_opt",
       [](QJsonObject& o) { o["word_embed_proj_dim"] = 16; },
       {cfg, "word_embed_proj_dim"}},
      {"tiny_llama",
       [](QJsonObject& o) { o.remove("hidden_size"); },
       {cfg, "hidden_size", "missing"}},
      {"tiny_llama",
       [](QJsonObject& o) { o["num_hidden_layers"] = "2"; },
       {cfg, "num_hidden_layers"}},
      {"tiny_llama",
       [](QJsonObject& o) { o["num_attention_heads"] = -4; },
       {cfg, "num_attention_heads"}},
      {"tiny_llama",
       [](QJsonObject& o) { o["num_key_value_heads"] = 3; },
       {cfg, "num_key_value_heads"}},
      {"tiny_llama",
       [](QJsonObject& o) {
         o["rope_scaling"] = QJsonObject{{"type", "linear"}, {"factor", 2.0}};
       },
       {cfg, "rope_scaling"}},
      {"tiny_llama", [](QJsonObject& o) { o["attention_bias"] = true; }, {cfg, "attention_bias"}},
      // A config that disagrees with the weights: the first mismatching tensor is named.
      {"tiny_llama",
       [](QJsonObject& o) { o["intermediate_size"] = 64; },
       {"model.safetensors", "model.layers.0.mlp.gate_proj.weight", "[96,32]", "[64,32]"}},
      {"tiny_opt",
       [](QJsonObject& o) { o["max_position_embeddings"] = 128; },
       {"embed_positions.weight", "[66,32]", "[130,32]"}},
      // Untying a tied checkpoint needs an lm_head it does not have.
      {"tiny_llama_silu",
       [](QJsonObject& o) { o["tie_word_embeddings"] = false; },
       {"model.safetensors.index.json", "lm_head.weight"}},
  };
  for (const Case& c : cases) {
    QVERIFY(fixture_copy(c.fixture, dir));
    config_edit(dir, c.edit);
    expect_load_error(dir, c.needles);
    if (QTest::currentTestFailed()) return;
  }

  // Malformed JSON and a non-object top level.
  QVERIFY(fixture_copy("tiny_opt", dir));
  file_write(cfg, "{\"model_type\": \"opt\", \"hidden_size\": 32,");
  expect_load_error(dir, {cfg, "malformed"});
  file_write(cfg, "[1, 2, 3]");
  expect_load_error(dir, {cfg});
}

void HfModelTest::rejects_bad_weights() {
  REQUIRE_FIXTURE(data_dir("tiny_opt") + "/config.json");
  QTemporaryDir tmp;
  QVERIFY(tmp.isValid());
  const QString dir = tmp.path();
  const QString st = dir + "/model.safetensors";

  // The re-writer itself round-trips: an unmodified rewrite still loads.
  QVERIFY(fixture_copy("tiny_opt", dir));
  safetensors_edit(st, [](std::map<std::string, StEntry>&) {});
  QCOMPARE(model_load_hf(dir.toStdString())->config.vocab_size,
           model_load_hf(data_dir("tiny_opt").toStdString())->config.vocab_size);

  // A missing tensor.
  safetensors_edit(st, [](auto& e) { e.erase("model.decoder.layers.1.fc2.bias"); });
  expect_load_error(dir, {st, "model.decoder.layers.1.fc2.bias"});

  // A wrong shape (same byte size, so the file itself is consistent).
  QVERIFY(fixture_copy("tiny_opt", dir));
  safetensors_edit(st, [](auto& e) {
    e["model.decoder.layers.0.self_attn.q_proj.weight"].shape = {16, 64};
  });
  expect_load_error(dir,
                    {st,
                     "tensor model.decoder.layers.0.self_attn.q_proj.weight has shape [16,64], "
                     "expected [32,32]"});

  // A vector with a matrix shape.
  QVERIFY(fixture_copy("tiny_opt", dir));
  safetensors_edit(st, [](auto& e) { e["model.decoder.final_layer_norm.weight"].shape = {1, 32}; });
  expect_load_error(dir, {st, "model.decoder.final_layer_norm.weight", "[1,32]", "expected [32]"});

  // An untied llama without lm_head.
  QVERIFY(QDir(dir).removeRecursively());
  QVERIFY(QDir().mkpath(dir));
  QVERIFY(fixture_copy("tiny_llama", dir));
  safetensors_edit(st, [](auto& e) { e.erase("lm_head.weight"); });
  expect_load_error(dir, {st, "lm_head.weight"});
}

void HfModelTest::rejects_missing_files() {
  REQUIRE_FIXTURE(data_dir("tiny_llama_silu") + "/config.json");
  QTemporaryDir tmp;
  QVERIFY(tmp.isValid());
  const QString dir = tmp.path();

  expect_load_error(dir + "/nonexistent", {dir + "/nonexistent"});

  QVERIFY(fixture_copy("tiny_llama", dir));
  QVERIFY(QFile::remove(dir + "/config.json"));
  expect_load_error(dir, {dir + "/config.json"});

  QVERIFY(fixture_copy("tiny_llama", dir));
  QVERIFY(QFile::remove(dir + "/tokenizer.json"));
  expect_load_error(dir, {dir + "/tokenizer.json"});

  QVERIFY(fixture_copy("tiny_llama", dir));
  QVERIFY(QFile::remove(dir + "/model.safetensors"));
  expect_load_error(dir, {dir, "model.safetensors"});

  // A sharded checkpoint with one shard gone.
  QVERIFY(QDir(dir).removeRecursively());
  QVERIFY(QDir().mkpath(dir));
  QVERIFY(fixture_copy("tiny_llama_silu", dir));
  QVERIFY(QFile::remove(dir + "/model-00002-of-00002.safetensors"));
  expect_load_error(dir, {"model-00002-of-00002.safetensors"});

  // Malformed tokenizer_config.json (optional, but when present it must parse).
  QVERIFY(fixture_copy("tiny_llama_silu", dir));
  file_write(dir + "/tokenizer_config.json", "{\"chat_template\": ");
  expect_load_error(dir, {dir + "/tokenizer_config.json"});
}

QTEST_GUILESS_MAIN(HfModelTest)
#include "hf_model_test.moc"
