// gguf_test.cc - GgufFile against the real fixtures, against small in-memory images built by a
// test-only writer, and against malformed images (every one must throw flashchat::Error).
#include "formats/gguf.h"

#include <QtTest>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "core/error.h"
#include "formats/dtype.h"
#include "test_support.h"

using flashchat::DType;
using flashchat::Error;
using flashchat::GgufFile;
using flashchat::GgufType;

namespace {

// Builds GGUF images byte by byte, following the layout in gguf.h.
class GgufWriter {
 public:
  explicit GgufWriter(uint32_t version = 3) : version_(version) {}

  template <typename T>
  static void put(std::vector<uint8_t>& out, T v) {
    uint8_t b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out.insert(out.end(), b, b + sizeof(T));
  }
  static void put_string(std::vector<uint8_t>& out, const std::string& s) {
    put<uint64_t>(out, s.size());
    out.insert(out.end(), s.begin(), s.end());
  }

  // A metadata pair whose value bytes (after the type) are given raw.
  void kv_raw(const std::string& key, uint32_t type, const std::vector<uint8_t>& value) {
    put_string(kv_, key);
    put<uint32_t>(kv_, type);
    kv_.insert(kv_.end(), value.begin(), value.end());
    ++n_kv_;
  }
  template <typename T>
  void kv(const std::string& key, GgufType type, T v) {
    std::vector<uint8_t> b;
    put<T>(b, v);
    kv_raw(key, static_cast<uint32_t>(type), b);
  }
  void kv_string(const std::string& key, const std::string& s) {
    std::vector<uint8_t> b;
    put_string(b, s);
    kv_raw(key, static_cast<uint32_t>(GgufType::STRING), b);
  }
  template <typename T>
  void kv_array(const std::string& key, GgufType elem, const std::vector<T>& values) {
    std::vector<uint8_t> b;
    put<uint32_t>(b, static_cast<uint32_t>(elem));
    put<uint64_t>(b, values.size());
    for (T v : values) put<T>(b, v);
    kv_raw(key, static_cast<uint32_t>(GgufType::ARRAY), b);
  }
  void kv_strings(const std::string& key, const std::vector<std::string>& values) {
    std::vector<uint8_t> b;
    put<uint32_t>(b, static_cast<uint32_t>(GgufType::STRING));
    put<uint64_t>(b, values.size());
    for (const auto& v : values) put_string(b, v);
    kv_raw(key, static_cast<uint32_t>(GgufType::ARRAY), b);
  }

  // A tensor info; its bytes are appended to the data section at `offset` (or at the next
  // aligned position when offset is UINT64_MAX).
  void tensor(const std::string& name, std::vector<uint64_t> ne, uint32_t type,
              const std::vector<uint8_t>& bytes, uint64_t offset = UINT64_MAX) {
    if (offset == UINT64_MAX) {
      offset = (data_.size() + alignment_ - 1) / alignment_ * alignment_;
    }
    if (!bytes.empty()) {
      if (data_.size() < offset + bytes.size()) data_.resize(offset + bytes.size());
      std::memcpy(data_.data() + offset, bytes.data(), bytes.size());
    }
    put_string(infos_, name);
    put<uint32_t>(infos_, static_cast<uint32_t>(ne.size()));
    for (uint64_t n : ne) put<uint64_t>(infos_, n);
    put<uint32_t>(infos_, type);
    put<uint64_t>(infos_, offset);
    ++n_tensors_;
  }
  void set_alignment(uint64_t a) { alignment_ = a; }
  void set_tensor_count(uint64_t n) { n_tensors_ = n; }
  void set_kv_count(uint64_t n) { n_kv_ = n; }

  std::vector<uint8_t> build() const {
    std::vector<uint8_t> out = {'G', 'G', 'U', 'F'};
    put<uint32_t>(out, version_);
    put<uint64_t>(out, n_tensors_);
    put<uint64_t>(out, n_kv_);
    out.insert(out.end(), kv_.begin(), kv_.end());
    out.insert(out.end(), infos_.begin(), infos_.end());
    if (!data_.empty()) {
      out.resize((out.size() + alignment_ - 1) / alignment_ * alignment_);
      out.insert(out.end(), data_.begin(), data_.end());
    }
    return out;
  }

