// ui_palette_test.cc - the one palette of plotted quantities (ui/common/palette.h):
//   - every colour is one of the eight Okabe-Ito colours;
//   - within each plot the quantities have distinct colours, and the quantities that share a
//     colour across plots are the related pairs the header names (predictors/predictor time,
//     I/O buffers/I/O time, neuron cache/memory management, resident weights/compute);
//   - reference lines are width 1, dashed (RSS dash-dotted), neutral grey, and contrast with
//     both a light and a dark background; every quantity has a name.

#include <QSet>
#include <QtTest>

#include "common/palette.h"

using namespace flashchat::ui;

namespace {

const QSet<QRgb> kOkabeIto = {qRgb(0x00, 0x00, 0x00), qRgb(0xE6, 0x9F, 0x00), qRgb(0x56, 0xB4, 0xE9),
                              qRgb(0x00, 0x9E, 0x73), qRgb(0xF0, 0xE4, 0x42), qRgb(0x00, 0x72, 0xB2),
                              qRgb(0xD5, 0x5E, 0x00), qRgb(0xCC, 0x79, 0xA7), qRgb(0x99, 0x99, 0x99)};

QPalette palette_with(const QColor& window, const QColor& base, const QColor& text) {
  QPalette p;
  p.setColor(QPalette::Window, window);
  p.setColor(QPalette::Base, base);
  p.setColor(QPalette::Text, text);
  return p;
}

// WCAG relative luminance contrast ratio.
double contrast(const QColor& a, const QColor& b) {
  auto lum = [](const QColor& c) {
    auto ch = [](double v) { return v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * ch(c.redF()) + 0.7152 * ch(c.greenF()) + 0.0722 * ch(c.blueF());
  };
  const double la = lum(a), lb = lum(b);
  return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

}  // namespace

class PaletteTest : public QObject {
  Q_OBJECT

 private slots:
  void colours_are_okabe_ito_and_distinct_per_plot() {
    QSet<QRgb> dram, time, churn;
    for (int c = 0; c < kDramCategoryCount; ++c) {
      const QColor col = palette_dram_color(DramCategory(c));
      QVERIFY(kOkabeIto.contains(col.rgb()));
      dram.insert(col.rgb());
      QVERIFY(!palette_dram_name(DramCategory(c)).isEmpty());
    }
    for (int p = 0; p < kTimePartCount; ++p) {
      const QColor col = palette_time_color(TimePart(p));
      QVERIFY(kOkabeIto.contains(col.rgb()));
      time.insert(col.rgb());
      QVERIFY(!palette_time_name(TimePart(p)).isEmpty());
    }
    for (int c = 0; c < kChurnCount; ++c) {
      const QColor col = palette_churn_color(Churn(c));
      QVERIFY(kOkabeIto.contains(col.rgb()));
      churn.insert(col.rgb());
      QVERIFY(!palette_churn_name(Churn(c)).isEmpty());
    }
    QCOMPARE(dram.size(), kDramCategoryCount);
    QCOMPARE(time.size(), kTimePartCount);
    QCOMPARE(churn.size(), kChurnCount);
    // Shared on purpose: the DRAM a part of the work uses and the time it takes.
    QCOMPARE(palette_time_color(TimePart::Predictor), palette_dram_color(DramCategory::Predictors));
    QCOMPARE(palette_time_color(TimePart::Io), palette_dram_color(DramCategory::IoBuffers));
    QCOMPARE(palette_time_color(TimePart::Memory), palette_dram_color(DramCategory::NeuronCache));
    QCOMPARE(palette_time_color(TimePart::Compute),
             palette_dram_color(DramCategory::ResidentWeights));
  }

  void reference_lines_are_thin_dashed_neutral_and_readable() {
    const QPalette light = palette_with(QColor(0xEF, 0xEF, 0xEF), Qt::white, Qt::black);
    const QPalette dark = palette_with(QColor(0x2B, 0x2B, 0x2B), QColor(0x1E, 0x1E, 0x1E),
                                       QColor(0xE6, 0xE6, 0xE6));
    QVERIFY(!palette_is_dark(light));
    QVERIFY(palette_is_dark(dark));
    for (const QPalette& pal : {light, dark}) {
      for (RefLine r : {RefLine::Budget, RefLine::DeviceLimit, RefLine::ProcessRss}) {
        const QPen pen = palette_ref_pen(r, pal);
        QCOMPARE(pen.width(), 1);
        QCOMPARE(pen.style(), r == RefLine::ProcessRss ? Qt::DashDotLine : Qt::DashLine);
        const QColor c = pen.color();
        QCOMPARE(c.red(), c.green());  // grey
        QCOMPARE(c.green(), c.blue());
        QVERIFY2(contrast(c, pal.color(QPalette::Base)) >= 3.0,
                 qPrintable(QString("contrast %1").arg(contrast(c, pal.color(QPalette::Base)))));
        QVERIFY(!palette_ref_name(r).isEmpty());
      }
      // The prompt band is visible but quiet: opaque, close to the background.
      const QColor band = palette_prompt_band_color(pal);
      QCOMPARE(band.alpha(), 255);
      QVERIFY(band != pal.color(QPalette::Base));
      QVERIFY(contrast(band, pal.color(QPalette::Base)) < 1.5);
    }
  }
};

QTEST_MAIN(PaletteTest)
#include "ui_palette_test.moc"
