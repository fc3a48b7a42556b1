// safetensors_writer.h - writing a safetensors file (the format safetensors.h reads).
//
// Layout: u64 little-endian header length N, N bytes of JSON header (padded with spaces so the
// data section starts at a multiple of 8), then the tensors' bytes back to back. Tensors are
// laid out by decreasing element size (F32 before F16/BF16, stable otherwise), so every tensor
// starts at a multiple of its element size and the data section has no holes (as the
// reference implementation requires). The file is written atomically (core/file_writer.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "formats/dtype.h"

namespace flashchat {

struct SafetensorsWriteTensor {
  std::string name;
  DType dtype = DType::F32;    // F32, F16, BF16 (standard) or block-quantised (flashchat's files)
  std::vector<int64_t> shape;  // row-major, outermost first
  const void* data = nullptr;  // shape x dtype bytes; must stay valid until the write returns
};

struct SafetensorsWriteResult {
  uint64_t size_bytes = 0;
  uint32_t crc32 = 0;  // of the whole file
};

// The header JSON text (unpadded) and each tensor's data offset for `tensors` (exposed for
// tests). Throws Error naming `path` for duplicate or empty names, unsupported dtypes, or a
// tensor without data.
std::string safetensors_header_json(const std::string& path,
                                    const std::vector<SafetensorsWriteTensor>& tensors,
                                    const std::map<std::string, std::string>& metadata,
                                    std::vector<uint64_t>* offsets = nullptr);

// Writes `tensors` (and optional string metadata) to `path` atomically. Throws Error naming
// the path on any failure; `path` is then left untouched.
SafetensorsWriteResult safetensors_write(const std::string& path,
                                         const std::vector<SafetensorsWriteTensor>& tensors,
                                         const std::map<std::string, std::string>& metadata = {});

}  // namespace flashchat
