#include "formats/gguf.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>
#include <set>

#include "core/error.h"

namespace flashchat {

namespace {

constexpr uint32_t kGgufMagic = 0x46554747u;  // "GGUF" little endian
constexpr uint64_t kDefaultAlignment = 32;
constexpr int kMaxArrayDepth = 8;
constexpr uint32_t kMaxDims = 4;

// Size facts about one ggml type id: elements per block and bytes per block (0 when unknown).
struct GgmlTypeTraits {
  const char* name;
  int64_t block_elems;
  int64_t block_bytes;
};

// Indexed by ggml type id. Ids with no entry (4, 5: removed Q4_2/Q4_3) are unknown.
constexpr GgmlTypeTraits kGgmlTypes[] = {
    {"F32", 1, 4},        {"F16", 1, 2},       {"Q4_0", 32, 18},     {"Q4_1", 32, 20},
    {nullptr, 0, 0},      {nullptr, 0, 0},     {"Q5_0", 32, 22},     {"Q5_1", 32, 24},
    {"Q8_0", 32, 34},     {"Q8_1", 32, 36},    {"Q2_K", 256, 84},    {"Q3_K", 256, 110},
    {"Q4_K", 256, 144},   {"Q5_K", 256, 176},  {"Q6_K", 256, 210},   {"Q8_K", 256, 292},
    {"IQ2_XXS", 256, 66}, {"IQ2_XS", 256, 74}, {"IQ3_XXS", 256, 98}, {"IQ1_S", 256, 50},
    {"IQ4_NL", 32, 18},   {"IQ3_S", 256, 110}, {"IQ2_S", 256, 82},   {"IQ4_XS", 256, 136},
    {"I8", 1, 1},         {"I16", 1, 2},       {"I32", 1, 4},        {"I64", 1, 8},
    {"F64", 1, 8},        {"IQ1_M", 256, 56},  {"BF16", 1, 2},       {"Q4_0_4_4", 0, 0},
    {"Q4_0_4_8", 0, 0},   {"Q4_0_8_8", 0, 0},  {"TQ1_0", 256, 54},   {"TQ2_0", 256, 66},
};
constexpr uint32_t kNumGgmlTypes = sizeof(kGgmlTypes) / sizeof(kGgmlTypes[0]);

const GgmlTypeTraits* ggml_type_traits(uint32_t id) {
  if (id >= kNumGgmlTypes || kGgmlTypes[id].name == nullptr) return nullptr;
  return &kGgmlTypes[id];
}

// The engine's dtype for a ggml type it can read, or false.
bool ggml_type_to_dtype(uint32_t id, DType* out) {
  const GgmlTypeTraits* t = ggml_type_traits(id);
  return t != nullptr && dtype_from_name(t->name, out);
}

const char* gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::U8:
      return "U8";
    case GgufType::I8:
      return "I8";
    case GgufType::U16:
      return "U16";
    case GgufType::I16:
      return "I16";
    case GgufType::U32:
      return "U32";
    case GgufType::I32:
      return "I32";
    case GgufType::F32:
      return "F32";
    case GgufType::BOOL:
      return "BOOL";
    case GgufType::STRING:
      return "STRING";
    case GgufType::ARRAY:
      return "ARRAY";
    case GgufType::U64:
      return "U64";
    case GgufType::I64:
      return "I64";
    case GgufType::F64:
      return "F64";
  }
  return "?";
}

bool gguf_type_valid(uint32_t t) {
  return t <= static_cast<uint32_t>(GgufType::F64);
}

// Smallest number of bytes one stored value of type `t` can occupy (strings: the u64 length,
// arrays: element type + count). Used to reject absurd counts before allocating.
uint64_t gguf_min_value_bytes(GgufType t) {
  switch (t) {
    case GgufType::U8:
    case GgufType::I8:
    case GgufType::BOOL:
      return 1;
    case GgufType::U16:
    case GgufType::I16:
      return 2;
    case GgufType::U32:
    case GgufType::I32:
    case GgufType::F32:
      return 4;
    case GgufType::U64:
    case GgufType::I64:
    case GgufType::F64:
    case GgufType::STRING:
      return 8;
    case GgufType::ARRAY:
      return 12;
  }
  return 1;
}

