// test_support.h - locating fixtures from tests, and small helpers the suites share.
//
// The shared fixtures live beside the checkout (../shared/fixtures, or FLASHCHAT_FIXTURES_DIR).
// A missing fixture fails the test, locally as under CI: a suite that skips what it cannot find
// passes without having tested anything.
#pragma once

#include <QFileInfo>
#include <QString>
#include <QtTest>
#include <string>

#include "session/generator.h"

namespace flashchat_test {

inline QString fixtures_dir() { return qEnvironmentVariable("FLASHCHAT_FIXTURES_DIR"); }
inline QString test_data_dir() { return qEnvironmentVariable("FLASHCHAT_TEST_DATA"); }
inline QString fixture_path(const QString& rel) { return fixtures_dir() + "/" + rel; }
inline QString test_data_path(const QString& rel) { return test_data_dir() + "/" + rel; }

// Greedy decoding of up to n tokens.
inline flashchat::GenerateOptions greedy(int n) {
  flashchat::GenerateOptions o;
  o.max_new_tokens = n;
  o.sampling.temperature = 0.0f;
  return o;
}

}  // namespace flashchat_test

// Fails the current test when `path` (a QString) does not exist, naming the path and where the
// fixtures come from.
#define REQUIRE_FIXTURE(path)                                                                  \
  do {                                                                                         \
    if (!QFileInfo::exists(path)) {                                                            \
      QFAIL(qPrintable("fixture missing: " + (path) +                                          \
                       " (the shared fixtures live in ../shared/fixtures beside the checkout; " \
                       "point FLASHCHAT_FIXTURES_DIR or the CMake cache entry "                 \
                       "FLASHCHAT_FIXTURES_DIR at them)"));                                    \
    }                                                                                          \
  } while (0)
