// ui_translation_test - the Korean translation reaches real widgets: with ui_language_install
// (Korean) the main window's menu titles, the composer's Send button, the chat settings dialog
// and the run controls show the translations translations/flashchat_ko.ts holds for them (read
// from the .ts itself, so the test fails when the translator is not installed or the embedded
// .qm does not match); numbers follow the Korean locale; the language choice round-trips
// through the settings and the View ▸ Language menu shows it; the teaching view's controls and
// the chat's token-cost popup (a free function, its own context) come out in Korean too.
#include <QCheckBox>
#include <QFile>
#include <QLabel>
#include <QMenuBar>
#include <QPushButton>
#include <QTemporaryDir>
#include <QXmlStreamReader>
#include <QtTest>

#include "chat/chat_settings_dialog.h"
#include "common/language.h"
#include "main_window.h"
#include "teaching/bundling_figure.h"
#include "teaching/row_matrix.h"
#include "teaching/teaching_view.h"
#include "teaching/token_cost.h"

using namespace flashchat::ui;

namespace {

// The translation translations/flashchat_<lang>.ts holds for `source` in `context` (empty if none).
QString ts_translation(const QString& lang, const QString& context, const QString& source) {
  QFile f(QStringLiteral(FLASHCHAT_SOURCE_DIR "/translations/flashchat_%1.ts").arg(lang));
  if (!f.open(QIODevice::ReadOnly)) return {};
  QXmlStreamReader x(&f);
  QString ctx, src;
  while (!x.atEnd()) {
    x.readNext();
    if (!x.isStartElement()) continue;
    if (x.name() == QLatin1String("name"))
      ctx = x.readElementText();
    else if (x.name() == QLatin1String("source"))
      src = x.readElementText();
    else if (x.name() == QLatin1String("translation") && ctx == context && src == source) {
      return x.readElementText(QXmlStreamReader::IncludeChildElements).trimmed();
    }
  }
  return {};
}

QString ko(const char* context, const char* source) {
  return ts_translation(QStringLiteral("ko"), QString::fromLatin1(context),
                        QString::fromUtf8(source));
}

bool has_hangul(const QString& s) {
  for (QChar c : s) {
    if (c.unicode() >= 0xAC00 && c.unicode() <= 0xD7A3) return true;
  }
  return false;
}

}  // namespace

class UiTranslationTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    QVERIFY(QFile::exists(QStringLiteral(":/i18n/flashchat_ko.qm")));
    QVERIFY(QFile::exists(QStringLiteral(":/i18n/flashchat_en.qm")));
    QCOMPARE(ui_language_install(*QCoreApplication::instance(), UiLanguage::Korean),
             QStringLiteral("ko"));
  }

  void language_codes_round_trip() {
    QTemporaryDir dir;
    QSettings s(dir.filePath(QStringLiteral("settings.ini")), QSettings::IniFormat);
    QCOMPARE(ui_language_saved(s), UiLanguage::System);  // unset
    for (UiLanguage l : {UiLanguage::English, UiLanguage::Korean, UiLanguage::System}) {
      ui_language_save(s, l);
      QCOMPARE(ui_language_saved(s), l);
      QCOMPARE(ui_language_from_code(ui_language_code(l)), std::optional<UiLanguage>(l));
    }
    QVERIFY(!ui_language_from_code(QStringLiteral("fr")).has_value());
    s.setValue(QStringLiteral("ui/language"), QStringLiteral("klingon"));
    QCOMPARE(ui_language_saved(s), UiLanguage::System);
  }

  void main_window_shows_korean() {
    QTemporaryDir dir;
    {
      QSettings s(dir.filePath(QStringLiteral("settings.ini")), QSettings::IniFormat);
      ui_language_save(s, UiLanguage::Korean);
    }
    MainWindow w(dir.path());
    QStringList titles;
    for (QAction* a : w.menuBar()->actions()) titles << a->text();
    const QStringList want{
        ko("flashchat::ui::MainWindow", "&File"), ko("flashchat::ui::MainWindow", "&Chat"),
        ko("flashchat::ui::MainWindow", "&Model"), ko("flashchat::ui::MainWindow", "&View")};
    for (const QString& t : want) QVERIFY2(has_hangul(t), qPrintable(t));  // the .ts has Korean
    QCOMPARE(titles, want);

    const QString send = ko("flashchat::ui::Composer", "Send");
    QVERIFY(has_hangul(send));
    QCOMPARE(w.composer()->sendButton()->text(), send);

    // The run controls' labels and the window-size plural form (Korean: one form).
    QStringList labels;
    for (QLabel* l : w.controls()->findChildren<QLabel*>()) labels << l->text();
    QVERIFY2(labels.contains(ko("flashchat::ui::EngineControls", "&Budget")),
             qPrintable(labels.join('|')));

    // View ▸ Language shows the saved choice.
    auto* lang = w.findChild<QMenu*>(QStringLiteral("languageMenu"));
    QVERIFY(lang);
    QCOMPARE(lang->title(), ko("flashchat::ui::MainWindow", "&Language (applies at next start)"));
    QStringList checked;
    for (QAction* a : lang->actions()) {
      if (a->isChecked()) checked << a->data().toString();
    }
    QCOMPARE(checked, QStringList{QStringLiteral("ko")});
  }

  void settings_dialog_and_presets_in_korean() {
    ChatSettingsDialog d;
    QCOMPARE(d.windowTitle(), ko("flashchat::ui::ChatSettingsDialog", "Chat settings"));
    auto* preset = d.findChild<QComboBox*>();
    QVERIFY(preset);
    const int i = preset->findData(QStringLiteral("Balanced"));
    QVERIFY(i >= 0);
    QCOMPARE(preset->itemText(i), ko("flashchat::ui::ChatSampling", "Balanced"));
    // Choosing the translated item still applies the (English-keyed) preset.
    ChatSampling s;
    s.temperature = 0.0;
    d.setValues(QStringLiteral("t"), {}, s);
    QSignalSpy changed(&d, &ChatSettingsDialog::changed);
    emit preset->activated(i);
    QCOMPARE(changed.size(), 1);
    QCOMPARE(d.sampling().temperature,
             chat_preset_apply(QStringLiteral("Balanced"), s).temperature);
  }

  void teaching_view_in_korean() {
    TeachingView v;
    auto* evaluate = v.findChild<QCheckBox*>(QStringLiteral("evaluatePredictor"));
    auto* live = v.findChild<QCheckBox*>(QStringLiteral("liveStep"));
    QVERIFY(evaluate && live);
    QVERIFY(has_hangul(evaluate->text()));
    QCOMPARE(evaluate->text(), ko("flashchat::ui::TeachingView", "Evaluate the predictor"));
    QCOMPARE(live->text(), ko("flashchat::ui::TeachingView", "Step the engine"));
    QStringList buttons;
    for (QPushButton* b : v.bundlingFigure()->findChildren<QPushButton*>()) buttons << b->text();
    QVERIFY2(buttons.contains(ko("flashchat::ui::BundlingFigure", "Measure my disk")),
             qPrintable(buttons.join('|')));
    QCOMPARE(v.rowMatrix()->summary(),
             ko("flashchat::ui::RowMatrix", "Select a token: its memory management appears here."));
  }

  void token_cost_popup_in_korean() {
    flashchat::TokenTelemetry t;
    t.index = 41;
    t.mode = "flash";
    t.read_requests = 12;
    t.bytes_read = 2048;
    t.window_requested = t.window_in_force = 4;
    t.total_ms = 1.5;
    t.ffn_neurons_total = 6144;
    t.layers.resize(2);
    t.layers[0].neurons_predicted = 1500;
    const QString popup = token_cost_text(t, 2, QStringLiteral("dog"));
    const QString first = ko("flashchat::ui::TokenCost",
                             "<b>“%1”</b> · token %2 of the reply (pass %3, %4 mode)<br>");
    QVERIFY(has_hangul(first));
    QVERIFY2(popup.startsWith(
                 first.arg(QStringLiteral("dog")).arg(3).arg(41).arg(QStringLiteral("flash"))),
             qPrintable(popup));
    // The plural entry (Korean: one form) with its count; counts in the Korean locale (1,500).
    QString read =
        ko("flashchat::ui::TokenCost", "Read %1 in %n requests · window k = %2 (in force %3)<br>");
    QVERIFY(has_hangul(read));
    read.replace(QStringLiteral("%n"), QStringLiteral("12"));
    QVERIFY2(popup.contains(read.arg(QStringLiteral("2.00 KiB")).arg(4).arg(4)), qPrintable(popup));
    QVERIFY2(popup.contains(QLocale().toString(1500)), qPrintable(popup));
  }

  void numbers_and_bytes_follow_the_locale() {
    QCOMPARE(QLocale().language(), QLocale::Korean);
    // bytes_text keeps the unit (MB) and formats the number with the locale's separators.
    QCOMPARE(bytes_text(5300000),
             QLocale(QLocale::Korean).toString(5.3, 'f', 1) + QStringLiteral(" MB"));
    QCOMPARE(bytes_text(0), ko("flashchat::ui::EngineWorker", "unlimited"));
  }
};

QTEST_MAIN(UiTranslationTest)
#include "ui_translation_test.moc"