 private:
  uint32_t version_;
  uint64_t n_kv_ = 0, n_tensors_ = 0, alignment_ = 32;
  std::vector<uint8_t> kv_, infos_, data_;
};

template <typename T>
std::vector<uint8_t> bytes_of(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

GgufFile parse(const std::vector<uint8_t>& image, const std::string& name = "mem.gguf") {
  return GgufFile::parse_bytes(image.data(), image.size(), name);
}

// Parses `image` expecting an Error whose message starts with the name and contains `needle`.
void expect_error(const std::vector<uint8_t>& image, const std::string& needle) {
  try {
    parse(image, "bad.gguf");
  } catch (const Error& e) {
    const std::string msg = e.what();
    QVERIFY2(msg.rfind("bad.gguf: ", 0) == 0, msg.c_str());
    QVERIFY2(msg.find(needle) != std::string::npos, (msg + "  [wanted: " + needle + "]").c_str());
    return;
  }
  QFAIL(("no error; expected: " + needle).c_str());
}

// A small valid file with one tensor of each supported type plus an unsupported IQ2_XXS one.
struct SmallModel {
  std::vector<float> f32{1.5f, -2.0f, 0.0f, 3.25f, 1e-3f, -7.0f};
  std::vector<uint16_t> f16, bf16;
  std::vector<uint8_t> q8, q4, iq2;
  GgufWriter w;

  SmallModel() {
    for (float v : f32) f16.push_back(flashchat::fp32_to_fp16(v));
    for (float v : f32) bf16.push_back(flashchat::fp32_to_bf16(v));
    // Q8_0 block: d = 0.5, q[i] = i - 16.
    q8.resize(34);
    const uint16_t half = flashchat::fp32_to_fp16(0.5f);
    std::memcpy(q8.data(), &half, 2);
    for (int i = 0; i < 32; ++i) q8[2 + i] = static_cast<uint8_t>(static_cast<int8_t>(i - 16));
    // Q4_0 block: d = 0.25, low nibble of byte i = i, high nibble = 15 - i.
    q4.resize(18);
    const uint16_t quarter = flashchat::fp32_to_fp16(0.25f);
    std::memcpy(q4.data(), &quarter, 2);
    for (int i = 0; i < 16; ++i) q4[2 + i] = static_cast<uint8_t>(i | (15 - i) << 4);
    iq2.assign(66, 0x11);

    w.kv_string("general.architecture", "llama");
    w.kv<uint32_t>("llama.embedding_length", GgufType::U32, 3);
    w.tensor("f32", {3, 2}, 0, bytes_of(f32));
    w.tensor("f16", {6}, 1, bytes_of(f16));
    w.tensor("bf16", {2, 3}, 30, bytes_of(bf16));
    w.tensor("q8", {32}, 8, q8);
    w.tensor("q4", {32, 1}, 2, q4);
    w.tensor("blk.0.ffn_up.weight", {256}, 16, iq2);
  }
};

}  // namespace

class GgufTest : public QObject {
  Q_OBJECT

