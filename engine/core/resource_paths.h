// resource_paths.h - where FlashChat finds the files it ships: the default model and the default
// calibration text. The same lookup serves the CLI, the GUI and the tests, so an installed
// program, a build tree and a test run all open the same default model.
#pragma once

#include <string>

namespace flashchat {

// Absolute path of the shipped resource `relative` (e.g. "models/default" or
// "calib/default.txt"), the first that exists of:
//   1. $FLASHCHAT_RESOURCES/<relative>
//   2. <directory of the running executable>/../share/flashchat/<relative>   (installed, also
//      relocated: a package unpacked anywhere finds its own files first)
//   3. <source tree this engine was built from>/resources/<relative>        (build tree)
//   4. <install prefix>/share/flashchat/<relative>  (CMAKE_INSTALL_FULL_DATADIR at build time; a
//      program copied out of its prefix; after the source tree so that a build tree's tests never
//      pick up an older installed copy)
// Returns "" when none exists.
std::string resource_path_find(const std::string& relative);

// The model used when the user names none: $FLASHCHAT_MODEL when set, else the shipped default
// flash model ("models/default"). Throws Error with a clear message when neither exists.
std::string default_model_path();

}  // namespace flashchat
