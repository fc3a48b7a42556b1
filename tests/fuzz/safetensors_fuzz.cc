// safetensors_fuzz.cc - libFuzzer entry point for SafetensorsFile::parse_bytes.
//
// Any input must either parse or throw flashchat::Error; on success all bytes of every tensor
// are read and the first elements converted, so ASan sees any pointer outside the image.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "formats/dtype.h"
#include "formats/safetensors.h"

using flashchat::Error;
using flashchat::SafetensorsFile;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const SafetensorsFile f = SafetensorsFile::parse_bytes(data, size, "fuzz.safetensors");
    volatile float sink = 0;
    for (const auto& [key, value] : f.metadata()) sink = sink + static_cast<float>(value.size());
    float out[64];
    for (const auto& [name, t] : f.tensors()) {
      if (name != t.name) __builtin_trap();
      uint8_t x = 0;
      for (uint64_t i = 0; i < t.size_bytes; ++i) x ^= t.data[i];
      sink = sink + x;
      const int64_t n = std::min<int64_t>(t.n_elements(), 64);
      if (static_cast<uint64_t>(flashchat::dtype_bytes_for(t.dtype, n)) > t.size_bytes) {
        __builtin_trap();
      }
      flashchat::dtype_to_fp32(t.dtype, t.data, out, n);
      for (int64_t i = 0; i < n; ++i) sink = sink + out[i];
    }
  } catch (const Error&) {
  }
  return 0;
}
