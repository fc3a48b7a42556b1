// ui_models_test - model management: the conversion dialog converts a GGUF file off the UI thread
// with progress and can be cancelled (nothing left behind), the model list persists with the
// built-in model first, and the model info shows the loaded model's facts and per-layer
// predictor quality.
#include <QDir>
#include <QFileInfo>
#include <QProgressBar>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "bridge/engine_worker.h"
#include "core/resource_paths.h"
#include "models/convert_dialog.h"
#include "models/model_info_dialog.h"
#include "models/model_list.h"

using namespace flashchat;
using namespace flashchat::ui;

namespace {

QString stories_gguf() {
  return QDir(qEnvironmentVariable("FLASHCHAT_FIXTURES_DIR"))
      .filePath(QStringLiteral("models/stories260K/stories260K.gguf"));
}

QStringList leftovers(const QString& out) {
  const QFileInfo fi(out);
  return QDir(fi.absolutePath()).entryList({fi.fileName() + QStringLiteral(".tmp-*")},
                                           QDir::AllEntries | QDir::NoDotAndDotDot);
}

}  // namespace

class UiModelsTest : public QObject {
  Q_OBJECT

 private slots:
  void convert_dialog_converts() {
    QVERIFY2(QFileInfo::exists(stories_gguf()), qPrintable(stories_gguf()));
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("stories-flash"));
    ConvertDialog dlg(stories_gguf(), out);
    QSignalSpy converted(&dlg, &ConvertDialog::converted);
    QSignalSpy finished(&dlg, &QDialog::finished);
    dlg.show();
    int max_progress = 0, progress_updates = 0;
    auto* bar = dlg.findChild<QProgressBar*>();
    QVERIFY(bar);
    connect(bar, &QProgressBar::valueChanged, this, [&](int v) {
      max_progress = std::max(max_progress, v);
      ++progress_updates;
    });
    QElapsedTimer gui;
    gui.start();
    dlg.start();
    QVERIFY(gui.elapsed() < 200);  // start() returns at once: the work runs on its own thread
    QVERIFY(QTest::qWaitFor([&] { return !finished.isEmpty(); }, 300000));
    QVERIFY2(dlg.succeeded(), qPrintable(dlg.errorText()));
    QCOMPARE(converted.size(), 1);
    QCOMPARE(converted[0][0].toString(), out);
    QVERIFY(QFileInfo::exists(QDir(out).filePath(QStringLiteral("manifest.json"))));
    QVERIFY(QFileInfo::exists(QDir(out).filePath(QStringLiteral("ffn.bin"))));
    QVERIFY(progress_updates >= 2);
    QCOMPARE(max_progress, 1000);
    QVERIFY(leftovers(out).isEmpty());
  }

  void convert_dialog_cancels() {
    QTemporaryDir dir;
    const QString out = dir.filePath(QStringLiteral("cancelled"));
    ConvertDialog dlg(stories_gguf(), out);
    QSignalSpy converted(&dlg, &ConvertDialog::converted);
    QSignalSpy finished(&dlg, &QDialog::finished);
    dlg.show();
    dlg.start();
    dlg.reject();  // Cancel: the dialog stays until the converter has cleaned up
    QVERIFY(QTest::qWaitFor([&] { return !finished.isEmpty(); }, 300000));
    QVERIFY(!dlg.succeeded());
    QVERIFY2(dlg.errorText().contains(QStringLiteral("cancelled")), qPrintable(dlg.errorText()));
    QCOMPARE(converted.size(), 0);
    QVERIFY(!QFileInfo::exists(out));
    QVERIFY(leftovers(out).isEmpty());
  }

  void convert_dialog_reports_bad_input() {
    QTemporaryDir dir;
    const QString bad = dir.filePath(QStringLiteral("bad.gguf"));
    QFile f(bad);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("not a model");
    f.close();
    ConvertDialog dlg(bad, dir.filePath(QStringLiteral("out")));
    QSignalSpy finished(&dlg, &QDialog::finished);
    dlg.start();
    QVERIFY(QTest::qWaitFor([&] { return !finished.isEmpty(); }, 60000));
    QVERIFY(!dlg.succeeded());
    QVERIFY(dlg.errorText().contains(QStringLiteral("bad.gguf")));
  }

  void model_list_persists() {
    QTemporaryDir dir;
    {
      ModelList list(dir.path());
      QVERIFY(!list.entries().isEmpty());
      QVERIFY(list.entries().front().builtin);
      QCOMPARE(list.entries().front().path,
               QDir::cleanPath(QString::fromStdString(default_model_path())));
      QCOMPARE(list.add(QStringLiteral("mine"), dir.filePath(QStringLiteral("m1"))), 1);
      QCOMPARE(list.add(QStringLiteral("renamed"), dir.filePath(QStringLiteral("m1/"))), 1);  // same path
      list.add(QStringLiteral("other"), dir.filePath(QStringLiteral("m2")));
      list.remove(0);  // the built-in entry stays
      QCOMPARE(list.entries().size(), 3);
      list.remove(2);
    }
    ModelList again(dir.path());
    QCOMPARE(again.entries().size(), 2);
    QCOMPARE(again.entries()[1].name, QStringLiteral("renamed"));
    QDir().mkpath(dir.filePath(QStringLiteral("models/x-flash")));
    QCOMPARE(QFileInfo(again.convertedPath(QStringLiteral("/a/x.gguf"))).fileName(),
             QStringLiteral("x-flash-2"));  // never an existing directory
  }

  void model_info_of_default_model() {
    EngineHost host;
    std::optional<ModelSummary> m;
    connect(host.worker(), &EngineWorker::modelLoaded, this, [&](const ModelSummary& s) { m = s; });
    host.loadModel(QString::fromStdString(default_model_path()), FfnMode::Flash, 4, 0);
    QVERIFY(QTest::qWaitFor([&] { return m.has_value(); }, 30000));
    QVERIFY(m->flash);
    QVERIFY(m->parameters > 0);
    QCOMPARE(int(m->predictor_metrics.size()), m->n_layers);
    const QString text = model_info_text(*m);
    for (int i = 0; i < m->n_layers; ++i) {
      QVERIFY(text.contains(QStringLiteral("layer %1 predictor: recall").arg(i)));
    }
    QVERIFY(text.contains(QStringLiteral("Minimum budget: flash %1").arg(bytes_text(m->minimum_for(FfnMode::Flash)))));
    ModelInfoDialog dlg(*m);
    auto* table = dlg.findChild<QTableWidget*>();
    QVERIFY(table);
    QCOMPARE(table->rowCount(), m->n_layers);
    const double recall0 = m->predictor_metrics[0].recall;
    QCOMPARE(table->item(0, 0)->text(), QString::number(100 * recall0, 'f', 1) + " %");
  }
};

QTEST_MAIN(UiModelsTest)
#include "ui_models_test.moc"
