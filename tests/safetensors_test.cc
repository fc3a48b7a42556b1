// safetensors_test.cc - SafetensorsFile / SafetensorsCheckpoint on small images built here:
// every supported dtype, sharded and single-file directories, and malformed inputs (each must
// throw flashchat::Error naming the file and the problem).
#include "formats/safetensors.h"

#include <QTemporaryDir>
#include <QtTest>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "formats/dtype.h"
#include "test_support.h"

using flashchat::DType;
using flashchat::Error;
using flashchat::SafetensorsCheckpoint;
using flashchat::SafetensorsFile;
using nlohmann::json;

namespace {

// u64 header length + header text + data.
std::vector<uint8_t> st_image(const std::string& header, const std::vector<uint8_t>& data,
                              uint64_t declared_len = UINT64_MAX) {
  const uint64_t len = declared_len == UINT64_MAX ? header.size() : declared_len;
  std::vector<uint8_t> out(8 + header.size() + data.size());
  std::memcpy(out.data(), &len, 8);
  std::copy(header.begin(), header.end(), out.begin() + 8);
  std::copy(data.begin(), data.end(), out.begin() + 8 + static_cast<std::ptrdiff_t>(header.size()));
  return out;
}

// Builds a valid file: tensors laid out back to back in the order added.
class StWriter {
 public:
  void tensor(const std::string& name, const std::string& dtype, std::vector<int64_t> shape,
              const std::vector<uint8_t>& bytes) {
    header_[name] = {{"dtype", dtype},
                     {"shape", shape},
                     {"data_offsets", {data_.size(), data_.size() + bytes.size()}}};
    data_.insert(data_.end(), bytes.begin(), bytes.end());
  }
  void metadata(const std::string& key, const std::string& value) {
    header_["__metadata__"][key] = value;
  }
  std::vector<uint8_t> build(int pad_spaces = 0) const {
    return st_image(header_.dump() + std::string(pad_spaces, ' '), data_);
  }
  void write(const QString& path) const {
    const std::vector<uint8_t> b = build();
    std::ofstream(path.toStdString(), std::ios::binary)
        .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }

 private:
  json header_ = json::object();
  std::vector<uint8_t> data_;
};

template <typename T>
std::vector<uint8_t> bytes_of(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

void write_text(const QString& path, const std::string& text) {
  std::ofstream(path.toStdString(), std::ios::binary) << text;
}

template <typename Fn>
void expect_error_from(Fn fn, const std::string& prefix, const std::string& needle) {
  try {
    fn();
  } catch (const Error& e) {
    const std::string msg = e.what();
    QVERIFY2(msg.rfind(prefix + ": ", 0) == 0, (msg + "  [wanted prefix: " + prefix + "]").c_str());
    QVERIFY2(msg.find(needle) != std::string::npos, (msg + "  [wanted: " + needle + "]").c_str());
    return;
  }
  QFAIL(("no error; expected: " + needle).c_str());
}

void expect_error(const std::vector<uint8_t>& image, const std::string& needle) {
  expect_error_from([&] { SafetensorsFile::parse_bytes(image.data(), image.size(), "bad.st"); },
                    "bad.st", needle);
}

// Header text for a single tensor entry.
std::string one(const std::string& name, const std::string& dtype, const std::string& shape,
                const std::string& offsets) {
  return "{\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
         ",\"data_offsets\":" + offsets + "}}";
}

const std::vector<float> kValues{1.0f, -2.5f, 0.125f, 3e4f, -1e-4f, 0.0f};

StWriter small_model() {
  StWriter w;
  std::vector<uint16_t> f16, bf16;
  for (float v : kValues) f16.push_back(flashchat::fp32_to_fp16(v));
  for (float v : kValues) bf16.push_back(flashchat::fp32_to_bf16(v));
  w.tensor("model.embed_tokens.weight", "F32", {2, 3}, bytes_of(kValues));
  w.tensor("layers.0.mlp.up_proj.weight", "F16", {3, 2}, bytes_of(f16));
  w.tensor("norm.weight", "BF16", {6}, bytes_of(bf16));
  w.tensor("scalar", "F32", {}, bytes_of(std::vector<float>{42.0f}));
  w.tensor("empty", "F16", {0, 5}, {});
  w.metadata("format", "pt");
  return w;
}

}  // namespace

class SafetensorsTest : public QObject {
  Q_OBJECT

