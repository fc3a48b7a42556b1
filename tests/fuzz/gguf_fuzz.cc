// gguf_fuzz.cc - libFuzzer entry point for GgufFile::parse_bytes.
//
// Any input must either parse or throw flashchat::Error; on success every metadata getter and
// every supported tensor's bytes are touched so that ASan sees any pointer the parser let
// escape the image.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "formats/dtype.h"
#include "formats/gguf.h"

using flashchat::Error;
using flashchat::GgufFile;

namespace {

template <typename Fn>
void ignore_error(Fn fn) {
  try {
    fn();
  } catch (const Error&) {
  }
}

void touch_file(const GgufFile& f) {
  volatile double sink = 0;
  for (const auto& entry : f.metadata()) {
    const std::string& key = entry.first;  // (clang 14 lambdas cannot capture bindings)
    const flashchat::GgufValue& value = entry.second;
    ignore_error([&] { sink = sink + static_cast<double>(value.as_int()); });
    ignore_error([&] { sink = sink + value.as_double(); });
    ignore_error([&] { sink = sink + static_cast<double>(value.as_bool()); });
    ignore_error([&] { sink = sink + static_cast<double>(value.as_string().size()); });
    ignore_error([&] { sink = sink + static_cast<double>(f.get_int_or(key, 0)); });
    ignore_error([&] { sink = sink + f.get_double_or(key, 0); });
    ignore_error([&] { sink = sink + static_cast<double>(f.get_string_or(key, "").size()); });
    ignore_error([&] { sink = sink + static_cast<double>(f.get_bool_or(key, false)); });
    for (const auto& s : value.array_strings) sink = sink + static_cast<double>(s.size());
    for (double d : value.array_numbers) sink = sink + d;
  }
  float out[64];
  for (const auto& t : f.tensors()) {
    if (f.find_tensor(t.name) != &t) __builtin_trap();
    const uint8_t* p = nullptr;
    try {
      p = f.tensor_data(t);
    } catch (const Error&) {
      if (t.supported) __builtin_trap();  // supported tensors must always be readable
      continue;
    }
    uint8_t x = 0;
    for (uint64_t i = 0; i < t.size_bytes; ++i) x ^= p[i];
    sink = sink + x;
    const int64_t block = flashchat::dtype_block_elems(t.dtype);
    const int64_t n = std::min<int64_t>(t.n_elements(), 64) / block * block;
    if (static_cast<uint64_t>(flashchat::dtype_bytes_for(t.dtype, n)) > t.size_bytes) {
      __builtin_trap();
    }
    flashchat::dtype_to_fp32(t.dtype, p, out, n);
    for (int64_t i = 0; i < n; ++i) sink = sink + out[i];
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const GgufFile f = GgufFile::parse_bytes(data, size, "fuzz.gguf");
    touch_file(f);
  } catch (const Error&) {
  }
  return 0;
}