 private slots:
  void parsesStories260K() {
    const QString path = flashchat_test::fixture_path("models/stories260K/stories260K.gguf");
    REQUIRE_FIXTURE(path);
    const GgufFile f = GgufFile::open(path.toStdString());
    QCOMPARE(f.version(), 3u);
    QCOMPARE(f.get_string("general.architecture"), std::string("llama"));
    const int64_t dim = f.get_int("llama.embedding_length");
    QCOMPARE(dim, int64_t{64});
    const int64_t n_layers = f.get_int("llama.block_count");
    QCOMPARE(n_layers, int64_t{5});
    QCOMPARE(f.get_int("llama.attention.head_count"), int64_t{8});
    QCOMPARE(f.get_int("llama.attention.head_count_kv"), int64_t{4});
    QVERIFY(std::abs(f.get_double_or("llama.attention.layer_norm_rms_epsilon", 0) - 1e-5) < 1e-9);

    const flashchat::GgufValue* tokens = f.find("tokenizer.ggml.tokens");
    QVERIFY(tokens != nullptr);
    QCOMPARE(tokens->type, GgufType::ARRAY);
    QCOMPARE(tokens->array_type, GgufType::STRING);
    QCOMPARE(tokens->array_strings.size(), size_t{512});
    QCOMPARE(tokens->array_size, uint64_t{512});
    QCOMPARE(f.find("tokenizer.ggml.scores")->array_numbers.size(), size_t{512});
    QCOMPARE(f.find("tokenizer.ggml.token_type")->array_numbers.size(), size_t{512});

    // 9 tensors per block + token_embd, output_norm, output.
    QCOMPARE(f.tensors().size(), static_cast<size_t>(9 * n_layers + 3));
    const flashchat::GgufTensorInfo* emb = f.find_tensor("token_embd.weight");
    QVERIFY(emb != nullptr);
    QCOMPARE(emb->ne, (std::vector<int64_t>{64, 512}));
    QVERIFY(emb->supported);
    QCOMPARE(emb->dtype, DType::F32);
    QCOMPARE(emb->size_bytes, uint64_t{64 * 512 * 4});
    QVERIFY(f.find_tensor("blk.4.ffn_down.weight") != nullptr);
    QCOMPARE(f.find_tensor("blk.0.ffn_down.weight")->ne, (std::vector<int64_t>{172, 64}));
    QVERIFY(f.find_tensor("output_norm.weight") != nullptr);
    QVERIFY(f.find_tensor("blk.5.attn_q.weight") == nullptr);
    for (const auto& t : f.tensors()) {
      QVERIFY(t.supported);
      QCOMPARE(t.size_bytes, static_cast<uint64_t>(t.n_elements()) * 4);
      QVERIFY(f.tensor_data(t) != nullptr);
    }

    // The legacy llama2.c file holds byte-identical weights: 7 int32 header, then the
    // token embedding table.
    const QString bin = flashchat_test::fixture_path("models/stories260K/stories260K.bin");
    if (QFileInfo::exists(bin)) {
      std::ifstream in(bin.toStdString(), std::ios::binary);
      std::vector<char> head(7 * 4 + emb->size_bytes);
      QVERIFY(in.read(head.data(), static_cast<std::streamsize>(head.size())).good());
      QVERIFY(std::memcmp(head.data() + 28, f.tensor_data(*emb), emb->size_bytes) == 0);
    }
  }

  void parsesVocabOnlyFixtures() {
    for (const char* rel :
         {"tokenizers/ggml-vocab-gpt-2.gguf", "tokenizers/ggml-vocab-llama-spm.gguf"}) {
      const QString path = flashchat_test::fixture_path(rel);
      REQUIRE_FIXTURE(path);
      const GgufFile f = GgufFile::open(path.toStdString());
      QCOMPARE(f.tensors().size(), size_t{0});
      const auto* tokens = f.find("tokenizer.ggml.tokens");
      QVERIFY(tokens != nullptr);
      QVERIFY(tokens->array_strings.size() > 1000);
      QCOMPARE(f.find("tokenizer.ggml.token_type")->array_numbers.size(),
               tokens->array_strings.size());
      QVERIFY(!f.get_string("tokenizer.ggml.model").empty());
    }
  }