 private slots:
  void parsesEachDtype() {
    const std::vector<uint8_t> image = small_model().build(7);  // header padded with spaces
    const SafetensorsFile f = SafetensorsFile::parse_bytes(image.data(), image.size(), "m.st");
    QCOMPARE(f.tensors().size(), size_t{5});
    QCOMPARE(f.metadata().at("format"), std::string("pt"));

    const auto& emb = f.tensors().at("model.embed_tokens.weight");
    QCOMPARE(emb.name, std::string("model.embed_tokens.weight"));
    QCOMPARE(emb.dtype, DType::F32);
    QCOMPARE(emb.shape, (std::vector<int64_t>{2, 3}));
    QCOMPARE(emb.n_elements(), int64_t{6});
    QCOMPARE(emb.size_bytes, uint64_t{24});
    QCOMPARE(emb.file, std::string("m.st"));
    QVERIFY(std::memcmp(emb.data, kValues.data(), 24) == 0);

    for (const char* name : {"layers.0.mlp.up_proj.weight", "norm.weight"}) {
      const auto& t = f.tensors().at(name);
      QCOMPARE(t.size_bytes, uint64_t{12});
      QCOMPARE(t.dtype, std::string(name) == "norm.weight" ? DType::BF16 : DType::F16);
      float out[6];
      flashchat::dtype_to_fp32(t.dtype, t.data, out, 6);
      for (int i = 0; i < 6; ++i) {
        QVERIFY2(std::abs(out[i] - kValues[i]) <= 0.005f * std::abs(kValues[i]) + 1e-7f, name);
      }
    }
    const auto& s = f.tensors().at("scalar");
    QCOMPARE(s.n_elements(), int64_t{1});
    float v;
    std::memcpy(&v, s.data, 4);
    QCOMPARE(v, 42.0f);
    QCOMPARE(f.tensors().at("empty").n_elements(), int64_t{0});
    QCOMPARE(f.tensors().at("empty").size_bytes, uint64_t{0});
  }

  void copiesAndMovesKeepDataValid() {
    std::vector<uint8_t> image = small_model().build();
    SafetensorsFile a = SafetensorsFile::parse_bytes(image.data(), image.size(), "m.st");
    image.assign(image.size(), 0xcc);
    SafetensorsFile b = std::move(a);
    SafetensorsFile c = b;
    { SafetensorsFile tmp = std::move(b); }
    QVERIFY(std::memcmp(c.tensors().at("model.embed_tokens.weight").data, kValues.data(), 24) == 0);
  }

  void everyTruncationThrows() {
    const std::vector<uint8_t> image = small_model().build();
    for (size_t n = 0; n < image.size(); ++n) {
      bool threw = false;
      try {
        SafetensorsFile::parse_bytes(image.data(), n, "cut.st");
      } catch (const Error& e) {
        threw = std::string(e.what()).rfind("cut.st: ", 0) == 0;
      }
      QVERIFY2(threw, qPrintable(QString("prefix of %1 bytes did not throw").arg(n)));
    }
  }

  void rejectsBadFraming() {
    expect_error({1, 2, 3}, "truncated at byte 0 while reading the header length");
    expect_error(st_image("{}", {}, 3), "header length 3 exceeds the file (10 bytes)");
    expect_error(st_image("{}", {}, 1ull << 63), "header length 9223372036854775808 exceeds");
    expect_error(st_image("{\"a\": ", {}), "malformed JSON header: ");
    expect_error(st_image("{\"a\":1}garbage", {}), "malformed JSON header: ");
    expect_error(st_image("[1,2]", {}), "header is not a JSON object");
    expect_error(st_image("{\"s\":\"\xff\xfe\"}", {}), "malformed JSON header");
    std::string deep(5000, '[');
    expect_error(st_image("{\"a\":" + deep, {}), "nested too deeply");
    // An empty header object is a valid file with no tensors.
    const std::vector<uint8_t> empty = st_image("{}", {});
    QCOMPARE(SafetensorsFile::parse_bytes(empty.data(), empty.size(), "e.st").tensors().size(),
             size_t{0});
  }

