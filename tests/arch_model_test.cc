// arch_model_test.cc - Llama 3, Qwen2, Phi-3 and Falcon against an independent forward pass.
//
// Fixtures: tests/data/arch_*/ made by tools/make_arch_models.py: each tiny model (dim 64,
// 2 layers) written as a GGUF (llama.cpp's layout: permuted Llama Q/K, rope_freqs, fused
// attn_qkv, [gate; up] ffn_up, reordered Falcon qkv) and as a Hugging Face folder (HF layout:
// rope_scaling, qkv_proj, gate_up_proj, per-group interleaved query_key_value), with the logits
// of a numpy float64 forward pass on the same (F16-rounded) weights. Both files must give those
// logits, dense (token by token and as one block) and in flash mode with the oracle (the true
// active sets; sparse where the FFN is ReLU). The unsupported variants are refused by name.
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "convert/flash_convert.h"
#include "flash/flash_model.h"
#include "model/model.h"
#include "model/tokenizer.h"
#include "model/transformer.h"
#include "runtime/flash_ffn.h"
#include "test_support.h"

using namespace flashchat;

namespace {

// |engine - reference| <= kAbsTol + kRelTol * |reference| on every logit. The reference is
// float64 on the weights the engine reads, so only the engine's fp32 arithmetic differs (logits
// up to ~45; the measured worst errors are printed).
constexpr double kAbsTol = 2e-4;
constexpr double kRelTol = 1e-5;

struct Reference {
  std::vector<int> tokens;
  std::vector<std::vector<double>> logits;
};

Reference reference_read(const QString& dir) {
  QFile f(dir + "/reference.json");
  Reference r;
  if (!f.open(QIODevice::ReadOnly)) return r;
  const QJsonObject o = QJsonDocument::fromJson(f.readAll()).object();
  for (const QJsonValue& t : o["tokens"].toArray()) r.tokens.push_back(t.toInt());
  for (const QJsonValue& row : o["logits"].toArray()) {
    std::vector<double> v;
    for (const QJsonValue& x : row.toArray()) v.push_back(x.toDouble());
    r.logits.push_back(std::move(v));
  }
  return r;
}

// The worst |a - ref| / (kAbsTol + kRelTol |ref|) over the row (<= 1 passes).
double tolerance_used(const float* a, const std::vector<double>& ref) {
  double worst = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    worst = std::max(worst, std::fabs(a[i] - ref[i]) / (kAbsTol + kRelTol * std::fabs(ref[i])));
  }
  return worst;
}

double max_abs_diff(const float* a, const std::vector<double>& ref) {
  double worst = 0;
  for (size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, std::fabs(a[i] - ref[i]));
  return worst;
}

QString fixture(const QString& name) { return flashchat_test::test_data_path(name); }

// The model file of `name` in `format` ("gguf" or "hf").
std::string model_path(const QString& name, const QString& format) {
  return (fixture(name) + (format == "gguf" ? "/model.gguf" : "/hf")).toStdString();
}

void add_rows() {
  QTest::addColumn<QString>("name");
  QTest::addColumn<QString>("format");
  QTest::addColumn<int>("arch");
  QTest::addColumn<bool>("relu");
  const struct {
    const char* name;
    Arch arch;
    bool relu;
  } models[] = {{"arch_llama3", Arch::Llama, false},
                {"arch_qwen2", Arch::Qwen2, true},
                {"arch_phi3", Arch::Phi3, false},
                {"arch_falcon", Arch::Falcon, false},
                {"arch_falcon_relu", Arch::Falcon, true}};
  for (const auto& m : models) {
    for (const char* format : {"gguf", "hf"}) {
      QTest::newRow(qPrintable(QString("%1/%2").arg(m.name, format)))
          << QString(m.name) << QString(format) << int(m.arch) << m.relu;
    }
  }
}

void file_write(const QString& path, const QByteArray& bytes) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
  QCOMPARE(f.write(bytes), bytes.size());
}