  void metadataOfEveryType() {
    GgufWriter w;
    w.kv<uint8_t>("u8", GgufType::U8, 250);
    w.kv<int8_t>("i8", GgufType::I8, -100);
    w.kv<uint16_t>("u16", GgufType::U16, 65535);
    w.kv<int16_t>("i16", GgufType::I16, -32768);
    w.kv<uint32_t>("u32", GgufType::U32, 4000000000u);
    w.kv<int32_t>("i32", GgufType::I32, -2000000000);
    w.kv<float>("f32", GgufType::F32, 0.375f);
    w.kv<uint8_t>("bool_t", GgufType::BOOL, 1);
    w.kv<uint8_t>("bool_f", GgufType::BOOL, 0);
    w.kv_string("str", std::string("h\xc3\xa9llo\0x", 8));
    w.kv_string("empty", "");
    w.kv<uint64_t>("u64", GgufType::U64, std::numeric_limits<uint64_t>::max());
    w.kv<uint64_t>("u64_small", GgufType::U64, 123);
    w.kv<int64_t>("i64", GgufType::I64, std::numeric_limits<int64_t>::min());
    w.kv<double>("f64", GgufType::F64, -1e300);
    w.kv_array<uint8_t>("a_u8", GgufType::U8, {1, 2, 255});
    w.kv_array<int8_t>("a_i8", GgufType::I8, {-1, 2});
    w.kv_array<uint16_t>("a_u16", GgufType::U16, {7});
    w.kv_array<int16_t>("a_i16", GgufType::I16, {-7, 8});
    w.kv_array<uint32_t>("a_u32", GgufType::U32, {1, 2, 3, 4});
    w.kv_array<int32_t>("a_i32", GgufType::I32, {-5});
    w.kv_array<float>("a_f32", GgufType::F32, {0.5f, -0.25f});
    w.kv_array<uint8_t>("a_bool", GgufType::BOOL, {1, 0, 1});
    w.kv_array<uint64_t>("a_u64", GgufType::U64, {1ull << 40});
    w.kv_array<int64_t>("a_i64", GgufType::I64, {-(1ll << 40)});
    w.kv_array<double>("a_f64", GgufType::F64, {2.5});
    w.kv_array<uint32_t>("a_empty", GgufType::U32, {});
    w.kv_strings("a_str", {"a", "", "\xe2\x96\x81the"});
    {  // ARRAY of 2 ARRAYs: [[1,2] (u16), ["x"]]
      std::vector<uint8_t> b;
      GgufWriter::put<uint32_t>(b, 9);
      GgufWriter::put<uint64_t>(b, 2);
      GgufWriter::put<uint32_t>(b, 2);
      GgufWriter::put<uint64_t>(b, 2);
      GgufWriter::put<uint16_t>(b, 1);
      GgufWriter::put<uint16_t>(b, 2);
      GgufWriter::put<uint32_t>(b, 8);
      GgufWriter::put<uint64_t>(b, 1);
      GgufWriter::put_string(b, "x");
      w.kv_raw("a_nested", 9, b);
    }
    w.kv_string("after", "still parsed");
    const GgufFile f = parse(w.build());
    QCOMPARE(f.version(), 3u);
    QCOMPARE(f.metadata().size(), size_t{30});

    QCOMPARE(f.get_int("u8"), int64_t{250});
    QCOMPARE(f.get_int("i8"), int64_t{-100});
    QCOMPARE(f.get_int("u16"), int64_t{65535});
    QCOMPARE(f.get_int("i16"), int64_t{-32768});
    QCOMPARE(f.get_int("u32"), int64_t{4000000000});
    QCOMPARE(f.get_int("i32"), int64_t{-2000000000});
    QCOMPARE(f.get_double_or("f32", 0), 0.375);
    QCOMPARE(f.get_bool_or("bool_t", false), true);
    QCOMPARE(f.get_bool_or("bool_f", true), false);
    QCOMPARE(f.get_string("str"), std::string("h\xc3\xa9llo\0x", 8));
    QCOMPARE(f.get_string("empty"), std::string());
    QCOMPARE(std::get<uint64_t>(f.find("u64")->scalar), std::numeric_limits<uint64_t>::max());
    QCOMPARE(f.get_int("u64_small"), int64_t{123});
    QCOMPARE(f.get_int("i64"), std::numeric_limits<int64_t>::min());
    QCOMPARE(f.get_double_or("f64", 0), -1e300);
    QCOMPARE(f.get_double_or("u32", 0), 4e9);
    QVERIFY(f.find("u8")->is_integer());
    QVERIFY(!f.find("f32")->is_integer());
    QVERIFY(!f.find("str")->is_integer());

    QCOMPARE(f.find("a_u8")->array_numbers, (std::vector<double>{1, 2, 255}));
    QCOMPARE(f.find("a_u8")->array_type, GgufType::U8);
    QCOMPARE(f.find("a_i8")->array_numbers, (std::vector<double>{-1, 2}));
    QCOMPARE(f.find("a_u16")->array_numbers, (std::vector<double>{7}));
    QCOMPARE(f.find("a_i16")->array_numbers, (std::vector<double>{-7, 8}));
    QCOMPARE(f.find("a_u32")->array_numbers, (std::vector<double>{1, 2, 3, 4}));
    QCOMPARE(f.find("a_i32")->array_numbers, (std::vector<double>{-5}));
    QCOMPARE(f.find("a_f32")->array_numbers, (std::vector<double>{0.5, -0.25}));
    QCOMPARE(f.find("a_bool")->array_numbers, (std::vector<double>{1, 0, 1}));
    QCOMPARE(f.find("a_u64")->array_numbers, (std::vector<double>{1099511627776.0}));
    QCOMPARE(f.find("a_i64")->array_numbers, (std::vector<double>{-1099511627776.0}));
    QCOMPARE(f.find("a_f64")->array_numbers, (std::vector<double>{2.5}));
    QCOMPARE(f.find("a_empty")->array_size, uint64_t{0});
    QCOMPARE(f.find("a_str")->array_strings,
             (std::vector<std::string>{"a", "", "\xe2\x96\x81the"}));
    QCOMPARE(f.find("a_str")->array_size, uint64_t{3});
    QCOMPARE(f.find("a_nested")->array_type, GgufType::ARRAY);
    QCOMPARE(f.find("a_nested")->array_size, uint64_t{2});
    QCOMPARE(f.get_string("after"), std::string("still parsed"));

    // Getters: fallbacks when absent, errors naming file and key when mistyped.
    QCOMPARE(f.get_int_or("absent", 7), int64_t{7});
    QCOMPARE(f.get_double_or("absent", 1.5), 1.5);
    QCOMPARE(f.get_bool_or("absent", true), true);
    QCOMPARE(f.get_string_or("absent", "fb"), std::string("fb"));
    QCOMPARE(f.get_string_or("str", "fb").size(), size_t{8});
    QVERIFY(f.find("absent") == nullptr);
    auto expect_getter_error = [](auto fn, const std::string& needle) {
      try {
        fn();
      } catch (const Error& e) {
        const std::string msg = e.what();
        QVERIFY2(msg.rfind("mem.gguf: ", 0) == 0, msg.c_str());
        QVERIFY2(msg.find(needle) != std::string::npos, msg.c_str());
        return;
      }
      QFAIL(("no error for " + needle).c_str());
    };
    expect_getter_error([&] { f.get_int("str"); }, "'str'");
    expect_getter_error([&] { f.get_int_or("f32", 0); }, "'f32'");
    expect_getter_error([&] { f.get_int("u64"); }, "'u64'");
    expect_getter_error([&] { f.get_int("missing.key"); }, "missing.key");
    expect_getter_error([&] { f.get_string("u32"); }, "'u32'");
    expect_getter_error([&] { f.get_string_or("a_str", ""); }, "ARRAY of STRING");
    expect_getter_error([&] { f.get_bool_or("u8", false); }, "'u8'");
    expect_getter_error([&] { f.get_double_or("str", 0); }, "'str'");
    QVERIFY_THROWS_EXCEPTION(Error, f.find("str")->as_int());
    QVERIFY_THROWS_EXCEPTION(Error, f.find("u8")->as_string());
    QVERIFY_THROWS_EXCEPTION(Error, f.find("u8")->as_bool());
    QVERIFY_THROWS_EXCEPTION(Error, f.find("a_u8")->as_double());
  }

