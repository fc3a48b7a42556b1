// test_support.h - locating fixtures from tests.
//
// The shared fixtures live beside the checkout (../shared/fixtures). When they are missing a
// test is skipped with a message, except under CI (CI=true) where their absence fails the test.
#pragma once

#include <QFileInfo>
#include <QString>
#include <QtTest>
#include <string>

namespace flashchat_test {

inline QString fixtures_dir() { return qEnvironmentVariable("FLASHCHAT_FIXTURES_DIR"); }
inline QString test_data_dir() { return qEnvironmentVariable("FLASHCHAT_TEST_DATA"); }
inline QString fixture_path(const QString& rel) { return fixtures_dir() + "/" + rel; }
inline QString test_data_path(const QString& rel) { return test_data_dir() + "/" + rel; }
inline bool under_ci() { return qEnvironmentVariable("CI") == "true"; }

}  // namespace flashchat_test

// Skips (or, under CI, fails) the current test when `path` (a QString) does not exist.
#define REQUIRE_FIXTURE(path)                                                            \
  do {                                                                                   \
    if (!QFileInfo::exists(path)) {                                                      \
      if (flashchat_test::under_ci()) QFAIL(qPrintable("fixture missing under CI: " + (path))); \
      QSKIP(qPrintable("fixture missing (set FLASHCHAT_FIXTURES_DIR): " + (path)));      \
    }                                                                                    \
  } while (0)