// A copy of fixture `name`'s hf/ folder in `dst` with config.json edited.
void hf_copy_edited(const QString& name, const QString& dst,
                    const std::function<void(QJsonObject&)>& edit) {
  const QDir src(fixture(name) + "/hf");
  for (const QString& f : src.entryList(QDir::Files)) {
    QVERIFY(QFile::copy(src.filePath(f), dst + "/" + f));
  }
  QFile cf(dst + "/config.json");
  QVERIFY(cf.open(QIODevice::ReadOnly));
  QJsonObject o = QJsonDocument::fromJson(cf.readAll()).object();
  cf.close();
  edit(o);
  file_write(dst + "/config.json", QJsonDocument(o).toJson());
}

}  // namespace

class ArchModelTest : public QObject {
  Q_OBJECT

 private slots:
  void dense_logits_match_reference_data() { add_rows(); }
  void dense_logits_match_reference() {
    QFETCH(QString, name);
    QFETCH(QString, format);
    QFETCH(int, arch);
    const Reference ref = reference_read(fixture(name));
    QVERIFY2(!ref.tokens.empty(), qPrintable("no reference.json in " + fixture(name)));
    auto m = model_load(model_path(name, format));
    QCOMPARE(int(m->config.arch), arch);
    QCOMPARE(m->config.dim, 64);
    QCOMPARE(m->config.n_layers, 2);
    const int n = int(ref.tokens.size());
    Transformer t(*m, n, nullptr, KvType::F32);
    double worst = 0, worst_abs = 0;
    for (int p = 0; p < n; ++p) {
      const float* l = t.forward(ref.tokens[size_t(p)], p);
      worst = std::max(worst, tolerance_used(l, ref.logits[size_t(p)]));
      worst_abs = std::max(worst_abs, max_abs_diff(l, ref.logits[size_t(p)]));
    }
    // The same tokens as one block (the batch path: parallel residual, biases, fused views).
    Transformer tb(*m, n, nullptr, KvType::F32);
    const float* lb = tb.forward_batch(ref.tokens.data(), n, 0);
    const double worst_block = tolerance_used(lb, ref.logits.back());
    qInfo("%s %s: max |logit error| %.3g (token by token); tolerance used %.2f, block %.2f",
          qPrintable(name), qPrintable(format), worst_abs, worst, worst_block);
    QVERIFY2(worst <= 1.0, "token-by-token logits differ from the numpy reference");
    QVERIFY2(worst_block <= 1.0, "block logits differ from the numpy reference");
  }

  void flash_oracle_matches_reference_data() { add_rows(); }
  void flash_oracle_matches_reference() {
    QFETCH(QString, name);
    QFETCH(QString, format);
    QFETCH(bool, relu);
    const Reference ref = reference_read(fixture(name));
    QVERIFY(!ref.tokens.empty());
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const std::string out = tmp.filePath("flash").toStdString();
    ConvertOptions co;
    co.train_predictors = false;
    flash_convert(model_path(name, format), out, co);
    auto fm = flash_model_open(out);
    FlashFfnOptions fo;
    fo.mode = FfnMode::Flash;
    fo.oracle = true;
    fo.window = 2;
    FlashFfn ffn(*fm, fo, 0, 0);
    const int n = int(ref.tokens.size());
    Transformer t(*fm->model, n, &ffn, KvType::F32);
    double worst = 0, predicted = 0;
    int layer_tokens = 0;
    for (int p = 0; p < n; ++p) {
      ffn.begin_token();
      const float* l = t.forward(ref.tokens[size_t(p)], p);
      worst = std::max(worst, tolerance_used(l, ref.logits[size_t(p)]));
      TokenTelemetry tel;
      ffn.fill_telemetry(tel);
      for (const LayerTelemetry& lt : tel.layers) {
        predicted += double(lt.neurons_predicted) / fm->ffn.neurons;
        ++layer_tokens;
      }
    }
    QVERIFY(layer_tokens > 0);
    predicted /= layer_tokens;
    qInfo("%s %s flash oracle: tolerance used %.2f, %.1f%% of the neurons active",
          qPrintable(name), qPrintable(format), worst, 100 * predicted);
    QVERIFY2(worst <= 1.0, "flash-mode logits differ from the numpy reference");
    QCOMPARE(fm->model->config.arch, model_load(model_path(name, format))->config.arch);
    // A ReLU FFN runs sparse (random weights: about half the neurons are off); the others
    // (SiLU, GELU) have every neuron active.
    if (relu) {
      QVERIFY2(predicted < 0.8, "a ReLU model's oracle should skip neurons");
    } else {
      QVERIFY2(predicted > 0.99, "a non-ReLU model's oracle keeps every neuron");
    }
  }