  void tensorsOfEachType() {
    SmallModel m;
    const GgufFile f = parse(m.w.build());
    QCOMPARE(f.tensors().size(), size_t{6});
    QCOMPARE(f.tensors()[0].name, std::string("f32"));  // file order kept

    const auto* t = f.find_tensor("f32");
    QCOMPARE(t->dtype, DType::F32);
    QCOMPARE(t->ne, (std::vector<int64_t>{3, 2}));
    QCOMPARE(t->n_elements(), int64_t{6});
    QCOMPARE(t->size_bytes, uint64_t{24});
    QVERIFY(std::memcmp(f.tensor_data(*t), m.f32.data(), 24) == 0);
    QCOMPARE(t->offset % 32, uint64_t{0});

    for (const char* name : {"f16", "bf16"}) {
      t = f.find_tensor(name);
      QVERIFY(t->supported);
      QCOMPARE(t->dtype, std::string(name) == "f16" ? DType::F16 : DType::BF16);
      QCOMPARE(t->size_bytes, uint64_t{12});
      float out[6];
      flashchat::dtype_to_fp32(t->dtype, f.tensor_data(*t), out, 6);
      for (int i = 0; i < 6; ++i)
        QVERIFY(std::abs(out[i] - m.f32[i]) <= 0.01f * std::abs(m.f32[i]));
    }

    t = f.find_tensor("q8");
    QCOMPARE(t->dtype, DType::Q8_0);
    QCOMPARE(t->size_bytes, uint64_t{34});
    float out[32];
    flashchat::dtype_to_fp32(DType::Q8_0, f.tensor_data(*t), out, 32);
    for (int i = 0; i < 32; ++i) QCOMPARE(out[i], 0.5f * static_cast<float>(i - 16));

    t = f.find_tensor("q4");
    QCOMPARE(t->dtype, DType::Q4_0);
    QCOMPARE(t->size_bytes, uint64_t{18});
    flashchat::dtype_to_fp32(DType::Q4_0, f.tensor_data(*t), out, 32);
    for (int i = 0; i < 16; ++i) {
      QCOMPARE(out[i], 0.25f * static_cast<float>(i - 8));
      QCOMPARE(out[i + 16], 0.25f * static_cast<float>(15 - i - 8));
    }

    // Known but unsupported: parsed and sized, refused on use with a precise message.
    t = f.find_tensor("blk.0.ffn_up.weight");
    QVERIFY(!t->supported);
    QCOMPARE(t->ggml_type, 16u);
    QCOMPARE(t->size_bytes, uint64_t{66});
    QCOMPARE(flashchat::ggml_type_name(16), std::string("IQ2_XXS"));
    try {
      f.tensor_data(*t);
      QFAIL("tensor_data accepted IQ2_XXS");
    } catch (const Error& e) {
      QCOMPARE(std::string(e.what()),
               std::string("mem.gguf: unsupported tensor type IQ2_XXS in tensor blk.0.ffn_up.weight"));
    }
  }