// Bounds-checked little-endian cursor over the file image. `context` names what is being parsed
// ("metadata pair 3 ('general.name')") so truncation errors say where they happened.
class GgufReader {
 public:
  GgufReader(const uint8_t* data, size_t size, const std::string& source)
      : data_(data), size_(size), source_(source) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  void set_context(std::string context) { context_ = std::move(context); }

  [[noreturn]] void error(const std::string& message) const {
    fail(source_, context_.empty() ? message : context_ + ": " + message);
  }

  void need(uint64_t n, const char* what) const {
    if (n > remaining()) {
      fail(source_, "truncated at byte " + std::to_string(pos_) + " while reading " + what +
                        (context_.empty() ? "" : " of " + context_) + " (need " +
                        std::to_string(n) + " bytes, " + std::to_string(remaining()) + " left)");
    }
  }

  template <typename T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::string read_string(const char* what) {
    const uint64_t len = read<uint64_t>(what);
    need(len, what);
    std::string s(reinterpret_cast<const char*>(data_ + pos_), static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return s;
  }

  void skip_string(const char* what) {
    const uint64_t len = read<uint64_t>(what);
    need(len, what);
    pos_ += static_cast<size_t>(len);
  }

  // Rejects `count` elements of at least `min_bytes` each when they cannot fit in the rest of
  // the file (before anything is allocated for them).
  void check_count(uint64_t count, uint64_t min_bytes, const char* what) const {
    if (min_bytes != 0 && count > remaining() / min_bytes) {
      error(std::string("absurd ") + what + " " + std::to_string(count) + " at byte " +
            std::to_string(pos_) + " (only " + std::to_string(remaining()) +
            " bytes left in the file)");
    }
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  const std::string& source_;
  std::string context_;
};

// Reads one scalar of numeric/bool type `t` as a double (for arrays of numbers).
double read_number(GgufReader& r, GgufType t) {
  switch (t) {
    case GgufType::U8:
      return r.read<uint8_t>("u8");
    case GgufType::I8:
      return r.read<int8_t>("i8");
    case GgufType::U16:
      return r.read<uint16_t>("u16");
    case GgufType::I16:
      return r.read<int16_t>("i16");
    case GgufType::U32:
      return r.read<uint32_t>("u32");
    case GgufType::I32:
      return r.read<int32_t>("i32");
    case GgufType::F32:
      return r.read<float>("f32");
    case GgufType::BOOL:
      return r.read<uint8_t>("bool") != 0 ? 1.0 : 0.0;
    case GgufType::U64:
      return static_cast<double>(r.read<uint64_t>("u64"));
    case GgufType::I64:
      return static_cast<double>(r.read<int64_t>("i64"));
    case GgufType::F64:
      return r.read<double>("f64");
    default:
      r.error("internal: not a numeric type");
  }
}

void read_value(GgufReader& r, GgufType type, GgufValue& out, int depth);

// Reads the body of an ARRAY value (element type, count, elements) into `out`.
void read_array(GgufReader& r, GgufValue& out, int depth) {
  const uint32_t elem_raw = r.read<uint32_t>("array element type");
  if (!gguf_type_valid(elem_raw)) r.error("unknown array element type " + std::to_string(elem_raw));
  const GgufType elem = static_cast<GgufType>(elem_raw);
  const uint64_t count = r.read<uint64_t>("array length");
  r.check_count(count, gguf_min_value_bytes(elem), "array length");
  out.array_type = elem;
  out.array_size = count;
  if (elem == GgufType::STRING) {
    out.array_strings.reserve(static_cast<size_t>(count));
    for (uint64_t i = 0; i < count; ++i) out.array_strings.push_back(r.read_string("string"));
  } else if (elem == GgufType::ARRAY) {
    // Nested arrays are validated and skipped; only the outer count is kept.
    if (depth + 1 >= kMaxArrayDepth) r.error("arrays nested too deeply");
    for (uint64_t i = 0; i < count; ++i) {
      GgufValue inner;
      read_value(r, GgufType::ARRAY, inner, depth + 1);
    }
  } else {
    out.array_numbers.reserve(static_cast<size_t>(count));
    for (uint64_t i = 0; i < count; ++i) out.array_numbers.push_back(read_number(r, elem));
  }
}

void read_value(GgufReader& r, GgufType type, GgufValue& out, int depth) {
  out.type = type;
  switch (type) {
    case GgufType::U8:
      out.scalar = uint64_t{r.read<uint8_t>("u8 value")};
      return;
    case GgufType::U16:
      out.scalar = uint64_t{r.read<uint16_t>("u16 value")};
      return;
    case GgufType::U32:
      out.scalar = uint64_t{r.read<uint32_t>("u32 value")};
      return;
    case GgufType::U64:
      out.scalar = uint64_t{r.read<uint64_t>("u64 value")};
      return;
    case GgufType::I8:
      out.scalar = int64_t{r.read<int8_t>("i8 value")};
      return;
    case GgufType::I16:
      out.scalar = int64_t{r.read<int16_t>("i16 value")};
      return;
    case GgufType::I32:
      out.scalar = int64_t{r.read<int32_t>("i32 value")};
      return;
    case GgufType::I64:
      out.scalar = int64_t{r.read<int64_t>("i64 value")};
      return;
    case GgufType::F32:
      out.scalar = double{r.read<float>("f32 value")};
      return;
    case GgufType::F64:
      out.scalar = double{r.read<double>("f64 value")};
      return;
    case GgufType::BOOL:
      out.scalar = r.read<uint8_t>("bool value") != 0;
      return;
    case GgufType::STRING:
      out.scalar = r.read_string("string value");
      return;
    case GgufType::ARRAY:
      read_array(r, out, depth);
      return;
  }
  r.error("unknown value type " + std::to_string(static_cast<uint32_t>(type)));
}

bool is_integer_type(GgufType t) {
  switch (t) {
    case GgufType::U8:
    case GgufType::I8:
    case GgufType::U16:
    case GgufType::I16:
    case GgufType::U32:
    case GgufType::I32:
    case GgufType::U64:
    case GgufType::I64:
      return true;
    default:
      return false;
  }
}

std::string describe_type(const GgufValue& v) {
  if (v.type == GgufType::ARRAY) return std::string("ARRAY of ") + gguf_type_name(v.array_type);
  return gguf_type_name(v.type);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// GgufValue

bool GgufValue::is_integer() const {
  return is_integer_type(type);
}

int64_t GgufValue::as_int() const {
  if (const auto* u = std::get_if<uint64_t>(&scalar); u != nullptr && is_integer()) {
    if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      throw Error("GGUF value " + std::to_string(*u) + " does not fit in int64");
    }
    return static_cast<int64_t>(*u);
  }
  if (const auto* i = std::get_if<int64_t>(&scalar); i != nullptr && is_integer()) return *i;
  throw Error("GGUF value of type " + describe_type(*this) + " is not an integer");
}

double GgufValue::as_double() const {
  if (is_integer()) {
    if (const auto* u = std::get_if<uint64_t>(&scalar)) return static_cast<double>(*u);
    if (const auto* i = std::get_if<int64_t>(&scalar)) return static_cast<double>(*i);
  }
  if (type == GgufType::F32 || type == GgufType::F64) {
    if (const auto* d = std::get_if<double>(&scalar)) return *d;
  }
  throw Error("GGUF value of type " + describe_type(*this) + " is not a number");
}

bool GgufValue::as_bool() const {
  if (type == GgufType::BOOL) {
    if (const auto* b = std::get_if<bool>(&scalar)) return *b;
  }
  throw Error("GGUF value of type " + describe_type(*this) + " is not a bool");
}

const std::string& GgufValue::as_string() const {
  if (type == GgufType::STRING) {
    if (const auto* s = std::get_if<std::string>(&scalar)) return *s;
  }
  throw Error("GGUF value of type " + describe_type(*this) + " is not a string");
}

int64_t GgufTensorInfo::n_elements() const {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;  // overflow excluded at parse time
  return n;
}

std::string ggml_type_name(uint32_t ggml_type) {
  if (const GgmlTypeTraits* t = ggml_type_traits(ggml_type)) return t->name;
  return "type " + std::to_string(ggml_type);
}

// ---------------------------------------------------------------------------------------------
// parsing

GgufFile GgufFile::open(const std::string& path) {
  return parse(mapped_file_open(path));
}

GgufFile GgufFile::parse_bytes(const uint8_t* data, size_t size, const std::string& name) {
  GgufFile f;
  f.path_ = name;
  auto owned = std::make_shared<std::vector<uint8_t>>(data, data + size);
  f.parse_image(owned->data(), owned->size());
  f.owned_bytes_ = std::move(owned);
  return f;
}

GgufFile GgufFile::parse(std::shared_ptr<MappedFile> file) {
  if (file == nullptr) throw Error("GgufFile::parse: null file");
  GgufFile f;
  f.path_ = file->path();
  f.parse_image(file->data(), file->size_bytes());
  f.file_ = std::move(file);
  return f;
}

void GgufFile::parse_image(const uint8_t* data, size_t size) {
  GgufReader r(data, size, path_);

  const uint32_t magic = r.read<uint32_t>("magic");
  if (magic != kGgufMagic) fail(path_, "not a GGUF file (bad magic)");
  version_ = r.read<uint32_t>("version");
  if (version_ != 2 && version_ != 3) {
    fail(path_, "unsupported GGUF version " + std::to_string(version_) + " (need 2 or 3)");
  }
  const uint64_t n_tensors = r.read<uint64_t>("tensor count");
  const uint64_t n_kv = r.read<uint64_t>("metadata count");
  // key length (8) + value type (4) + smallest value (1)
  r.check_count(n_kv, 13, "metadata count");
  // name length (8) + n_dims (4) + type (4) + offset (8)
  if (n_tensors > r.remaining() / 24) {
    fail(path_, "absurd tensor count " + std::to_string(n_tensors) + " for a " +
                    std::to_string(size) + "-byte file");
  }

  for (uint64_t i = 0; i < n_kv; ++i) {
    r.set_context("metadata pair " + std::to_string(i));
    std::string key = r.read_string("key");
    r.set_context("metadata '" + key + "'");
    const uint32_t type_raw = r.read<uint32_t>("value type");
    if (!gguf_type_valid(type_raw)) r.error("unknown value type " + std::to_string(type_raw));
    GgufValue value;
    read_value(r, static_cast<GgufType>(type_raw), value, 0);
    if (metadata_.count(key) != 0) r.error("duplicate metadata key");
    metadata_.emplace(std::move(key), std::move(value));
  }

  uint64_t alignment = kDefaultAlignment;
  if (const GgufValue* a = find("general.alignment")) {
    if (!a->is_integer()) {
      fail(path_, "general.alignment has type " + describe_type(*a) + ", expected an integer");
    }
    const auto* u = std::get_if<uint64_t>(&a->scalar);
    const auto* s = std::get_if<int64_t>(&a->scalar);
    const uint64_t v = u != nullptr ? *u : (s != nullptr && *s > 0 ? static_cast<uint64_t>(*s) : 0);
    if (v == 0 || (v & (v - 1)) != 0 || v > (uint64_t{1} << 30)) {
      fail(path_, "general.alignment must be a nonzero power of two (at most 2^30), got " +
                      (u != nullptr ? std::to_string(*u) : std::to_string(s ? *s : 0)));
    }
    alignment = v;
  }

  tensors_.reserve(static_cast<size_t>(n_tensors));
  for (uint64_t i = 0; i < n_tensors; ++i) {
    r.set_context("tensor info " + std::to_string(i));
    GgufTensorInfo t;
    t.name = r.read_string("name");
    r.set_context("tensor '" + t.name + "'");
    const uint32_t n_dims = r.read<uint32_t>("n_dims");
    if (n_dims > kMaxDims) r.error("has " + std::to_string(n_dims) + " dimensions (at most 4)");
    int64_t n_elems = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t ne = r.read<uint64_t>("dimension");
      if (ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        r.error("dimension " + std::to_string(d) + " is negative or absurd (" + std::to_string(ne) +
                ")");
      }
      t.ne.push_back(static_cast<int64_t>(ne));
      if (__builtin_mul_overflow(n_elems, static_cast<int64_t>(ne), &n_elems)) {
        r.error("element count overflows");
      }
    }
    t.ggml_type = r.read<uint32_t>("type");
    t.offset = r.read<uint64_t>("offset");
    t.supported = ggml_type_to_dtype(t.ggml_type, &t.dtype);
    if (const GgmlTypeTraits* tt = ggml_type_traits(t.ggml_type); tt && tt->block_bytes > 0) {
      const int64_t row = t.ne.empty() ? 1 : t.ne[0];
      if (row % tt->block_elems != 0) {
        r.error("row length " + std::to_string(row) + " is not a multiple of the " + tt->name +
                " block size " + std::to_string(tt->block_elems));
      }
      int64_t bytes = 0;
      if (__builtin_mul_overflow(n_elems / tt->block_elems, tt->block_bytes, &bytes)) {
        r.error("byte size overflows");
      }
      t.size_bytes = static_cast<uint64_t>(bytes);
    } else if (t.supported) {
      r.error("internal: no size for supported type");  // unreachable
    }
    // Unknown type sizes: size_bytes stays 0 and tensor_data() refuses the tensor.
    if (t.offset % alignment != 0) {
      r.error("offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
              std::to_string(alignment));
    }
    if (tensor_index_.count(t.name) != 0) r.error("duplicate tensor name");
    tensor_index_.emplace(t.name, tensors_.size());
    tensors_.push_back(std::move(t));
  }
  r.set_context("");

  // The data section starts at the next multiple of the alignment. A file with no tensor data
  // (e.g. a vocabulary-only file) may end before that padding.
  const uint64_t header_end = r.pos();
  const uint64_t data_start = (header_end + alignment - 1) / alignment * alignment;
  const uint64_t data_size = data_start < size ? size - data_start : 0;
  data_section_ = data + std::min<uint64_t>(data_start, size);

  for (const GgufTensorInfo& t : tensors_) {
    if (t.offset > data_size || t.size_bytes > data_size - t.offset) {
      fail(path_, "tensor '" + t.name + "' (" + std::to_string(t.size_bytes) +
                      " bytes at data offset " + std::to_string(t.offset) +
                      ") extends beyond the end of the file (data section holds " +
                      std::to_string(data_size) + " bytes)");
    }
  }

  std::vector<size_t> order(tensors_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [this](size_t a, size_t b) { return tensors_[a].offset < tensors_[b].offset; });
  const GgufTensorInfo* prev = nullptr;
  for (size_t idx : order) {
    const GgufTensorInfo& t = tensors_[idx];
    if (t.size_bytes == 0) continue;
    if (prev != nullptr && prev->offset + prev->size_bytes > t.offset) {
      fail(path_, "tensors '" + prev->name + "' and '" + t.name + "' overlap");
    }
    prev = &t;
  }
}

// ---------------------------------------------------------------------------------------------
// lookups

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = metadata_.find(key);
  return it == metadata_.end() ? nullptr : &it->second;
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {

[[noreturn]] void wrong_type(const std::string& path, const std::string& key, const GgufValue& v,
                             const char* expected) {
  fail(path, "metadata key '" + key + "' has type " + describe_type(v) + ", expected " + expected);
}

}  // namespace

std::string GgufFile::get_string(const std::string& key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) fail(path_, "missing metadata key '" + key + "'");
  if (v->type != GgufType::STRING) wrong_type(path_, key, *v, "STRING");
  return v->as_string();
}

