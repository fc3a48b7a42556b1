// hf_config_fuzz.cc - libFuzzer entry point for a Hugging Face config.json, through
// model_load_hf (which reads by path). Two scratch model directories hold a real tiny
// checkpoint each (tests/data/tiny_llama and tiny_opt: model.safetensors, tokenizer.json,
// tokenizer_config.json); every input becomes the config.json of both, so a config that parses
// is also checked against real tensors (shapes, dtypes, tied heads).
//
// Any input must either load or throw flashchat::Error; a loaded model's tensors are touched.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "fuzz_files.h"
#include "model/model.h"

using flashchat::Error;

namespace {

const std::string kData = FLASHCHAT_SOURCE_DIR "/tests/data/";

std::string model_dir(const char* name) {
  const std::string dir = fuzz_files::scratch_dir() + "/" + name;
  std::filesystem::create_directories(dir);
  for (const char* f : {"model.safetensors", "tokenizer.json", "tokenizer_config.json"}) {
    fuzz_files::copy_into(kData + name, dir, f);
  }
  return dir;
}

void touch(const flashchat::Model& m) {
  volatile int64_t sink = m.bytes().total();
  for (const auto& layer : m.weights.layers) {
    for (const flashchat::Tensor* t : {&layer.wq, &layer.ffn_up, &layer.ffn_down}) {
      if (t->empty()) continue;
      const int64_t n = t->size_bytes();
      if (n > 0) sink = sink + static_cast<const uint8_t*>(t->data)[n - 1];  // ASan: in bounds
    }
  }
  (void)sink;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dirs[] = {model_dir("tiny_llama"), model_dir("tiny_opt")};
  for (const std::string& dir : dirs) {
    fuzz_files::write_file(dir + "/config.json", data, size);
    try {
      touch(*flashchat::model_load_hf(dir));
    } catch (const Error&) {
    }
  }
  return 0;
}