  void unknownTypeParsesButIsRefused() {
    GgufWriter w;
    w.tensor("a", {4}, 0, std::vector<uint8_t>(16, 0));
    w.tensor("mystery", {10}, 99, std::vector<uint8_t>(32, 0));
    const GgufFile f = parse(w.build());
    const auto* t = f.find_tensor("mystery");
    QVERIFY(!t->supported);
    QCOMPARE(t->size_bytes, uint64_t{0});
    QCOMPARE(flashchat::ggml_type_name(99), std::string("type 99"));
    QVERIFY_THROWS_EXCEPTION(Error, f.tensor_data(*t));
  }

  void version2AndCustomAlignment() {
    GgufWriter w(2);
    w.set_alignment(64);
    w.kv<uint32_t>("general.alignment", GgufType::U32, 64);
    w.tensor("a", {3}, 0, bytes_of(std::vector<float>{1, 2, 3}));
    w.tensor("b", {1}, 0, bytes_of(std::vector<float>{4}));
    const std::vector<uint8_t> image = w.build();
    const GgufFile f = parse(image);
    QCOMPARE(f.version(), 2u);
    QCOMPARE(f.find_tensor("b")->offset, uint64_t{64});
    float v;
    std::memcpy(&v, f.tensor_data(*f.find_tensor("b")), 4);
    QCOMPARE(v, 4.0f);
    QCOMPARE(static_cast<size_t>(f.tensor_data(*f.find_tensor("b")) -
                                 f.tensor_data(*f.find_tensor("a"))),
             size_t{64});
  }

