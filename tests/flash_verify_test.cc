// flash_verify_test - checksums apart from opening: flash_model_open(dir) checks sizes only;
// flash_model_verify CRC-checks the files without filling the page cache, records each verified
// file in a stamp and skips it while it is unchanged; flipped bytes are found (naming the file)
// with force and after the file changed; a corrupt or unwritable stamp is survived.

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <QTemporaryDir>
#include <QtTest>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "convert/flash_convert.h"
#include "core/checksum.h"
#include "core/error.h"
#include "flash/flash_model.h"
#include "test_support.h"

using namespace flashchat;
using flashchat_test::error_of;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string file_read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void file_write(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

// Pages of `path` in the page cache (mincore over a mapping, which faults nothing in).
int64_t cached_pages(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return -1;
  struct stat st {};
  ::fstat(fd, &st);
  const size_t size = static_cast<size_t>(st.st_size);
  if (size == 0) {
    ::close(fd);
    return 0;
  }
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) return -1;
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> vec((size + page - 1) / page);
  int64_t n = -1;
  if (::mincore(p, size, vec.data()) == 0) {
    n = 0;
    for (unsigned char v : vec) n += v & 1;
  }
  ::munmap(p, size);
  return n;
}

// Writes `data` to `path`, flushed to disk and dropped from the page cache.
void file_write_uncached(const std::string& path, const std::string& data) {
  file_write(path, data);
  const int fd = ::open(path.c_str(), O_RDONLY);
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

// Flips one bit of `path` at 2/3 of its size. keep_mtime: sets the old mtime back afterwards.
void flip_byte(const std::string& path, bool keep_mtime) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  std::string bytes = file_read(path);
  bytes[bytes.size() * 2 / 3] ^= 0x10;
  file_write(path, bytes);
  if (keep_mtime) {
    const timespec times[2] = {st.st_atim, st.st_mtim};
    QCOMPARE(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  }
}

// What the kernel does with O_DIRECT on `path`: true when open + an aligned read both work.
bool direct_io_works(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECT);
  if (fd < 0) return false;
  void* buf = std::aligned_alloc(4096, 4096);
  const ssize_t n = ::pread(fd, buf, 4096, 0);
  std::free(buf);
  ::close(fd);
  return n >= 0;
}

json json_read(const std::string& path) { return json::parse(file_read(path)); }

}  // namespace

