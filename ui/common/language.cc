#include "common/language.h"

#include <QLibraryInfo>
#include <QLocale>
#include <QTranslator>

namespace flashchat::ui {

namespace {

constexpr const char* kSettingsKey = "ui/language";

}  // namespace

QString ui_language_code(UiLanguage lang) {
  switch (lang) {
    case UiLanguage::English:
      return QStringLiteral("en");
    case UiLanguage::Korean:
      return QStringLiteral("ko");
    case UiLanguage::System:
      break;
  }
  return QStringLiteral("system");
}

std::optional<UiLanguage> ui_language_from_code(const QString& code) {
  for (UiLanguage l : {UiLanguage::System, UiLanguage::English, UiLanguage::Korean}) {
    if (code == ui_language_code(l)) return l;
  }
  return std::nullopt;
}

UiLanguage ui_language_saved(const QSettings& settings) {
  return ui_language_from_code(settings.value(kSettingsKey).toString())
      .value_or(UiLanguage::System);
}

void ui_language_save(QSettings& settings, UiLanguage lang) {
  settings.setValue(kSettingsKey, ui_language_code(lang));
}

QString ui_language_install(QCoreApplication& app, UiLanguage lang) {
  QLocale locale = QLocale::system();
  if (lang == UiLanguage::English) locale = QLocale(QLocale::English, QLocale::UnitedStates);
  if (lang == UiLanguage::Korean) locale = QLocale(QLocale::Korean, QLocale::SouthKorea);
  if (lang != UiLanguage::System) QLocale::setDefault(locale);

  auto* own = new QTranslator(&app);
  // QTranslator::load(QLocale, ...) walks the locale's UI languages (ko_KR → ko, en_US → en).
  // A locale without a translation (C, fr_FR, ...) gets English, whose plural forms (%n) the
  // source text alone does not spell out.
  if (!own->load(locale, QStringLiteral("flashchat"), QStringLiteral("_"),
                 QStringLiteral(":/i18n")) &&
      !own->load(QStringLiteral(":/i18n/flashchat_en.qm"))) {
    delete own;
    return QStringLiteral("en");
  }
  QCoreApplication::installTranslator(own);
  // Qt's own strings (standard buttons, file dialogs) when the distribution ships them.
  auto* qt = new QTranslator(&app);
  if (qt->load(locale, QStringLiteral("qtbase"), QStringLiteral("_"),
               QLibraryInfo::path(QLibraryInfo::TranslationsPath))) {
    QCoreApplication::installTranslator(qt);
  } else {
    delete qt;
  }
  return own->language().section(QLatin1Char('_'), 0, 0);
}

}  // namespace flashchat::ui
