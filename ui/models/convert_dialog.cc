#include "models/convert_dialog.h"

#include <QFileInfo>
#include <QHBoxLayout>
#include <QPointer>
#include <QVBoxLayout>

#include "convert/flash_convert.h"

namespace flashchat::ui {

ConvertDialog::ConvertDialog(const QString& input, const QString& out_dir, QWidget* parent)
    : QDialog(parent), input_(input), out_dir_(out_dir) {
  setWindowTitle(tr("Converting %1").arg(QFileInfo(input).fileName()));
  setMinimumWidth(460);
  auto* v = new QVBoxLayout(this);
  auto* what = new QLabel(tr("Making a flash model: FFN weights laid out as row-column "
                             "bundles on disk, predictors trained on calibration text."),
                          this);
  what->setWordWrap(true);
  v->addWidget(what);
  auto* to = new QLabel(tr("Into: %1").arg(out_dir), this);
  to->setProperty("dim", true);
  to->setWordWrap(true);
  v->addWidget(to);
  bar_ = new QProgressBar(this);
  bar_->setRange(0, 1000);
  v->addWidget(bar_);
  auto* row = new QHBoxLayout;
  stage_ = new QLabel(tr("Starting…"), this);
  eta_ = new QLabel(this);
  row->addWidget(stage_, 1);
  row->addWidget(eta_);
  v->addLayout(row);
  cancel_ = new QPushButton(tr("Cancel"), this);
  auto* brow = new QHBoxLayout;
  brow->addStretch(1);
  brow->addWidget(cancel_);
  v->addLayout(brow);
  connect(cancel_, &QPushButton::clicked, this, &ConvertDialog::reject);
}

ConvertDialog::~ConvertDialog() {
  *cancel_flag_ = true;
  if (thread_) thread_->wait();
}

void ConvertDialog::start() {
  timer_.start();
  const std::string in = input_.toStdString(), out = out_dir_.toStdString();
  auto flag = cancel_flag_;
  QPointer<ConvertDialog> self(this);
  thread_ = QThread::create([this, in, out, flag] {
    ConvertOptions o;
    o.progress = [this, flag](double f, const std::string& stage) {
      const QString s = QString::fromStdString(stage);
      QMetaObject::invokeMethod(this, [this, f, s] { onProgress(f, s); }, Qt::QueuedConnection);
      return !flag->load();
    };
    bool ok = true;
    QString err;
    try {
      flash_convert(in, out, o);
    } catch (const std::exception& e) {
      ok = false;
      err = QString::fromStdString(e.what());
    }
    QMetaObject::invokeMethod(this, [this, ok, err] { onDone(ok, err); }, Qt::QueuedConnection);
  });
  thread_->setParent(this);
  thread_->start();
}

void ConvertDialog::onProgress(double fraction, const QString& stage) {
  bar_->setValue(static_cast<int>(fraction * 1000));
  stage_->setText(stage);
  const double s = timer_.elapsed() / 1000.0;
  if (fraction > 0.02 && fraction < 1) {
    const int left = static_cast<int>(s / fraction * (1 - fraction) + 0.5);
    eta_->setText(tr("about %1:%2 left").arg(left / 60).arg(left % 60, 2, 10, QLatin1Char('0')));
  }
}

void ConvertDialog::onDone(bool ok, const QString& error) {
  done_ = true;
  ok_ = ok;
  error_ = error;
  if (thread_) thread_->wait();
  if (ok) {
    emit converted(out_dir_);
    accept();
  } else {
    QDialog::reject();
  }
}

void ConvertDialog::reject() {
  if (done_) {
    QDialog::reject();
    return;
  }
  *cancel_flag_ = true;
  cancel_->setEnabled(false);
  stage_->setText(tr("Cancelling…"));  // onDone closes the dialog
}

}  // namespace flashchat::ui