  void rejectsBadEntries() {
    const std::vector<uint8_t> d16(16, 0);
    expect_error(st_image(one("pos", "I64", "[2]", "[0,16]"), d16),
                 "unsupported dtype I64 in tensor pos");
    for (const char* dt : {"F64", "U8", "BOOL", "F8_E4M3", "I32", "WHAT"}) {
      expect_error(st_image(one("x", dt, "[1]", "[0,1]"), d16),
                   std::string("unsupported dtype ") + dt + " in tensor x");
    }
    expect_error(st_image("{\"x\":5}", d16), "tensor 'x': entry is not an object");
    expect_error(st_image("{\"x\":{\"shape\":[1],\"data_offsets\":[0,4]}}", d16), "\"dtype\"");
    expect_error(st_image("{\"x\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", d16), "\"shape\"");
    expect_error(st_image("{\"x\":{\"dtype\":\"F32\",\"shape\":[1]}}", d16), "\"data_offsets\"");
    expect_error(st_image(one("x", "F32", "[-1]", "[0,4]"), d16),
                 "tensor 'x': shape dimension must be a non-negative integer, got -1");
    expect_error(st_image(one("x", "F32", "[1.5]", "[0,4]"), d16), "shape dimension");
    expect_error(st_image(one("x", "F32", "[\"4\"]", "[0,4]"), d16), "got string");
    expect_error(st_image(one("x", "F32", "[1,1,1,1,1,1,1,1,1]", "[0,4]"), d16), "9 dimensions");
    expect_error(st_image(one("x", "F32", "[4294967296,4294967296]", "[0,4]"), d16),
                 "tensor 'x': element count overflows");
    expect_error(st_image(one("x", "F32", "[4611686018427387904]", "[0,4]"), d16),
                 "tensor 'x': byte size overflows");
    expect_error(st_image(one("x", "F32", "[1]", "[0]"), d16), "[begin, end]");
    expect_error(st_image(one("x", "F32", "[1]", "[0,4,8]"), d16), "[begin, end]");
    expect_error(st_image(one("x", "F32", "[1]", "[8,4]"), d16), "reversed");
    expect_error(st_image(one("x", "F32", "[1]", "[-4,0]"), d16), "data_offsets begin");
    expect_error(st_image(one("x", "F32", "[1]", "[16,20]"), d16),
                 "tensor 'x': data_offsets end 20 lies beyond the data section (16 bytes)");
    expect_error(
        st_image(one("x", "F32", "[1]", "[18446744073709551612,18446744073709551615]"), d16),
        "beyond the data section");
    expect_error(st_image(one("x", "F32", "[2]", "[0,4]"), d16),
                 "tensor 'x': data_offsets span 4 bytes but shape x F32 needs 8");
    expect_error(st_image("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                          "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[4,8]}}",
                          d16),
                 "tensors 'a' and 'b' overlap");
    expect_error(st_image("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                          "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                          d16),
                 "duplicate key 'a' in header");
    expect_error(st_image("{\"__metadata__\":{\"k\":1}}", d16),
                 "__metadata__ value of 'k' is not a string");
    expect_error(st_image("{\"__metadata__\":[]}", d16), "__metadata__ must be an object");
  }

  void opensSingleFileDirectory() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    small_model().write(dir.filePath("model.safetensors"));
    const SafetensorsCheckpoint c = SafetensorsCheckpoint::open_dir(dir.path().toStdString());
    QCOMPARE(c.tensors().size(), size_t{5});
    QCOMPARE(c.mappings().size(), size_t{1});
    const auto* t = c.find("model.embed_tokens.weight");
    QVERIFY(t != nullptr);
    QVERIFY(std::memcmp(t->data, kValues.data(), 24) == 0);
    QCOMPARE(t->file, dir.filePath("model.safetensors").toStdString());
    QVERIFY(c.find("nope") == nullptr);

    // open() of the file directly gives the same tensors, keeping its map.
    const SafetensorsFile f =
        SafetensorsFile::open(dir.filePath("model.safetensors").toStdString());
    QVERIFY(f.mapping() != nullptr);
    QCOMPARE(f.tensors().size(), size_t{5});
  }

  void opensShardedDirectory() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    StWriter s1, s2;
    s1.tensor("a", "F32", {2}, bytes_of(std::vector<float>{1, 2}));
    s1.tensor("b", "F32", {1}, bytes_of(std::vector<float>{3}));
    s1.tensor("unlisted", "F32", {1}, bytes_of(std::vector<float>{9}));
    s2.tensor("c", "F32", {3}, bytes_of(std::vector<float>{4, 5, 6}));
    s1.write(dir.filePath("model-00001-of-00002.safetensors"));
    s2.write(dir.filePath("model-00002-of-00002.safetensors"));
    const json index = {{"metadata", {{"total_size", 24}}},
                        {"weight_map",
                         {{"a", "model-00001-of-00002.safetensors"},
                          {"b", "model-00001-of-00002.safetensors"},
                          {"c", "model-00002-of-00002.safetensors"}}}};
    write_text(dir.filePath("model.safetensors.index.json"), index.dump(2));

    const SafetensorsCheckpoint c = SafetensorsCheckpoint::open_dir(dir.path().toStdString());
    QCOMPARE(c.tensors().size(), size_t{3});
    QCOMPARE(c.mappings().size(), size_t{2});  // each shard opened once
    float v[3];
    std::memcpy(v, c.find("c")->data, 12);
    QCOMPARE(v[2], 6.0f);
    std::memcpy(v, c.find("b")->data, 4);
    QCOMPARE(v[0], 3.0f);
    QVERIFY(c.find("c")->file.find("model-00002-of-00002.safetensors") != std::string::npos);
  }

  void rejectsBadDirectories() {
    const std::string index_name = "model.safetensors.index.json";
    {
      QTemporaryDir dir;
      const std::string d = dir.path().toStdString();
      expect_error_from([&] { SafetensorsCheckpoint::open_dir(d); }, d,
                        "no model.safetensors or model.safetensors.index.json");
      expect_error_from([&] { SafetensorsCheckpoint::open_dir(d + "/missing"); }, d + "/missing",
                        "no model.safetensors");
    }
    {  // index names a missing shard
      QTemporaryDir dir;
      const std::string d = dir.path().toStdString();
      write_text(dir.filePath("model.safetensors.index.json"),
                 R"({"weight_map": {"w": "model-00009.safetensors"}})");
      expect_error_from([&] { SafetensorsCheckpoint::open_dir(d); }, d + "/" + index_name,
                        "shard 'model-00009.safetensors' (named for tensor 'w') is missing");
    }
    {  // index maps a tensor the shard lacks
      QTemporaryDir dir;
      const std::string d = dir.path().toStdString();
      small_model().write(dir.filePath("s.safetensors"));
      write_text(dir.filePath("model.safetensors.index.json"),
                 R"({"weight_map": {"norm.weight": "s.safetensors", "ghost": "s.safetensors"}})");
      expect_error_from([&] { SafetensorsCheckpoint::open_dir(d); }, d + "/" + index_name,
                        "tensor 'ghost' is mapped to shard 's.safetensors' but that file");
    }
    {  // malformed index, missing weight_map, escaping shard path, non-string shard
      QTemporaryDir dir;
      const std::string d = dir.path().toStdString();
      const QString p = dir.filePath("model.safetensors.index.json");
      write_text(p, "{\"weight_map\": {");
      expect_error_from([&] { SafetensorsCheckpoint::open_dir(d); }, d + "/" + index_name,
                        "malformed JSON index");
      write_text(p, "{\"metadata\": {}}");
      expect_error_from([&] { SafetensorsCheckpoint::open_dir(d); }, d + "/" + index_name,
                        "missing \"weight_map\"");
      write_text(p, R"({"weight_map": {"w": "../x.safetensors"}})");
      expect_error_from([&] { SafetensorsCheckpoint::open_dir(d); }, d + "/" + index_name,
                        "must be a file inside the checkpoint directory");
      write_text(p, R"({"weight_map": {"w": 3}})");
      expect_error_from([&] { SafetensorsCheckpoint::open_dir(d); }, d + "/" + index_name,
                        "weight_map entry of 'w' is not a string");
    }
    {  // a broken shard reports the shard's own path
      QTemporaryDir dir;
      const std::string d = dir.path().toStdString();
      write_text(dir.filePath("model.safetensors"), "xx");
      expect_error_from([&] { SafetensorsCheckpoint::open_dir(d); }, d + "/model.safetensors",
                        "truncated");
    }
  }
};

QTEST_GUILESS_MAIN(SafetensorsTest)
#include "safetensors_test.moc"