  // The ReLU-fied Falcon converted with predictors (trained as for OPT on the calibration text)
  // runs in flash mode on the predicted sets, on English text: the sets are sparse, the
  // predictors find most of the truly active neurons (a random guess of the same size would
  // find ~45%), and the logits stay finite (the error against dense is printed).
  void falcon_relu_runs_sparse_with_predictors() {
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const std::string out = tmp.filePath("flash").toStdString();
    ConvertOptions co;
    co.calib_tokens = 1024;
    co.predictor.rank = 16;
    co.predictor.steps = 200;
    const ConvertReport report = flash_convert(model_path("arch_falcon_relu", "gguf"), out, co);
    QCOMPARE(int(report.metrics.size()), 2);
    auto fm = flash_model_open(out);
    QCOMPARE(int(fm->predictors.size()), 2);
    FlashFfnOptions fo;
    fo.mode = FfnMode::Flash;
    fo.evaluate_predictor = true;
    FlashFfn ffn(*fm, fo, 0, 0);
    // English text like the calibration corpus (not the reference's random ids).
    const std::vector<int> tokens = Tokenizer(fm->model->tokenizer)
        .encode("Once upon a time, a little girl walked to the park with her dog.", false);
    const int n = int(tokens.size());
    QVERIFY(n >= 8);
    auto dense_model = model_load(model_path("arch_falcon_relu", "gguf"));
    Transformer dense(*dense_model, n, nullptr, KvType::F32);
    Transformer t(*fm->model, n, &ffn, KvType::F32);
    int64_t predicted = 0, true_active = 0, true_positive = 0, layer_tokens = 0;
    double worst = 0, max_logit = 0;
    for (int p = 0; p < n; ++p) {
      ffn.begin_token();
      const float* d = dense.forward(tokens[size_t(p)], p);
      const std::vector<double> dl(d, d + dense_model->config.vocab_size);
      for (double x : dl) max_logit = std::max(max_logit, std::fabs(x));
      worst = std::max(worst, max_abs_diff(t.forward(tokens[size_t(p)], p), dl));
      TokenTelemetry tel;
      ffn.fill_telemetry(tel);
      for (const LayerTelemetry& lt : tel.layers) {
        predicted += lt.neurons_predicted;
        true_active += lt.true_active;
        true_positive += lt.true_positive;
        ++layer_tokens;
      }
    }
    const double recall = double(true_positive) / double(std::max<int64_t>(true_active, 1));
    const double fraction = double(predicted) / double(layer_tokens * fm->ffn.neurons);
    qInfo("falcon relu with predictors: recall %.3f, %.1f%% of neurons predicted (%.1f%% truly "
          "active), max |logit - dense| %.3g (max |logit| %.3g); held-out recall %.3f / %.3f",
          recall, 100 * fraction,
          100.0 * double(true_active) / double(layer_tokens * fm->ffn.neurons), worst, max_logit,
          report.metrics[0].recall, report.metrics[1].recall);
    QVERIFY2(fraction < 0.9, "the predicted sets should be sparse");
    QVERIFY2(recall > 0.8, "the predictors should find most active neurons");
    QVERIFY2(std::isfinite(worst), "logits must be finite");
  }

