// flashchat - the desktop app: chat on the flash engine with live memory plots and sliders.
//   flashchat [--version] [--screenshot FILE [--size WxH] [--demo] [--view chat|history|teaching]]
//             [--dark|--light] [--lang ko|en]
// FLASHCHAT_DATA_DIR overrides where the database (flashchat.db), models.json and settings.ini
// live.
#include <QApplication>
#include <QCheckBox>
#include <QCommandLineParser>
#include <QDir>
#include <QEventLoop>
#include <QPalette>
#include <QSettings>
#include <QStyleFactory>
#include <QTemporaryDir>
#include <QTimer>
#include <algorithm>
#include <cstdio>

#include "chat/chat_settings_dialog.h"
#include "common/language.h"
#include "core/error.h"
#include "main_window.h"
#include "storage/db_open.h"
#include "teaching/bundling_figure.h"
#include "teaching/row_matrix.h"
#include "teaching/teaching_view.h"

namespace {

QPalette palette_dark() {
  QPalette p;
  const QColor window(0x2b, 0x2b, 0x2e), base(0x1f, 0x1f, 0x22), text(0xe6, 0xe6, 0xe6);
  p.setColor(QPalette::Window, window);
  p.setColor(QPalette::WindowText, text);
  p.setColor(QPalette::Base, base);
  p.setColor(QPalette::AlternateBase, window);
  p.setColor(QPalette::ToolTipBase, base);
  p.setColor(QPalette::ToolTipText, text);
  p.setColor(QPalette::Text, text);
  p.setColor(QPalette::Button, QColor(0x38, 0x38, 0x3c));
  p.setColor(QPalette::ButtonText, text);
  p.setColor(QPalette::BrightText, Qt::white);
  p.setColor(QPalette::Highlight, QColor(0x3d, 0x7a, 0xc8));
  p.setColor(QPalette::HighlightedText, Qt::white);
  p.setColor(QPalette::Link, QColor(0x6a, 0xb0, 0xf0));
  p.setColor(QPalette::Mid, QColor(0x50, 0x50, 0x55));
  p.setColor(QPalette::PlaceholderText, QColor(0x90, 0x90, 0x90));
  for (auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText}) {
    p.setColor(QPalette::Disabled, role, QColor(0x8a, 0x8a, 0x8e));
  }
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("FlashChat"));
  QApplication::setOrganizationName(QStringLiteral("FlashChat"));
  QApplication::setApplicationVersion(QStringLiteral(FLASHCHAT_VERSION));

  QCommandLineParser cli;
  cli.setApplicationDescription(QStringLiteral(
      "Chat with a model larger than the memory you give it, and watch how it works.\n\n"
      "Environment:\n"
      "  FLASHCHAT_DATA_DIR   where conversations, models.json and settings.ini live\n"
      "  FLASHCHAT_MODEL      the model listed as the default (else the shipped default model)\n"
      "  FLASHCHAT_THEME      dark or light, as --dark or --light"));
  cli.addHelpOption();
  cli.addVersionOption();
  const QCommandLineOption shot(QStringLiteral("screenshot"),
                                QStringLiteral("Save a PNG of the main window and exit"),
                                QStringLiteral("FILE"));
  const QCommandLineOption size(QStringLiteral("size"), QStringLiteral("Window size for --screenshot (default 1280x800)"),
                                QStringLiteral("WxH"), QStringLiteral("1280x800"));
  const QCommandLineOption demo(QStringLiteral("demo"),
                                QStringLiteral("Run the fixed demo script on the default model first "
                                               "(in a scratch data folder unless FLASHCHAT_DATA_DIR is set)"));
  const QCommandLineOption dark(QStringLiteral("dark"), QStringLiteral("Dark palette"));
  const QCommandLineOption light(QStringLiteral("light"), QStringLiteral("Light palette"));
  const QCommandLineOption view(
      QStringLiteral("view"),
      QStringLiteral("Page for --screenshot: chat, history (after --demo: "
                     "its two runs compared), teaching (the teaching "
                     "view, opened before the demo runs) or settings "
                     "(the chat settings dialog, advanced part shown)"),
      QStringLiteral("PAGE"), QStringLiteral("chat"));
  const QCommandLineOption lang(QStringLiteral("lang"),
                                QStringLiteral("Interface language for this run: ko (Korean) or en "
                                               "(English); default: the one chosen in View > "
                                               "Language, else the system locale"),
                                QStringLiteral("LANG"));
  cli.addOptions({shot, size, demo, view, dark, light, lang});
  cli.process(app);

  const QString theme = qEnvironmentVariable("FLASHCHAT_THEME");
  if (cli.isSet(dark) || theme == QLatin1String("dark")) {
    QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    QApplication::setPalette(palette_dark());
  } else if (cli.isSet(light) || theme == QLatin1String("light")) {
    QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    QApplication::setPalette(QApplication::style()->standardPalette());
  }

  // The demo never touches the user's data unless FLASHCHAT_DATA_DIR says where.
  QTemporaryDir scratch;
  QString data_dir = flashchat::ui::data_dir_default();
  if (cli.isSet(demo) && qEnvironmentVariableIsEmpty("FLASHCHAT_DATA_DIR")) data_dir = scratch.path();
  QDir().mkpath(data_dir);

  // The language: --lang, else the saved choice, else the system locale. Before any widget.
  flashchat::ui::UiLanguage language = flashchat::ui::ui_language_saved(
      QSettings(QDir(data_dir).filePath(QStringLiteral("settings.ini")), QSettings::IniFormat));
  if (cli.isSet(lang)) {
    const auto forced = flashchat::ui::ui_language_from_code(cli.value(lang));
    if (!forced || *forced == flashchat::ui::UiLanguage::System) {
      std::fprintf(stderr, "flashchat: --lang wants ko or en\n");
      return 2;
    }
    language = *forced;
  }
  flashchat::ui::ui_language_install(app, language);

  flashchat::ui::DbOpenResult db;
  try {
    db = flashchat::ui::chat_db_open(data_dir, flashchat::ui::database_recovery_ask);
  } catch (const flashchat::Error& e) {
    std::fprintf(stderr, "flashchat: %s\n", e.what());
    return 1;
  }
  if (!db.reader) return 1;  // the user chose to quit
  flashchat::ui::MainWindow window(data_dir, std::move(db));
  const bool teaching = cli.value(view) == QLatin1String("teaching");
  QWidget* pictured = &window;
  if (teaching) {
    window.showTeachingView();  // before the demo, so that it records the run
    pictured = window.teachingView();
    // The picture shows what the predictor missed and predicted in vain.
    if (cli.isSet(shot)) window.teachingView()->setEvaluate(true);
  }
  if (cli.isSet(shot)) {
    const QStringList wh = cli.value(size).split('x');
    const int w = wh.value(0).toInt(), h = wh.value(1).toInt();
    if (w < 320 || h < 240) {
      std::fprintf(stderr, "flashchat: --size wants WxH, e.g. 1280x800\n");
      return 2;
    }
    window.resize(w, h);
    pictured->resize(w, h);
  }
  // The first model loads before the window paints: the engine measures the heap the model
  // open leaves (process-wide), and the GUI's first paint would be counted into it (see the
  // report). A slow load shows the window after 3 s anyway.
  {
    QEventLoop wait;
    QObject::connect(&window, &flashchat::ui::MainWindow::modelReadyChanged, &wait,
                     [&](bool ready) { if (ready) wait.quit(); });
    QObject::connect(window.worker(), &flashchat::ui::EngineWorker::error, &wait, &QEventLoop::quit);
    QTimer::singleShot(3000, &wait, &QEventLoop::quit);
    window.start();
    if (!window.modelReady()) wait.exec();
  }
  window.show();
  if (teaching) window.showTeachingView();
  // The bundling figure of the picture: measured on this disk while the demo runs.
  if (teaching && cli.isSet(shot)) window.teachingView()->bundlingFigure()->measure();

  if (!cli.isSet(shot)) return app.exec();

  const QString file = cli.value(shot);
  int rc = 0;
  const bool history = cli.value(view) == QLatin1String("history");
  const auto grab = [&] {
    if (cli.isSet(demo)) {
      // The demo's last tokens may still be queued for the plots (they redraw on a timer).
      QEventLoop settle;
      QTimer::singleShot(500, &settle, &QEventLoop::quit);
      settle.exec();
    }
    if (history) {
      window.showRunHistory(true);
      QEventLoop settle;  // the replayed plots redraw on their timer
      QTimer::singleShot(300, &settle, &QEventLoop::quit);
      settle.exec();
    }
    if (teaching) {
      // Step back to a generated token two thirds into the run, a what-if at k = 8 beside it.
      flashchat::ui::TeachingView* t = window.teachingView();
      for (int waited_ms = 0; t->bundlingFigure()->measuring() && waited_ms < 20000; waited_ms += 50) {
        QEventLoop settle;
        QTimer::singleShot(50, &settle, &QEventLoop::quit);
        settle.exec();
      }
      t->runWhatIf(8, 0);
      int i = t->run().size() * 2 / 3;
      while (i + 1 < t->run().size() && t->run().at(i).sets.prompt) ++i;
      // ... preferably one whose first layer made room (a hole filled or a row replaced).
      for (int j = i; j < t->run().size(); ++j) {
        const auto& moves = t->run().at(j).moves;
        if (!t->run().at(j).sets.prompt && !moves.empty() &&
            std::any_of(moves.front().begin(), moves.front().end(), [](const flashchat::RowMove& m) {
              return m.kind != flashchat::RowMove::Kind::Append;
            })) {
          i = j;
          break;
        }
      }
      t->selectToken(i);
      // The memory management half-way: a hole being filled by the last row.
      t->rowMatrix()->showStep(t->rowMatrix()->moveCount() / 2);
    }
    if (cli.value(view) == QLatin1String("settings")) {
      window.showChatSettings();
      auto* dialog = window.findChild<flashchat::ui::ChatSettingsDialog*>();
      if (!dialog) {
        std::fprintf(stderr, "flashchat: no chat settings dialog to picture\n");
        rc = 1;
      } else {
        if (auto* advanced = dialog->findChild<QCheckBox*>()) advanced->setChecked(true);
        dialog->adjustSize();
        pictured = dialog;
      }
    }
    if (!pictured->grab().save(file)) {
      std::fprintf(stderr, "flashchat: cannot write %s\n", qPrintable(file));
      rc = 1;
    }
    app.quit();
  };
  if (cli.isSet(demo)) {
    QObject::connect(&window, &flashchat::ui::MainWindow::demoFinished, &app, [&](bool ok) {
      if (!ok) {
        std::fprintf(stderr, "flashchat: the demo did not finish\n");
        rc = 1;
      }
      grab();
    });
    window.startDemo();
  } else {
    // Without the demo: wait until the model is loaded (or 30 s), then grab.
    if (window.modelReady()) {
      QTimer::singleShot(300, &app, grab);
    } else {
      QObject::connect(&window, &flashchat::ui::MainWindow::modelReadyChanged, &app, [&](bool ready) {
        if (ready) QTimer::singleShot(300, &app, grab);
      });
    }
    QTimer::singleShot(30000, &app, [&] {
      std::fprintf(stderr, "flashchat: the model did not load\n");
      rc = 1;
      grab();
    });
  }
  app.exec();
  return rc;
}
