// MainWindow: telemetry to the status strip and the live panel, look, and the --demo script.
#include <QApplication>
#include <QStatusBar>
#include <QStyleHints>

#include "main_window.h"
#if __has_include("plots/live_panel.h")
#include "plots/live_panel.h"
#define FLASHCHAT_HAVE_LIVE_PANEL 1
#endif

namespace flashchat::ui {

QLabel* MainWindow::statusField(const QString& name) const { return status_.value(name); }

void MainWindow::onTelemetry(const TokenTelemetry& t) {
  last_ = t;
  have_telemetry_ = true;
  if (generating_ && !run_uid_.isEmpty()) writer_->appendTelemetry(run_uid_, t);
  context_used_ = t.pos + 1;
  if (!t.prompt) {
    gen_ms_sum_ += t.total_ms;
    ++gen_count_;
  }
#ifdef FLASHCHAT_HAVE_LIVE_PANEL
  live_panel_->appendTelemetry(t);
#endif
  if (demo_step_ >= 0 && !t.prompt) ++demo_reply_tokens_;
  // Status at most every 100 ms (telemetry may arrive at hundreds per second).
  static QElapsedTimer throttle;
  if (!throttle.isValid() || throttle.elapsed() >= 100) {
    throttle.restart();
    updateStatus();
  }
  if (demo_step_ == 2 && demo_reply_tokens_ == 12) {
    demo_step_ = 3;
    // 75% of the model -> 73% (at least 5% above the short-chat minimum): the neuron cache
    // shrinks, and the KV cache still has room to grow to the full context at k = 8.
    controls_->setBudget(std::max(controls_->minimumBudget() + model_.model_bytes / 20,
                                  model_.model_bytes * 73 / 100));
  } else if (demo_step_ == 3 && demo_reply_tokens_ == 24) {
    demo_step_ = 4;
    controls_->setWindow(8);
  }
}

void MainWindow::updateStatus() {
  const auto set = [this](const char* name, const QString& text) {
    status_[QString::fromLatin1(name)]->setText(text);
  };
  if (model_ready_) {
    set("model", model_.name);
  }
  const QString mode = have_telemetry_ ? QString::fromStdString(last_.mode)
                                       : QString::fromLatin1(ffn_mode_name(controls_->mode()));
  set("mode", tr("mode %1 · k %2")
                  .arg(mode)
                  .arg(have_telemetry_ ? last_.window_requested : controls_->window()));
  set("speed", gen_count_ > 0 ? tr("%L1 tok/s").arg(1000.0 * gen_count_ / gen_ms_sum_, 0, 'f', 1)
                              : tr("— tok/s"));
  set("ttft", ttft_ms_ >= 0 ? tr("TTFT %L1 ms").arg(ttft_ms_, 0, 'f', 0) : tr("TTFT —"));
  QLabel* prompt = status_["prompt"];
  const bool prompting = generating_ && prompt_total_ > 0 && prompt_done_ < prompt_total_;
  prompt->setVisible(prompting);
  if (prompting) {
    prompt->setText(tr("prompt %1/%2 (%3%)")
                        .arg(prompt_done_)
                        .arg(prompt_total_)
                        .arg(100 * prompt_done_ / prompt_total_));
  }
  set("context", tr("context %1/%2").arg(context_used_).arg(model_.context_size));
  if (have_telemetry_) {
    set("dram",
        tr("DRAM %1 / %2").arg(bytes_text(last_.dram.total()), bytes_text(last_.budget_bytes)));
    set("rss", tr("RSS %1").arg(bytes_text(last_.process_rss_bytes)));
  } else {
    set("dram", tr("DRAM — / %1").arg(bytes_text(budget_bytes_)));
    set("rss", tr("RSS —"));
  }
}

void MainWindow::applyStyle() {
  const QPalette p = palette();
  const bool dark = p.color(QPalette::Window).lightness() < 128;
  const QColor user = dark ? QColor(0x2b, 0x3a, 0x4a) : QColor(0xe8, 0xf0, 0xfa);
  const QColor card = dark ? QColor(0x33, 0x33, 0x38) : QColor(0xf4, 0xf4, 0xf2);
  const QColor error = dark ? QColor(0x4a, 0x2a, 0x2a) : QColor(0xfd, 0xec, 0xea);
  const QColor errorBorder = dark ? QColor(0xc0, 0x60, 0x50) : QColor(0xd5, 0x5e, 0x00);
  const QColor border = p.color(QPalette::Mid);
  const QColor code = dark ? QColor(0x22, 0x22, 0x26) : QColor(0xf6, 0xf6, 0xf6);
  // Secondary text: the text colour 40% of the way to the background (readable on both).
  const QColor fg = p.color(QPalette::WindowText), bg = p.color(QPalette::Window);
  const QColor dim((fg.red() * 6 + bg.red() * 4) / 10, (fg.green() * 6 + bg.green() * 4) / 10,
                   (fg.blue() * 6 + bg.blue() * 4) / 10);
  setStyleSheet(QStringLiteral(
      "#chatColumn { background: %1; }"
      "#userMessage { background: %2; border-radius: 8px; }"
      "#assistantMessage { background: transparent; border-left: 3px solid %6; }"
      "#infoCard { background: %3; border: 1px solid %6; border-radius: 8px; }"
      "#errorCard { background: %4; border: 1px solid %5; border-radius: 8px; }"
      "#codeBox { background: %7; border: 1px solid %6; border-radius: 4px; }"
      "#modelBar { border-bottom: 1px solid %6; }"
      "#composer { border-top: 1px solid %6; }"
      "#livePlaceholder { color: palette(mid); }"
      "QLabel[dim=\"true\"] { color: %8; }"
      "QStatusBar::item { border: none; }"
      "QStatusBar QLabel { padding: 0px 10px 0px 0px; margin-right: 2px; border-right: 1px solid %6; }")
                    .arg(p.color(QPalette::Base).name(), user.name(), card.name(), error.name(),
                         errorBorder.name(), border.name(), code.name(), dim.name()));
}

void MainWindow::startDemo() {
  demo_step_ = 0;
  demo_reply_tokens_ = 0;
  demo_timeout_.setSingleShot(true);
  demo_timeout_.start(180000);
  connect(&demo_timeout_, &QTimer::timeout, this, [this] {
    demo_step_ = -1;
    emit demoFinished(false);
  });
  const auto begin = [this] {
    const QString id = conversations_->create();
    Conversation c = *conversations_->find(id);
    c.title = tr("River walk (demo)");
    c.sampling.seed = 42;
    c.sampling.max_tokens = 40;
    conversations_->update(c);
    selectConversation(id);
    demo_step_ = 1;
    sendMessage(QStringLiteral("The old man walked along the river"));
  };
  connect(this, &MainWindow::replyFinished, this, [this] {
    if (demo_step_ == 1) {
      demo_step_ = 2;
      demo_reply_tokens_ = 0;
      sendMessage(QStringLiteral("What did he see on the water?"));
    } else if (demo_step_ >= 2) {
      demo_step_ = -1;
      demo_timeout_.stop();
      QTimer::singleShot(600, this, [this] { emit demoFinished(true); });  // idle
    }
  });
  if (model_ready_) {
    begin();
  } else {
    auto* once = new QObject(this);
    connect(this, &MainWindow::modelReadyChanged, once, [once, begin](bool ready) {
      if (!ready) return;
      once->deleteLater();
      begin();
    });
  }
}

}  // namespace flashchat::ui
