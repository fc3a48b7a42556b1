// convert_dialog.h - converting a GGUF file or Hugging Face folder into a flash model, off the
// UI thread (flash_convert on its own QThread) with a progress bar, stage, ETA and Cancel.
#pragma once

#include <QDialog>
#include <QElapsedTimer>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QThread>
#include <atomic>
#include <memory>

namespace flashchat::ui {

class ConvertDialog : public QDialog {
  Q_OBJECT
 public:
  ConvertDialog(const QString& input, const QString& out_dir, QWidget* parent = nullptr);
  ~ConvertDialog() override;
  // Starts the conversion (call once, after show()).
  void start();
  QString outputDir() const { return out_dir_; }
  bool succeeded() const { return ok_; }
  QString errorText() const { return error_; }

 public slots:
  void reject() override;  // Esc / Cancel: cancels; closes once the converter has cleaned up

 signals:
  void converted(const QString& out_dir);

 private:
  void onProgress(double fraction, const QString& stage);
  void onDone(bool ok, const QString& error);
  QString input_, out_dir_;
  QProgressBar* bar_;
  QLabel* stage_;
  QLabel* eta_;
  QPushButton* cancel_;
  QThread* thread_ = nullptr;
  std::shared_ptr<std::atomic<bool>> cancel_flag_ = std::make_shared<std::atomic<bool>>(false);
  QElapsedTimer timer_;
  bool ok_ = false;
  bool done_ = false;
  QString error_;
};

}  // namespace flashchat::ui
