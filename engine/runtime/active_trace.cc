// active_trace.cc - gzip stream of per-token active-set bitsets.
#include "runtime/active_trace.h"

#include <zlib.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/dtype.h"

namespace flashchat {
namespace {

constexpr char kMagic[] = "FCTRACE1\n";
constexpr size_t kMagicBytes = sizeof(kMagic) - 1;
constexpr size_t kMaxHeaderBytes = 1 << 20;

// Fixed part of a token record, little-endian: fixed_bytes (8), window (4), budget (8), kind (1:
// 0 generated, 1 prompt token, 2 prompt block).
constexpr size_t kTokenBytes = 8 + 4 + 8 + 1;

template <class T>
void put(uint8_t*& p, T v) {
  std::memcpy(p, &v, sizeof(T));
  p += sizeof(T);
}
template <class T>
T get(const uint8_t*& p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  p += sizeof(T);
  return v;
}

size_t bitset_bytes(const FlashLayout& l) { return (static_cast<size_t>(l.neurons) + 7) / 8; }

nlohmann::json header_to_json(const ActiveTraceHeader& h) {
  const FlashLayout& l = h.layout;
  return {{"model", h.model},
          {"dtype", dtype_name(l.dtype)},
          {"dim", l.dim},
          {"neurons", l.neurons},
          {"n_layers", l.n_layers},
          {"gated", l.gated},
          {"bundle_bytes", l.bundle_bytes},
          {"layer_offsets", l.layer_offsets},
          {"size_bytes", l.size_bytes},
          {"oracle", h.oracle},
          {"bundling", h.bundling},
          {"direct_io", h.direct_io},
          {"request_bytes", h.request_bytes},
          {"io_buffer_rows", h.io_buffer_rows},
          {"io_plan_bytes", h.io_plan_bytes},
          {"open_fixed_bytes", h.open_fixed_bytes},
          {"fresh", h.fresh},
          {"prefetch", h.prefetch}};
}

ActiveTraceHeader header_from_json(const nlohmann::json& j, const std::string& path) {
  ActiveTraceHeader h;
  FlashLayout& l = h.layout;
  h.model = j.at("model").get<std::string>();
  const std::string dt = j.at("dtype").get<std::string>();
  bool known = false;
  for (DType t : {DType::F32, DType::F16, DType::BF16}) {
    if (dt == dtype_name(t)) l.dtype = t, known = true;
  }
  if (!known) fail(path, "trace header: unknown dtype " + dt);
  l.dim = j.at("dim").get<int>();
  l.neurons = j.at("neurons").get<int>();
  l.n_layers = j.at("n_layers").get<int>();
  l.gated = j.at("gated").get<bool>();
  l.bundle_bytes = j.at("bundle_bytes").get<int64_t>();
  l.layer_offsets = j.at("layer_offsets").get<std::vector<uint64_t>>();
  l.size_bytes = j.at("size_bytes").get<uint64_t>();
  h.oracle = j.at("oracle").get<bool>();
  h.bundling = j.at("bundling").get<bool>();
  h.direct_io = j.at("direct_io").get<bool>();
  h.request_bytes = j.at("request_bytes").get<int64_t>();
  h.io_buffer_rows = j.at("io_buffer_rows").get<int32_t>();
  h.io_plan_bytes = j.at("io_plan_bytes").get<int64_t>();
  h.open_fixed_bytes = j.at("open_fixed_bytes").get<int64_t>();
  h.fresh = j.at("fresh").get<bool>();
  h.prefetch = j.value("prefetch", false);
  if (l.neurons <= 0 || l.n_layers <= 0 || l.bundle_bytes <= 0 || h.request_bytes <= 0 ||
      h.io_buffer_rows <= 0 || static_cast<int>(l.layer_offsets.size()) != l.n_layers) {
    fail(path, "trace header: inconsistent layout");
  }
  return h;
}

}  // namespace

ActiveTraceWriter::ActiveTraceWriter(const std::string& path, const ActiveTraceHeader& header)
    : path_(path), layout_(header.layout) {
  gz_ = gzopen(path.c_str(), "wb6");
  if (gz_ == nullptr) fail(path, "cannot write the trace");
  const std::string head = std::string(kMagic) + header_to_json(header).dump() + "\n";
  if (gzwrite(static_cast<gzFile>(gz_), head.data(), static_cast<unsigned>(head.size())) !=
      static_cast<int>(head.size())) {
    fail(path, "cannot write the trace header");
  }
  bits_.resize(kTokenBytes + bitset_bytes(layout_) * static_cast<size_t>(layout_.n_layers));
}

ActiveTraceWriter::~ActiveTraceWriter() {
  if (gz_ != nullptr) gzclose(static_cast<gzFile>(gz_));
}

void ActiveTraceWriter::append(const ActiveTraceToken& t) {
  if (gz_ == nullptr) fail(path_, "trace already closed");
  if (static_cast<int>(t.active.size()) != layout_.n_layers) {
    fail(path_, "trace token with " + std::to_string(t.active.size()) + " layers, expected " +
                    std::to_string(layout_.n_layers));
  }
  std::fill(bits_.begin(), bits_.end(), 0);
  uint8_t* p = bits_.data();
  put<int64_t>(p, t.fixed_bytes);
  put<int32_t>(p, t.window);
  put<int64_t>(p, t.budget_bytes);
  put<uint8_t>(p, t.block ? 2 : t.prompt ? 1 : 0);
  const size_t per_layer = bitset_bytes(layout_);
  for (const auto& set : t.active) {
    for (const int32_t n : set) {
      if (n < 0 || n >= layout_.neurons) fail(path_, "trace: neuron id out of range");
      p[n / 8] = static_cast<uint8_t>(p[n / 8] | (1u << (n % 8)));
    }
    p += per_layer;
  }
  if (gzwrite(static_cast<gzFile>(gz_), bits_.data(), static_cast<unsigned>(bits_.size())) !=
      static_cast<int>(bits_.size())) {
    fail(path_, "cannot write the trace");
  }
  ++tokens_;
}

void ActiveTraceWriter::close() {
  if (gz_ == nullptr) return;
  const int rc = gzclose(static_cast<gzFile>(gz_));
  gz_ = nullptr;
  if (rc != Z_OK) fail(path_, "cannot finish the trace");
}

ActiveTrace active_trace_read(const std::string& path) {
  gzFile gz = gzopen(path.c_str(), "rb");
  if (gz == nullptr) fail(path, "cannot open the trace");
  struct Close {
    gzFile g;
    ~Close() { gzclose(g); }
  } close{gz};
  char magic[kMagicBytes];
  if (gzread(gz, magic, kMagicBytes) != static_cast<int>(kMagicBytes) ||
      std::memcmp(magic, kMagic, kMagicBytes) != 0) {
    fail(path, "not a FlashChat trace (no FCTRACE1 header)");
  }
  std::string line;
  for (int c; (c = gzgetc(gz)) != '\n';) {
    if (c < 0 || line.size() > kMaxHeaderBytes) fail(path, "trace header truncated");
    line.push_back(static_cast<char>(c));
  }
  ActiveTrace trace;
  try {
    trace.header = header_from_json(nlohmann::json::parse(line), path);
  } catch (const nlohmann::json::exception& e) {
    fail(path, std::string("trace header: ") + e.what());
  }
  const FlashLayout& l = trace.header.layout;
  const size_t per_layer = bitset_bytes(l);
  std::vector<uint8_t> rec(kTokenBytes + per_layer * static_cast<size_t>(l.n_layers));
  for (;;) {
    const int got = gzread(gz, rec.data(), static_cast<unsigned>(rec.size()));
    if (got == 0) break;
    if (got != static_cast<int>(rec.size())) {
      fail(path, "trace truncated after " + std::to_string(trace.tokens.size()) + " tokens");
    }
    const uint8_t* p = rec.data();
    ActiveTraceToken t;
    t.fixed_bytes = get<int64_t>(p);
    t.window = get<int32_t>(p);
    t.budget_bytes = get<int64_t>(p);
    const uint8_t kind = get<uint8_t>(p);
    t.prompt = kind != 0;
    t.block = kind == 2;
    t.active.resize(static_cast<size_t>(l.n_layers));
    for (auto& set : t.active) {
      for (int32_t n = 0; n < l.neurons; ++n) {
        if (p[n / 8] & (1u << (n % 8))) set.push_back(n);
      }
      p += per_layer;
    }
    trace.tokens.push_back(std::move(t));
  }
  return trace;
}

}  // namespace flashchat
