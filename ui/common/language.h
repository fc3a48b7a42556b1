// language.h - the GUI language: the saved choice (System / English / 한국어 in View ▸ Language),
// the `--lang` override, and installing the translators (FlashChat's .qm files are embedded as
// resources under :/i18n by qt_add_translations; Qt's own come from the Qt installation).
#pragma once

#include <QCoreApplication>
#include <QSettings>
#include <QString>
#include <optional>

namespace flashchat::ui {

enum class UiLanguage { System, English, Korean };

// "system", "en", "ko" (the settings value and the --lang argument).
QString ui_language_code(UiLanguage lang);
// nullopt for anything else.
std::optional<UiLanguage> ui_language_from_code(const QString& code);

// The choice saved under "ui/language" (System when unset or unknown).
UiLanguage ui_language_saved(const QSettings& settings);
void ui_language_save(QSettings& settings, UiLanguage lang);

// Installs FlashChat's translator (and Qt's, when the installation has one) for `lang` on `app`
// and makes QLocale's default follow it (number formatting); System follows QLocale::system().
// Returns the language the translations are in: "ko", "en" (the source language, also when no
// translation for the system locale exists). Call once, before any widget is created. Throws
// nothing: a missing translation leaves the English source text.
QString ui_language_install(QCoreApplication& app, UiLanguage lang);

}  // namespace flashchat::ui