  // Without its rope_freqs the Llama 3 model gives other logits: the fixture is sensitive to the
  // scaling (so the match above is not an accident of short positions).
  void llama3_scaling_matters() {
    const Reference ref = reference_read(fixture("arch_llama3"));
    QVERIFY(!ref.tokens.empty());
    for (const QString format : {"gguf", "hf"}) {
      auto m = model_load(model_path("arch_llama3", format));
      QCOMPARE(m->config.rope_freq_factors.size(), size_t(8));
      QCOMPARE(m->config.rope_theta, 500000.0f);
      m->config.rope_freq_factors.clear();
      const int n = int(ref.tokens.size());
      Transformer t(*m, n, nullptr, KvType::F32);
      double worst = 0;
      for (int p = 0; p < n; ++p) {
        worst = std::max(worst, max_abs_diff(t.forward(ref.tokens[size_t(p)], p),
                                             ref.logits[size_t(p)]));
      }
      qInfo("llama3 %s without scaling: max |logit error| %.3g", qPrintable(format), worst);
      QVERIFY2(worst > 0.1, "dropping the llama3 scaling should change the logits");
    }
  }

  // Falcon-40B's original remote-code config (model_type "RefinedWeb", n_head_kv, no
  // new_decoder_architecture) implies the grouped layout: the same logits.
  void falcon_refinedweb_config_matches_reference() {
    const Reference ref = reference_read(fixture("arch_falcon_relu"));
    QVERIFY(!ref.tokens.empty());
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    hf_copy_edited("arch_falcon_relu", tmp.path(), [](QJsonObject& o) {
      o["model_type"] = "RefinedWeb";
      o["n_head_kv"] = o["num_kv_heads"];
      o.remove("num_kv_heads");
      o.remove("new_decoder_architecture");
      o.remove("architectures");
    });
    auto m = model_load(tmp.path().toStdString());
    QCOMPARE(m->config.n_kv_heads, 2);
    const int n = int(ref.tokens.size());
    Transformer t(*m, n, nullptr, KvType::F32);
    double worst = 0;
    for (int p = 0; p < n; ++p) {
      worst = std::max(worst, tolerance_used(t.forward(ref.tokens[size_t(p)], p),
                                             ref.logits[size_t(p)]));
    }
    QVERIFY2(worst <= 1.0, "RefinedWeb config: logits differ from the numpy reference");
  }

  void configs_read() {
    auto phi = model_load(model_path("arch_phi3", "hf"));
    QCOMPARE(phi->config.max_seq_len, 48);  // capped at sliding_window
    QCOMPARE(model_load(model_path("arch_phi3", "gguf"))->config.max_seq_len, 48);
    auto qwen = model_load(model_path("arch_qwen2", "gguf"));
    QCOMPARE(qwen->config.rope_theta, 1e6f);
    QVERIFY(qwen->config.tied_output);
    QCOMPARE(qwen->config.activation, Activation::Relu);
    auto falcon = model_load(model_path("arch_falcon", "hf"));
    QCOMPARE(falcon->config.n_kv_heads, 1);
    QVERIFY(falcon->config.parallel_residual);
    QCOMPARE(falcon->config.activation, Activation::GeluErf);
    QVERIFY(!falcon->config.ffn_gated);
    QCOMPARE(model_load(model_path("arch_falcon_relu", "hf"))->config.n_kv_heads, 2);
  }

