#include "models/model_info_dialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QTableWidget>
#include <QVBoxLayout>

namespace flashchat::ui {

namespace {

QString count_text(qint64 n) { return QLocale().toString(n); }

QList<QPair<QString, QString>> facts(const ModelSummary& m) {
  QList<QPair<QString, QString>> f;
  f << qMakePair(ModelInfoDialog::tr("Name"), m.name)
    << qMakePair(ModelInfoDialog::tr("Path"), m.path)
    << qMakePair(ModelInfoDialog::tr("Architecture"),
                 ModelInfoDialog::tr("%1, %2 layers, d %3, %4 heads, FFN %5 neurons/layer (%6)")
                     .arg(m.arch)
                     .arg(m.n_layers)
                     .arg(m.dim)
                     .arg(m.n_heads)
                     .arg(m.ffn_dim)
                     .arg(m.activation))
    << qMakePair(ModelInfoDialog::tr("Parameters"), count_text(m.parameters))
    << qMakePair(
           ModelInfoDialog::tr("Vocabulary / context"),
           ModelInfoDialog::tr("%1 tokens / %2 positions").arg(m.vocab_size).arg(m.context_size))
    << qMakePair(ModelInfoDialog::tr("Chat template"),
                 m.has_chat_template ? ModelInfoDialog::tr("yes")
                                     : ModelInfoDialog::tr("none (a continuation model; turns are "
                                                           "formatted as plain text)"))
    << qMakePair(ModelInfoDialog::tr("Format"), m.flash
                                                    ? ModelInfoDialog::tr("flash model (converted)")
                                                    : ModelInfoDialog::tr("dense (runs in DRAM)"));
  f << qMakePair(
           ModelInfoDialog::tr("Bytes by part"),
           ModelInfoDialog::tr("embeddings %1 · attention %2 · FFN %3%4 · norms %5 · predictors %6")
               .arg(bytes_text(m.bytes_embeddings), bytes_text(m.bytes_attention),
                    bytes_text(m.bytes_ffn),
                    m.flash ? ModelInfoDialog::tr(" (on flash)") : QString(),
                    bytes_text(m.bytes_other), bytes_text(m.bytes_predictors)))
    << qMakePair(ModelInfoDialog::tr("Model size"),
                 bytes_text(m.model_bytes) +
                     ModelInfoDialog::tr(" (%1 bytes)").arg(count_text(m.model_bytes)));
  QStringList mins;
  for (FfnMode md : {FfnMode::Flash, FfnMode::Mmap, FfnMode::Naive, FfnMode::Dram}) {
    mins << QStringLiteral("%1 %2").arg(QString::fromLatin1(ffn_mode_name(md)), bytes_text(m.minimum_for(md)));
  }
  f << qMakePair(ModelInfoDialog::tr("Minimum budget"), mins.join(QStringLiteral(" · ")));
  return f;
}

}  // namespace

QString model_info_text(const ModelSummary& m) {
  QString out;
  for (const auto& [k, v] : facts(m)) out += k + ": " + v + "\n";
  for (size_t i = 0; i < m.predictor_metrics.size(); ++i) {
    out += ModelInfoDialog::tr("layer %1 predictor: recall %L2%, precision %L3%\n")
               .arg(i)
               .arg(100 * m.predictor_metrics[i].recall, 0, 'f', 1)
               .arg(100 * m.predictor_metrics[i].precision, 0, 'f', 1);
  }
  return out;
}

ModelInfoDialog::ModelInfoDialog(const ModelSummary& m, QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Model info — %1").arg(m.name));
  auto* v = new QVBoxLayout(this);
  auto* form = new QFormLayout;
  for (const auto& [k, val] : facts(m)) {
    auto* l = new QLabel(val, this);
    l->setWordWrap(true);
    l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form->addRow(k, l);
  }
  v->addLayout(form);
  if (!m.predictor_metrics.empty()) {
    auto* title = new QLabel(tr("Predictors (measured by the converter on held-out "
                                "calibration tokens)"),
                             this);
    v->addWidget(title);
    auto* table = new QTableWidget(static_cast<int>(m.predictor_metrics.size()), 5, this);
    table->setHorizontalHeaderLabels(
        {tr("Recall"), tr("Precision"), tr("Predicted active"), tr("Truly active"), tr("Rank")});
    for (int i = 0; i < table->rowCount(); ++i) {
      const PredictorInfo& pm = m.predictor_metrics[static_cast<size_t>(i)];
      table->setVerticalHeaderItem(i, new QTableWidgetItem(tr("Layer %1").arg(i)));
      const double vals[] = {pm.recall, pm.precision, pm.predicted_active, pm.true_active};
      for (int c = 0; c < 4; ++c) {
        auto* item =
            new QTableWidgetItem(QLocale().toString(100 * vals[c], 'f', 1) + QStringLiteral(" %"));
        item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        table->setItem(i, c, item);
      }
      auto* rank = new QTableWidgetItem(QString::number(pm.rank));
      rank->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      table->setItem(i, 4, rank);
    }
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    v->addWidget(table);
  }
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  v->addWidget(buttons);
  resize(640, 520);
}

}  // namespace flashchat::ui
