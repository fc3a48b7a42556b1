// resource_paths.cc - see resource_paths.h.
#include "core/resource_paths.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <vector>

#include "core/error.h"

namespace flashchat {

namespace {

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

std::filesystem::path executable_dir() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : exe.parent_path();
}

}  // namespace

std::string resource_path_find(const std::string& relative) {
  std::vector<std::filesystem::path> roots;
  if (const std::string env = env_or_empty("FLASHCHAT_RESOURCES"); !env.empty()) roots.push_back(env);
  if (const std::filesystem::path exe = executable_dir(); !exe.empty()) {
    roots.push_back(exe / ".." / "share" / "flashchat");
  }
#ifdef FLASHCHAT_SOURCE_DIR
  roots.push_back(std::filesystem::path(FLASHCHAT_SOURCE_DIR) / "resources");
#endif
#ifdef FLASHCHAT_INSTALL_DATADIR
  roots.push_back(std::filesystem::path(FLASHCHAT_INSTALL_DATADIR) / "flashchat");
#endif
  for (const std::filesystem::path& root : roots) {
    std::error_code ec;
    const std::filesystem::path candidate = root / relative;
    if (std::filesystem::exists(candidate, ec)) {
      return std::filesystem::absolute(candidate, ec).lexically_normal().string();
    }
  }
  return "";
}

std::string default_model_path() {
  if (const std::string env = env_or_empty("FLASHCHAT_MODEL"); !env.empty()) return env;
  const std::string path = resource_path_find("models/default");
  if (path.empty()) {
    fail("default model",
         "share/flashchat/models/default was not found next to the program, in "
         "$FLASHCHAT_RESOURCES, in the source tree or in the install prefix; name a model with -m or set FLASHCHAT_MODEL");
  }
  return path;
}

}  // namespace flashchat