class FlashVerifyTest : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir tmp_;
  std::string base_;  // a converted tiny_opt (predictors off): dram.safetensors + ffn.bin
  int copies_ = 0;

  std::string base_copy() {
    const std::string dir = tmp_.path().toStdString() + "/copy" + std::to_string(copies_++);
    fs::copy(base_, dir, fs::copy_options::recursive);
    return dir;
  }
  std::string stamp_path() {
    return tmp_.path().toStdString() + "/stamp" + std::to_string(copies_) + "/verified.json";
  }
  static FlashVerifyOptions with_stamp(const std::string& stamp, bool force = false) {
    FlashVerifyOptions o;
    o.stamp_path = stamp;
    o.force = force;
    return o;
  }
  static uint64_t total_bytes(const FlashModel& fm) {
    uint64_t n = 0;
    for (const FlashModelFile& f : fm.files) n += f.size_bytes;
    return n;
  }

 private slots:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    base_ = tmp_.path().toStdString() + "/base.flash";
    ConvertOptions o;
    o.train_predictors = false;
    flash_convert(flashchat_test::test_data_path("tiny_opt").toStdString(), base_, o);
  }

  // crc32_file equals the CRC of the bytes for sizes around the 4 KiB and 1 MiB boundaries, in
  // both modes, and leaves none of the file in the page cache.
  void crc32_file_exact_and_uncached() {
    std::mt19937 rng(7);
    const std::string path = tmp_.path().toStdString() + "/crc.bin";
    for (size_t size : {size_t{0}, size_t{1}, size_t{4095}, size_t{4096}, size_t{4097},
                        (size_t{1} << 20) + 123, (size_t{3} << 20) + 4096}) {
      std::string data(size, '\0');
      for (char& c : data) c = static_cast<char>(rng());
      file_write_uncached(path, data);
      const uint32_t want = crc32_update(0, data.data(), data.size());
      for (bool direct : {true, false}) {
        const FileCrc got = crc32_file(path, direct);
        QCOMPARE(got.crc, want);
        QCOMPARE(got.bytes_read, uint64_t{size});
        QCOMPARE(got.direct_io, direct && direct_io_works(path));
        QCOMPARE(cached_pages(path), int64_t{0});
      }
    }
    VERIFY_CONTAINS(error_of([&] { crc32_file(path + ".missing"); }), "crc.bin.missing");
    for (bool direct : {true, false}) {  // a directory opens but cannot be read
      const std::string e = error_of([&] { crc32_file(tmp_.path().toStdString(), direct); });
      VERIFY_CONTAINS(e, tmp_.path().toStdString() + ": read error at offset 0");
    }
  }

  // Opening checks sizes, not checksums: a flipped byte opens; the files are listed.
  void open_checks_sizes_only() {
    const std::string dir = base_copy();
    flip_byte(dir + "/ffn.bin", false);
    std::unique_ptr<FlashModel> fm = flash_model_open(dir);
    QCOMPARE(fm->files.size(), size_t{2});
    for (const FlashModelFile& f : fm->files) {
      QCOMPARE(f.path, dir + "/" + f.name);
      QCOMPARE(f.size_bytes, uint64_t(fs::file_size(f.path)));
    }
    const std::string e = error_of([&] { flash_model_verify(*fm, with_stamp(stamp_path())); });
    VERIFY_CONTAINS(e, dir + "/ffn.bin");
    VERIFY_CONTAINS(e, "checksum mismatch");
    // The bool overload keeps the old behaviour: every file checked on open.
    VERIFY_CONTAINS(error_of([&] { flash_model_open(dir, true); }), "ffn.bin: checksum mismatch");
    QVERIFY(flash_model_open(dir, false) != nullptr);
  }

  // First verify reads every file once, without the page cache, and records them; the second
  // reads nothing; force reads everything again.
  void unchanged_files_skipped() {
    const std::string dir = base_copy();
    const std::string stamp = stamp_path();
    std::unique_ptr<FlashModel> fm = flash_model_open(dir);
    for (const FlashModelFile& f : fm->files) file_write_uncached(f.path, file_read(f.path));
    FlashVerifyReport r = flash_model_verify(*fm, with_stamp(stamp));
    QCOMPARE(r.files_checked, 2);
    QCOMPARE(r.files_skipped, 0);
    QCOMPARE(r.bytes_read, total_bytes(*fm));
    QCOMPARE(r.direct_io, direct_io_works(dir + "/ffn.bin"));
    QCOMPARE(r.stamp_path, stamp);
    QCOMPARE(r.stamp_error, std::string());
    for (const FlashModelFile& f : fm->files) QCOMPARE(cached_pages(f.path), int64_t{0});
    const json j = json_read(stamp);
    QCOMPARE(j["files"].size(), size_t{2});
    const json& e = j["files"][fs::canonical(dir + "/ffn.bin").string()];
    QCOMPARE(e["size_bytes"].get<uint64_t>(), uint64_t(fs::file_size(dir + "/ffn.bin")));
    QCOMPARE(e["crc32"].get<std::string>(), crc32_format(crc32_file(dir + "/ffn.bin").crc));

    r = flash_model_verify(*fm, with_stamp(stamp));
    QCOMPARE(r.files_checked, 0);
    QCOMPARE(r.files_skipped, 2);
    QCOMPARE(r.bytes_read, uint64_t{0});

    r = flash_model_verify(*fm, with_stamp(stamp, /*force=*/true));
    QCOMPARE(r.files_checked, 2);
    QCOMPARE(r.bytes_read, total_bytes(*fm));

    // Touched but unchanged: that file alone is read again and passes.
    QCOMPARE(::utimensat(AT_FDCWD, (dir + "/ffn.bin").c_str(), nullptr, 0), 0);
    r = flash_model_verify(*fm, with_stamp(stamp));
    QCOMPARE(r.files_checked, 1);
    QCOMPARE(r.files_skipped, 1);
    QCOMPARE(r.bytes_read, uint64_t(fs::file_size(dir + "/ffn.bin")));
  }

  // A flipped byte after the stamp was written: found with a changed mtime, with the old mtime
  // set back (ctime still changed), and, when even the stat data matches the stamp (bit rot),
  // only with force. The failing file's entry leaves the stamp.
  void flipped_byte_detected_data() {
    QTest::addColumn<QString>("name");
    QTest::newRow("ffn.bin") << "ffn.bin";
    QTest::newRow("dram.safetensors") << "dram.safetensors";
  }
  void flipped_byte_detected() {
    QFETCH(QString, name);
    const std::string dir = base_copy();
    const std::string stamp = stamp_path();
    const std::string path = dir + "/" + name.toStdString();
    const std::string key = fs::canonical(path).string();
    std::unique_ptr<FlashModel> fm = flash_model_open(dir);
    const std::string good = file_read(path);
    for (bool keep_mtime : {false, true}) {
      flash_model_verify(*fm, with_stamp(stamp));
      QVERIFY(json_read(stamp)["files"].contains(key));
      flip_byte(path, keep_mtime);
      const std::string e = error_of([&] { flash_model_verify(*fm, with_stamp(stamp)); });
      VERIFY_CONTAINS(e, path + ": checksum mismatch");
      QVERIFY(!json_read(stamp)["files"].contains(key));
      file_write(path, good);
    }
    // Bit rot: the stamp entry matches the file's stat data but the bytes changed.
    flash_model_verify(*fm, with_stamp(stamp));
    flip_byte(path, false);
    struct stat st {};
    QCOMPARE(::stat(path.c_str(), &st), 0);
    json j = json_read(stamp);
    j["files"][key]["mtime_ns"] = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
    j["files"][key]["ctime_ns"] = int64_t{st.st_ctim.tv_sec} * 1000000000 + st.st_ctim.tv_nsec;
    file_write(stamp, j.dump());
    const FlashVerifyReport r = flash_model_verify(*fm, with_stamp(stamp));
    QCOMPARE(r.files_skipped, 2);  // what the stamp is: stat data, not a re-read
    const std::string e = error_of([&] { flash_model_verify(*fm, with_stamp(stamp, true)); });
    VERIFY_CONTAINS(e, path + ": checksum mismatch");
    QVERIFY(!json_read(stamp)["files"].contains(key));
  }

  // A corrupt stamp (not JSON, another JSON shape, entries of the wrong types) is ignored:
  // everything is verified again and the stamp rewritten, after which files are skipped.
  void corrupt_stamp_ignored_data() {
    QTest::addColumn<QString>("text");
    QTest::newRow("not json") << "{\"format\": \"flashchat-verified\", \"files\": {";
    QTest::newRow("binary") << QString::fromLatin1("\x01\x02garbage\xff", 11);
    QTest::newRow("array") << "[1, 2, 3]";
    QTest::newRow("files not object") << "{\"format\": \"flashchat-verified\", \"files\": [1]}";
    QTest::newRow("other format") << "{\"format\": \"other\", \"files\": {}}";
    QTest::newRow("wrong types") << "KEYS";
  }
  void corrupt_stamp_ignored() {
    QFETCH(QString, text);
    const std::string dir = base_copy();
    const std::string stamp = stamp_path();
    std::unique_ptr<FlashModel> fm = flash_model_open(dir);
    std::string content = text.toStdString();
    if (content == "KEYS") {  // every file listed, each field of the wrong type
      json files = json::object();
      for (const FlashModelFile& f : fm->files) {
        files[fs::canonical(f.path).string()] = {{"size_bytes", "big"}, {"mtime_ns", nullptr},
                                                 {"ctime_ns", 1.5}, {"inode", -1},
                                                 {"device", "x"}, {"crc32", 7}};
      }
      content = json{{"format", "flashchat-verified"}, {"version", 1}, {"files", files}}.dump();
    }
    fs::create_directories(fs::path(stamp).parent_path());
    file_write(stamp, content);
    FlashVerifyReport r = flash_model_verify(*fm, with_stamp(stamp));
    QCOMPARE(r.files_checked, 2);
    QCOMPARE(r.stamp_error, std::string());
    QCOMPARE(json_read(stamp)["files"].size(), size_t{2});
    r = flash_model_verify(*fm, with_stamp(stamp));
    QCOMPARE(r.files_skipped, 2);
    // A flipped byte under a corrupt stamp is still found.
    file_write(stamp, "\x01 not a stamp");
    flip_byte(dir + "/ffn.bin", true);
    VERIFY_CONTAINS(error_of([&] { flash_model_verify(*fm, with_stamp(stamp)); }),
                    "ffn.bin: checksum mismatch");
  }

  // A stamp that cannot be written does not fail the verification; it is reported.
  void unwritable_stamp_reported() {
    const std::string dir = base_copy();
    const std::string blocker = tmp_.path().toStdString() + "/a_file";
    file_write(blocker, "x");
    std::unique_ptr<FlashModel> fm = flash_model_open(dir);
    const FlashVerifyReport r = flash_model_verify(*fm, with_stamp(blocker + "/verified.json"));
    QCOMPARE(r.files_checked, 2);
    VERIFY_CONTAINS(r.stamp_error, "a_file");
  }

  // No stamp: everything checked, nothing written; the default stamp path follows XDG.
  void stamp_off_and_default_path() {
    const std::string dir = base_copy();
    const QByteArray old_xdg = qgetenv("XDG_CACHE_HOME"), old_home = qgetenv("HOME");
    const std::string cache = tmp_.path().toStdString() + "/xdg";
    qputenv("XDG_CACHE_HOME", QByteArray::fromStdString(cache));
    QCOMPARE(flash_verify_stamp_default_path(), cache + "/flashchat/verified.json");
    std::unique_ptr<FlashModel> fm = flash_model_open(dir, true);  // verifies, writes nothing
    FlashVerifyOptions off;
    off.use_stamp = false;
    for (int i = 0; i < 2; ++i) QCOMPARE(flash_model_verify(*fm, off).files_checked, 2);
    QVERIFY(!fs::exists(cache));
    const FlashVerifyReport r = flash_model_verify(*fm);  // the default stamp
    QCOMPARE(r.stamp_path, cache + "/flashchat/verified.json");
    QVERIFY(fs::is_regular_file(r.stamp_path));
    QCOMPARE(flash_model_verify(*fm).files_skipped, 2);
    qputenv("XDG_CACHE_HOME", "relative/ignored");
    qputenv("HOME", "/home/someone");
    QCOMPARE(flash_verify_stamp_default_path(), std::string("/home/someone/.cache/flashchat/verified.json"));
    qputenv("XDG_CACHE_HOME", old_xdg);
    qputenv("HOME", old_home);
    if (old_xdg.isNull()) qunsetenv("XDG_CACHE_HOME");
  }
};

QTEST_GUILESS_MAIN(FlashVerifyTest)
#include "flash_verify_test.moc"