  void copiesAndMovesKeepDataValid() {
    SmallModel m;
    std::vector<uint8_t> image = m.w.build();
    GgufFile a = parse(image);
    image.assign(image.size(), 0xee);  // the parser must have copied the bytes
    GgufFile b = std::move(a);
    GgufFile c = b;
    { GgufFile tmp = std::move(b); }
    const auto* t = c.find_tensor("f32");
    QVERIFY(std::memcmp(c.tensor_data(*t), m.f32.data(), 24) == 0);
  }

  void openNamesMissingPath() {
    try {
      GgufFile::open("/nonexistent/dir/model.gguf");
      QFAIL("opened a missing file");
    } catch (const Error& e) {
      QVERIFY(std::string(e.what()).find("/nonexistent/dir/model.gguf") != std::string::npos);
    }
  }

  void everyTruncationThrows() {
    SmallModel m;
    m.w.kv_strings("tokens", {"a", "bc"});
    m.w.kv_array<float>("scores", GgufType::F32, {1, 2});
    const std::vector<uint8_t> image = m.w.build();
    parse(image);  // the whole image is fine
    for (size_t n = 0; n < image.size(); ++n) {
      bool threw = false;
      try {
        GgufFile::parse_bytes(image.data(), n, "cut.gguf");
      } catch (const Error& e) {
        threw = std::string(e.what()).rfind("cut.gguf: ", 0) == 0;
      }
      QVERIFY2(threw, qPrintable(QString("prefix of %1 bytes did not throw").arg(n)));
    }
    GgufWriter one;
    one.kv_string("general.architecture", "llama");
    const std::vector<uint8_t> small = one.build();
    expect_error(
        std::vector<uint8_t>(small.begin(), small.begin() + 37),
        "truncated at byte 32 while reading key of metadata pair 0 (need 20 bytes, 5 left)");
    expect_error(std::vector<uint8_t>(small.begin(), small.end() - 1),
                 "while reading string value of metadata 'general.architecture'");
  }

  void rejectsBadHeaders() {
    expect_error({}, "truncated at byte 0 while reading magic");
    expect_error({'G', 'G', 'U', 'X', 3, 0, 0, 0}, "bad magic");
    expect_error(GgufWriter(1).build(), "unsupported GGUF version 1");
    expect_error(GgufWriter(4).build(), "unsupported GGUF version 4");
    {
      GgufWriter w;
      w.set_kv_count(1ull << 60);
      expect_error(w.build(), "absurd metadata count");
    }
    {
      GgufWriter w;
      w.set_tensor_count(~0ull);
      expect_error(w.build(), "absurd tensor count");
    }
    {
      GgufWriter w;
      std::vector<uint8_t> b;
      GgufWriter::put<uint64_t>(b, 1ull << 62);  // string length
      w.kv_raw("s", 8, b);
      expect_error(w.build(), "while reading string value of metadata 's'");
    }
    {
      GgufWriter w;
      std::vector<uint8_t> b;
      GgufWriter::put<uint32_t>(b, 8);
      GgufWriter::put<uint64_t>(b, 1ull << 61);
      w.kv_raw("tokens", 9, b);
      expect_error(w.build(), "absurd array length");
    }
    {
      GgufWriter w;
      w.kv<uint32_t>("x", static_cast<GgufType>(13), 0);
      expect_error(w.build(), "unknown value type 13");
    }
    {
      GgufWriter w;
      std::vector<uint8_t> b;
      GgufWriter::put<uint32_t>(b, 77);
      GgufWriter::put<uint64_t>(b, 0);
      w.kv_raw("x", 9, b);
      expect_error(w.build(), "unknown array element type 77");
    }
    {
      GgufWriter w;
      w.kv<uint8_t>("dup", GgufType::U8, 1);
      w.kv<uint8_t>("dup", GgufType::U8, 2);
      expect_error(w.build(), "metadata 'dup': duplicate metadata key");
    }
    {  // arrays nested beyond the limit
      GgufWriter w;
      std::vector<uint8_t> b;
      for (int i = 0; i < 20; ++i) {
        GgufWriter::put<uint32_t>(b, 9);
        GgufWriter::put<uint64_t>(b, 1);
      }
      GgufWriter::put<uint32_t>(b, 0);
      GgufWriter::put<uint64_t>(b, 0);
      w.kv_raw("deep", 9, b);
      expect_error(w.build(), "nested too deeply");
    }
  }

