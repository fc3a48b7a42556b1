// tokenizer_json_fuzz.cc - libFuzzer entry point for tokenizer_spec_from_hf_json (a Hugging
// Face tokenizer.json), which reads by path: each input is written to a scratch tokenizer.json.
//
// Any input must either give a TokenizerSpec or throw flashchat::Error. A spec that is accepted
// must also build a Tokenizer (or be refused with Error) whose encode/decode run over a few
// texts (ASCII, multi-byte UTF-8, invalid UTF-8, special-token syntax) without memory errors,
// and every id it produces must be within the vocabulary.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "fuzz_files.h"
#include "model/tokenizer.h"
#include "model/tokenizer_json.h"

using flashchat::Error;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz_files::scratch_dir() + "/tokenizer.json";
  fuzz_files::write_file(path, data, size);
  try {
    flashchat::TokenizerSpec spec = flashchat::tokenizer_spec_from_hf_json(path);
    const int vocab = static_cast<int>(spec.tokens.size());
    const flashchat::Tokenizer tok(std::move(spec));
    for (const char* text :
         {"Hello world", " the  cat\n\tsat", "caf\xc3\xa9 \xe2\x96\x81 \xf0\x9f\x98\x80",
          "\xff\xfe bad \xc3", "<s>[INST] hi [/INST]</s><|endoftext|>"}) {
      for (bool special : {false, true}) {
        const std::vector<int> ids = tok.encode(text, true, special);
        for (int id : ids) {
          if (id < 0 || id >= tok.vocab_size()) __builtin_trap();
        }
        volatile size_t n = tok.decode(ids).size();
        (void)n;
      }
    }
    std::vector<int> all;
    for (int i = 0; i < vocab && i < 4096; ++i) all.push_back(i);
    volatile size_t n = tok.decode(all).size();
    (void)n;
  } catch (const Error&) {
  }
  return 0;
}
