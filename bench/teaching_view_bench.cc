// teaching_view_bench.cc - what the teaching view costs the engine: ms per generated token of the
// default model through the GUI's engine bridge (EngineHost on its own thread, as the app runs
// it), with the view closed (nothing recorded), open (the active sets recorded, handed over and
// drawn on the GUI thread) and open with predictor evaluation on (opt-in, computes every
// neuron's true activation). Rounds alternate between the settings so that load on the machine
// hits them alike; the median over rounds of each setting's ms per token (the reply's
// generate_ms / generated tokens) is reported.
//
//   QT_QPA_PLATFORM=offscreen teaching_view_bench [--rounds 7] [--tokens 120] [--budget 0]
#include <CLI/CLI.hpp>
#include <QApplication>
#include <QTimer>
#include <algorithm>
#include <cstdio>

#include "bridge/engine_worker.h"
#include "core/resource_paths.h"
#include "teaching/teaching_view.h"

using namespace flashchat;
using namespace flashchat::ui;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  CLI::App cli{"teaching view cost per token"};
  int rounds = 7, tokens = 120;
  int64_t budget = 0;
  cli.add_option("--rounds", rounds, "rounds per setting");
  cli.add_option("--tokens", tokens, "generated tokens per reply");
  cli.add_option("--budget", budget, "DRAM budget in bytes (0: unlimited)");
  CLI11_PARSE(cli, argc, argv);

  EngineHost host;
  EngineWorker* w = host.worker();
  TeachingView view;
  view.attachEngine(w);
  view.resize(1280, 800);
  bool loaded = false, finished = false;
  GenerationSummary last;
  QObject::connect(w, &EngineWorker::modelLoaded, &app, [&] { loaded = true; });
  QObject::connect(w, &EngineWorker::finished, &app, [&](const GenerationSummary& s) {
    last = s;
    finished = true;
  });
  QObject::connect(w, &EngineWorker::error, &app, [&](const EngineError& e) {
    std::fprintf(stderr, "engine error: %s %s\n", qPrintable(e.message), qPrintable(e.detail));
    std::exit(1);
  });
  auto wait = [&](bool& flag) {
    while (!flag) QApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
  };
  host.loadModel(QString::fromStdString(default_model_path()), FfnMode::Flash, 4, budget);
  wait(loaded);

  const char* names[] = {"view closed", "view open", "view open + evaluation"};
  std::vector<double> ms[3];
  const char* prompts[] = {"Tell me a story about the river", "Once upon a time the king",
                           "The little robot looked at the stars"};
  for (int r = 0; r < rounds; ++r) {
    for (int setting = 0; setting < 3; ++setting) {
      if (setting == 0) {
        view.hide();
      } else {
        view.setEvaluate(setting == 2);
        view.show();
      }
      QApplication::processEvents();
      GenerateOptions o;
      o.max_new_tokens = tokens;
      o.sampling.temperature = 0.8f;
      o.sampling.seed = uint64_t(100 + r);
      finished = false;
      host.runChat({{"user", prompts[r % 3]}}, o);
      wait(finished);
      if (last.generated_tokens < tokens / 2) {
        std::fprintf(stderr, "round %d: only %d tokens, skipped\n", r, last.generated_tokens);
        continue;
      }
      ms[setting].push_back(last.generate_ms / last.generated_tokens);
    }
  }
  const double closed = median(ms[0]);
  std::printf("%-24s %8s %10s\n", "setting", "ms/token", "vs closed");
  for (int s = 0; s < 3; ++s) {
    const double m = median(ms[s]);
    std::printf("%-24s %8.3f %+9.1f%%   (%zu rounds)\n", names[s], m, 100 * (m / closed - 1),
                ms[s].size());
  }
  return 0;
}
