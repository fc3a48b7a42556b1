// fuzz_files.h - for fuzz targets whose parser reads files by path: a private scratch directory
// (in /dev/shm when writable, so each input costs a memory write, not a disk write) and
// whole-file writes. Plain POSIX; aborts on setup failures (they are not findings).
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace fuzz_files {

// Creates (once per process) and returns a fresh directory; removed at exit.
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    std::string base = access("/dev/shm", W_OK) == 0
                           ? "/dev/shm"
                           : std::filesystem::temp_directory_path().string();
    std::string tmpl = base + "/flashchat-fuzz-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    static std::string to_remove;
    to_remove = tmpl;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(to_remove, ec);
    });
    return tmpl;
  }();
  return dir;
}

inline void write_file(const std::string& path, const uint8_t* data, size_t size) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!f) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    std::abort();
  }
}

// dst/name becomes a copy of src_dir/name (setup of a model directory around the fuzzed file).
inline void copy_into(const std::string& src_dir, const std::string& dst_dir, const char* name) {
  std::error_code ec;
  std::filesystem::copy_file(src_dir + "/" + name, dst_dir + "/" + name,
                             std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) {
    std::fprintf(stderr, "cannot copy %s/%s: %s\n", src_dir.c_str(), name, ec.message().c_str());
    std::abort();
  }
}

}  // namespace fuzz_files
