// read_probe_test.cc - the device read probe (engine/session/read_probe.h) on the default model:
//   - it measures (> 0 MB/s, bytes really transferred per /proc/self/io) at the engine's
//     request size and queue depth, and writes the cache file;
//   - a second call returns the same number from the cache without reading ffn.bin;
//   - remeasure measures again; a changed ffn.bin (mtime) is measured again;
//   - a corrupt cache file is measured over and rewritten;
//   - a missing model or an unwritable cache path throws an Error naming the file.

#include <fcntl.h>
#include <sys/stat.h>

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/resource_paths.h"
#include "runtime/flash_store.h"
#include "session/read_probe.h"
#include "session/model_open.h"
#include "runtime/budget.h"

using namespace flashchat;

namespace {

// Bytes this process caused to be fetched from storage (/proc/self/io read_bytes); -1 if absent.
int64_t proc_read_bytes() {
  std::ifstream in("/proc/self/io");
  std::string key;
  int64_t value = 0;
  while (in >> key >> value) {
    if (key == "read_bytes:") return value;
  }
  return -1;
}

// Short measurements keep the suite quick; the probe stops at whichever limit comes first.
ReadProbeLimits quick() {
  ReadProbeLimits l;
  l.max_bytes = 32 << 20;
  l.max_seconds = 0.5;
  return l;
}

QJsonObject json_of(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QJsonDocument::fromJson(f.readAll()).object();
}

}  // namespace

class ReadProbeTest : public QObject {
  Q_OBJECT

  std::string model_dir_;
  QTemporaryDir tmp_;

 private slots:
  void initTestCase() {
    model_dir_ = resource_path_find("models/default");
    QVERIFY2(!model_dir_.empty(), "resources/models/default is missing");
    QVERIFY(tmp_.isValid());
  }

  void measures_then_hits_the_cache_then_remeasures() {
    const std::string cache = (tmp_.path() + "/probe/read_probe.json").toStdString();
    const int64_t io_before = proc_read_bytes();
    const ReadProbeResult first = read_probe_run(model_dir_, cache, false, quick());
    const int64_t io_after = proc_read_bytes();
    qInfo("default model ffn.bin: %.1f MB/s, %lld bytes in %.3f s, request %lld B, qd %d",
          first.mb_per_s, static_cast<long long>(first.bytes_read), first.seconds,
          static_cast<long long>(first.request_bytes), first.queue_depth);
    QVERIFY(first.measured);
    QVERIFY(first.mb_per_s > 0);
    QVERIFY(first.bytes_read > 0);
    // The engine's shape: its queue depth, a request size that is a positive multiple of 4 KiB
    // and no larger than the store's default.
    const OpenedModel opened = model_open(model_dir_, false);
    const IoBufferPlan plan = budget_io_plan(opened.flash->ffn, FfnMode::Flash, true,
                                             FlashStoreOptions());
    QCOMPARE(first.queue_depth, plan.store.queue_depth);
    QVERIFY(first.request_bytes >= 4096 && first.request_bytes % 4096 == 0);
    QVERIFY(first.request_bytes <= FlashStoreOptions().request_bytes);
    if (io_before >= 0) QVERIFY(io_after - io_before >= first.bytes_read / 2);  // real I/O

    const QJsonObject j = json_of(QString::fromStdString(cache));
    QCOMPARE(j["mb_per_s"].toDouble(), first.mb_per_s);
    QCOMPARE(j["request_bytes"].toInteger(), first.request_bytes);
    QCOMPARE(j["queue_depth"].toInt(), first.queue_depth);
    QVERIFY(j["path"].toString().endsWith("ffn.bin"));
    QCOMPARE(j["file_size_bytes"].toInteger(),
             QFileInfo(QString::fromStdString(first.ffn_path)).size());
    QVERIFY(j["device"].toString().contains(':'));
    QVERIFY(!j["measured_at"].toString().isEmpty());

    // Cache hit: same number, nothing read from ffn.bin.
    const int64_t io_hit_before = proc_read_bytes();
    const ReadProbeResult hit = read_probe_run(model_dir_, cache, false, quick());
    QVERIFY(!hit.measured);
    QCOMPARE(hit.bytes_read, int64_t{0});
    QCOMPARE(hit.mb_per_s, first.mb_per_s);
    QCOMPARE(read_probe_mb_per_s(model_dir_, cache, false), first.mb_per_s);
    if (io_hit_before >= 0) QVERIFY(proc_read_bytes() - io_hit_before < 64 * 1024);

    // Remeasure.
    const ReadProbeResult again = read_probe_run(model_dir_, cache, true, quick());
    QVERIFY(again.measured);
    QVERIFY(again.bytes_read > 0 && again.mb_per_s > 0);
    QCOMPARE(json_of(QString::fromStdString(cache))["mb_per_s"].toDouble(), again.mb_per_s);
  }