int64_t GgufFile::get_int(const std::string& key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) fail(path_, "missing metadata key '" + key + "'");
  if (!v->is_integer()) wrong_type(path_, key, *v, "an integer");
  try {
    return v->as_int();
  } catch (const Error& e) {
    fail(path_, "metadata key '" + key + "': " + e.what());
  }
}

int64_t GgufFile::get_int_or(const std::string& key, int64_t fallback) const {
  return find(key) == nullptr ? fallback : get_int(key);
}

double GgufFile::get_double_or(const std::string& key, double fallback) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return fallback;
  if (!v->is_integer() && v->type != GgufType::F32 && v->type != GgufType::F64) {
    wrong_type(path_, key, *v, "a number");
  }
  return v->as_double();
}

bool GgufFile::get_bool_or(const std::string& key, bool fallback) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return fallback;
  if (v->type != GgufType::BOOL) wrong_type(path_, key, *v, "BOOL");
  return v->as_bool();
}

std::string GgufFile::get_string_or(const std::string& key, const std::string& fallback) const {
  return find(key) == nullptr ? fallback : get_string(key);
}

const uint8_t* GgufFile::tensor_data(const GgufTensorInfo& info) const {
  if (!info.supported) {
    fail(path_,
         "unsupported tensor type " + ggml_type_name(info.ggml_type) + " in tensor " + info.name);
  }
  const GgufTensorInfo* own = find_tensor(info.name);
  if (own == nullptr || own->offset != info.offset || own->size_bytes != info.size_bytes) {
    fail(path_, "tensor " + info.name + " does not belong to this file");
  }
  return data_section_ + own->offset;
}

}  // namespace flashchat
