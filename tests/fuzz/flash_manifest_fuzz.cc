// flash_manifest_fuzz.cc - libFuzzer entry point for a flash model's manifest.json, through
// flash_model_open (which reads by path). A scratch model directory holds the shipped default
// model's dram.safetensors, ffn.bin and predictors.safetensors; every input becomes its
// manifest.json, so a manifest that parses is also checked against real files (sizes, layout,
// resident tensors, predictors).
//
// Any input must either open or throw flashchat::Error; an opened model's layout and
// predictors are touched.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "flash/flash_model.h"
#include "fuzz_files.h"

using flashchat::Error;

namespace {

std::string model_dir() {
  const std::string src = FLASHCHAT_SOURCE_DIR "/resources/models/default";
  const std::string dir = fuzz_files::scratch_dir() + "/model";
  std::filesystem::create_directories(dir);
  for (const char* f : {"dram.safetensors", "ffn.bin", "predictors.safetensors"}) {
    fuzz_files::copy_into(src, dir, f);
  }
  return dir;
}

void touch(const flashchat::FlashModel& fm) {
  volatile uint64_t sink = fm.model->bytes().total();
  for (int l = 0; l < fm.ffn.n_layers; ++l) {
    const uint64_t end = fm.ffn.bundle_offset(l, fm.ffn.neurons - 1) + fm.ffn.bundle_bytes;
    if (end > fm.ffn.size_bytes) __builtin_trap();  // the layout must fit ffn.bin
    sink = sink + end;
  }
  for (const flashchat::Predictor& p : fm.predictors) {
    if (p.a.size() != static_cast<size_t>(p.rank) * p.dim ||
        p.b.size() != static_cast<size_t>(p.neurons) * p.rank) {
      __builtin_trap();
    }
    sink = sink + p.a.back() + p.b.back();
  }
  (void)sink;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = model_dir();
  fuzz_files::write_file(dir + "/manifest.json", data, size);
  try {
    touch(*flashchat::flash_model_open(dir));
  } catch (const Error&) {
  }
  return 0;
}