  // A copy of the model whose ffn.bin then changes (mtime): the cache no longer applies.
  void changed_file_is_measured_again() {
    const QString dir = tmp_.path() + "/model";
    QVERIFY(QDir().mkpath(dir));
    for (const char* name : {"manifest.json", "ffn.bin"}) {
      QVERIFY(QFile::copy(QString::fromStdString(model_dir_) + "/" + name, dir + "/" + name));
    }
    const std::string cache = (tmp_.path() + "/changed.json").toStdString();
    QVERIFY(read_probe_run(dir.toStdString(), cache, false, quick()).measured);
    QVERIFY(!read_probe_run(dir.toStdString(), cache, false, quick()).measured);
    const std::string ffn = (dir + "/ffn.bin").toStdString();
    struct stat st {};
    QCOMPARE(::stat(ffn.c_str(), &st), 0);
    const struct timespec times[2] = {st.st_atim, {st.st_mtim.tv_sec + 5, st.st_mtim.tv_nsec}};
    QCOMPARE(::utimensat(AT_FDCWD, ffn.c_str(), times, 0), 0);
    QVERIFY(read_probe_run(dir.toStdString(), cache, false, quick()).measured);
    QVERIFY(!read_probe_run(dir.toStdString(), cache, false, quick()).measured);
  }

  void corrupt_cache_is_measured_over() {
    const QString cache = tmp_.path() + "/corrupt.json";
    for (const QByteArray& junk : {QByteArray("{not json"), QByteArray("[1,2,3]"),
                                   QByteArray("{\"version\":1,\"mb_per_s\":\"fast\"}")}) {
      QFile f(cache);
      QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
      f.write(junk);
      f.close();
      const ReadProbeResult r = read_probe_run(model_dir_, cache.toStdString(), false, quick());
      QVERIFY2(r.measured, junk.constData());
      QVERIFY(r.mb_per_s > 0);
      QCOMPARE(json_of(cache)["mb_per_s"].toDouble(), r.mb_per_s);  // rewritten whole
      QVERIFY(!read_probe_run(model_dir_, cache.toStdString(), false, quick()).measured);
    }
  }

  void errors_name_the_file() {
    const std::string missing = (tmp_.path() + "/no_such_model").toStdString();
    try {
      read_probe_run(missing, (tmp_.path() + "/x.json").toStdString(), false, quick());
      QFAIL("no error for a missing model");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains(QString::fromStdString(missing)), e.what());
    }
    // The cache's directory is a regular file: the cache cannot be written.
    const QString blocker = tmp_.path() + "/blocker";
    QFile f(blocker);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.close();
    const std::string cache = (blocker + "/read_probe.json").toStdString();
    try {
      read_probe_run(model_dir_, cache, false, quick());
      QFAIL("no error for an unwritable cache");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains(QString::fromStdString(cache)), e.what());
    }
  }
};

QTEST_GUILESS_MAIN(ReadProbeTest)
#include "read_probe_test.moc"