  void rejectsBadAlignment() {
    for (uint32_t a : {0u, 3u, 48u}) {
      GgufWriter w;
      w.kv<uint32_t>("general.alignment", GgufType::U32, a);
      expect_error(w.build(), "general.alignment must be a nonzero power of two");
    }
    GgufWriter w;
    w.kv_string("general.alignment", "32");
    expect_error(w.build(), "general.alignment has type STRING");
  }

  void rejectsBadTensorInfos() {
    const std::vector<uint8_t> four(16, 0);
    {
      GgufWriter w;
      w.tensor("t", {1, 1, 1, 1, 4}, 0, four);
      expect_error(w.build(), "tensor 't': has 5 dimensions");
    }
    {
      GgufWriter w;
      w.tensor("t", {uint64_t(-4)}, 0, four);
      expect_error(w.build(), "negative or absurd");
    }
    {
      GgufWriter w;
      w.tensor("t", {1ull << 32, 1ull << 32}, 0, four);
      expect_error(w.build(), "tensor 't': element count overflows");
    }
    {
      GgufWriter w;
      w.tensor("t", {1ull << 61}, 0, four);
      expect_error(w.build(), "tensor 't': byte size overflows");
    }
    {
      GgufWriter w;
      w.tensor("big", {1ull << 40}, 0, four);
      expect_error(w.build(), "tensor 'big' (4398046511104 bytes at data offset 0) extends beyond");
    }
    {
      GgufWriter w;
      w.tensor("t", {4}, 0, four);
      w.tensor("far", {1}, 0, {}, 1ull << 50);
      expect_error(w.build(), "tensor 'far'");
    }
    {
      GgufWriter w;
      w.tensor("t", {4}, 0, four);
      w.tensor("wrap", {4}, 0, {}, ~0ull - 31);
      expect_error(w.build(), "tensor 'wrap'");
    }
    {
      GgufWriter w;
      w.tensor("mis", {4}, 0, four, 8);
      expect_error(w.build(), "tensor 'mis': offset 8 is not a multiple of the alignment 32");
    }
    {
      GgufWriter w;
      w.tensor("a", {16}, 0, std::vector<uint8_t>(64, 0));
      w.tensor("b", {4}, 0, four, 32);
      expect_error(w.build(), "tensors 'a' and 'b' overlap");
    }
    {
      GgufWriter w;
      w.tensor("same", {4}, 0, four);
      w.tensor("same", {4}, 0, four);
      expect_error(w.build(), "tensor 'same': duplicate tensor name");
    }
    {
      GgufWriter w;
      w.tensor("q", {48}, 8, std::vector<uint8_t>(51, 0));
      expect_error(w.build(), "row length 48 is not a multiple of the Q8_0 block size 32");
    }
  }
};

QTEST_GUILESS_MAIN(GgufTest)
#include "gguf_test.moc"