  void info_names_the_architecture_data() { add_rows(); }
  void info_names_the_architecture() {
    QFETCH(QString, name);
    QFETCH(QString, format);
    QFETCH(int, arch);
    const flashchat_test::CliRun r =
        flashchat_test::run_cli({"info", "-m", QString::fromStdString(model_path(name, format))});
    QCOMPARE(r.exit_code, 0);
    VERIFY_CONTAINS(r.out.toStdString(),
                    std::string("architecture:  ") + arch_name(Arch(arch)) + "\n");
    if (Arch(arch) == Arch::Falcon) {
      VERIFY_CONTAINS(r.out.toStdString(), "norm:          LayerNorm");
      VERIFY_CONTAINS(r.out.toStdString(), "parallel attention + FFN");
    }
  }

  void unknown_architectures_are_refused() {
    // GGUF: general.architecture "llama" -> "gemma" (same length, nothing else changes).
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    QFile f(fixture("arch_llama3") + "/model.gguf");
    QVERIFY(f.open(QIODevice::ReadOnly));
    QByteArray bytes = f.readAll();
    const QByteArray key = QByteArray("general.architecture");
    const qsizetype at = bytes.indexOf(key);
    QVERIFY(at > 0);
    const qsizetype value = at + key.size() + 4 + 8;  // type u32, string length u64
    QCOMPARE(bytes.mid(value, 5), QByteArray("llama"));
    bytes.replace(value, 5, "gemma");
    const QString gguf = tmp.filePath("gemma.gguf");
    file_write(gguf, bytes);
    const std::string e = flashchat_test::error_of([&] { model_load(gguf.toStdString()); });
    VERIFY_CONTAINS(e, gguf.toStdString());
    VERIFY_CONTAINS(e, "unsupported architecture 'gemma'");
    const flashchat_test::CliRun r = flashchat_test::run_cli({"info", "-m", gguf});
    QVERIFY(r.exit_code != 0);
    VERIFY_CONTAINS(r.err.toStdString(), "gemma");

    // Hugging Face: model_type "mamba".
    QVERIFY(QDir(tmp.path()).mkdir("mamba"));
    const QString hf = tmp.filePath("mamba");
    hf_copy_edited("arch_qwen2", hf, [](QJsonObject& o) {
      o["model_type"] = "mamba";
      o["architectures"] = QJsonArray{"MambaForCausalLM"};
    });
    const std::string e2 = flashchat_test::error_of([&] { model_load(hf.toStdString()); });
    VERIFY_CONTAINS(e2, (hf + "/config.json").toStdString());
    VERIFY_CONTAINS(e2, "unsupported model_type 'mamba'");
  }

  void unsupported_variants_are_refused_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("value");  // JSON
    QTest::newRow("phi3 longrope")
        << "arch_phi3" << "rope_scaling"
        << R"({"type": "longrope", "short_factor": [1], "long_factor": [2]})";
    QTest::newRow("phi3 partial rotary") << "arch_phi3" << "partial_rotary_factor" << "0.5";
    QTest::newRow("llama yarn") << "arch_llama3" << "rope_scaling"
                                << R"({"rope_type": "yarn", "factor": 4.0})";
    QTest::newRow("falcon alibi") << "arch_falcon" << "alibi" << "true";
    QTest::newRow("falcon bias") << "arch_falcon" << "bias" << "true";
    QTest::newRow("falcon silu") << "arch_falcon" << "activation" << R"("silu")";
  }
  void unsupported_variants_are_refused() {
    QFETCH(QString, name);
    QFETCH(QString, field);
    QFETCH(QString, value);
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QJsonValue v =
        QJsonDocument::fromJson(("{\"v\": " + value + "}").toUtf8()).object()["v"];
    QVERIFY(!v.isUndefined());
    hf_copy_edited(name, tmp.path(), [&](QJsonObject& o) { o[field] = v; });
    const std::string e = flashchat_test::error_of([&] { model_load(tmp.path().toStdString()); });
    VERIFY_CONTAINS(e, (tmp.path() + "/config.json").toStdString());
    VERIFY_CONTAINS(e, ("field '" + field + "'").toStdString());
  }
};

QTEST_GUILESS_MAIN(ArchModelTest)
#include "arch_model_test.moc"
