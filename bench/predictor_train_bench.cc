// predictor_train_bench.cc - what predictor training costs per Adam step at a model's shape, and
// the estimate for a whole model (training only; the activation collection is the model's
// forward pass over the calibration tokens and is measured by `flashchat-cli convert`).
//
// Times predictor_fit on synthetic rows (random x, ~3% random active labels: the cost does not
// depend on the values) for `--steps` steps at the ranks the converter's rule gives the shape
// (rank for most layers, the last-layer rank for the last quarter), with `--threads` layers
// trained at once as the converter does, and prints ms per step, GFLOP/s and the training time
// of all layers at the converter's default step count.
//
//   predictor_train_bench --dim 4096 --neurons 16384 --layers 32   # opt-6.7b
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <random>
#include <vector>

#include "convert/predictor_fit.h"
#include "convert/predictor_train.h"

using namespace flashchat;

namespace {

struct StepCost {
  double wall_s = 0;  // wall seconds per layer-step, `threads` layers in parallel
  double cpu_s = 0;   // process CPU seconds per layer-step (less disturbed by other processes)
};

// Cost per step of training `threads` layers of `rank` at once (each its own predictor_fit).
StepCost cost_per_step(const std::vector<float>& x, const std::vector<uint8_t>& labels,
                        int64_t rows, int dim, int neurons, int rank, int steps, int threads) {
  PredictorTrainOptions o;
  o.steps = steps;
  const auto t0 = std::chrono::steady_clock::now();
  const std::clock_t c0 = std::clock();
  tbb::parallel_for(0, threads, [&](int layer) {
    PredictorFitJob job;
    job.layer = layer;
    job.rank = rank;
    job.n_train = rows;
    predictor_fit(x.data(), labels.data(), job, dim, neurons, o, [] { return true; });
  });
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
  const double n = static_cast<double>(steps) * threads;
  return {s / n, cpu / n};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Predictor training cost per Adam step at a model shape"};
  int dim = 2048, neurons = 8192, layers = 24, steps = 10, threads = 2;
  int64_t rows = 1024;
  PredictorTrainOptions defaults;
  int rank = defaults.rank;
  app.add_option("--dim", dim, "Model width");
  app.add_option("--neurons", neurons, "FFN neurons per layer");
  app.add_option("--layers", layers, "Layers (for the whole-model estimate)");
  app.add_option("--rank", rank, "Rank of most layers (the last quarter gets the converter's rule)");
  app.add_option("--steps", steps, "Steps timed per rank");
  app.add_option("--rows", rows, "Synthetic training rows");
  app.add_option("--threads", threads, "Layers trained at once (TBB threads)");
  CLI11_PARSE(app, argc, argv);
  tbb::global_control threads_control(tbb::global_control::max_allowed_parallelism, threads);

  std::mt19937_64 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::bernoulli_distribution active(0.03);
  std::vector<float> x(static_cast<size_t>(rows) * dim);
  std::vector<uint8_t> labels(static_cast<size_t>(rows) * neurons);
  for (float& v : x) v = normal(rng);
  for (uint8_t& v : labels) v = active(rng) ? 1 : 0;

  defaults.rank = rank;
  const int max_rank = std::min(dim, neurons);
  std::vector<int> ranks;
  for (int l = 0; l < layers; ++l) ranks.push_back(predictor_rank_for_layer(defaults, l, layers, max_rank));
  double total_s = 0, total_cpu_s = 0;
  std::printf("shape dim %d, neurons %d, %d layers, batch %d rows, %d thread(s)\n", dim, neurons,
              layers, defaults.batch_rows, threads);
  for (int r : {ranks.front(), ranks.back()}) {
    const StepCost c = cost_per_step(x, labels, rows, dim, neurons, r, steps, threads);
    const double flop = 2.0 * defaults.batch_rows * (2.0 * dim * r + 3.0 * r * neurons);
    int n = 0;
    for (int q : ranks) n += q == r;
    std::printf("rank %4d: %8.2f ms wall, %8.2f ms CPU per layer-step (%.1f GFLOP/s wall, %.1f "
                "per CPU second), %d layer(s)\n",
                r, 1e3 * c.wall_s, 1e3 * c.cpu_s, flop / c.wall_s / 1e9, flop / c.cpu_s / 1e9, n);
    total_s += c.wall_s * n * defaults.steps;
    total_cpu_s += c.cpu_s * n * defaults.steps;
    if (ranks.front() == ranks.back()) break;
  }
  std::printf("estimate: %d steps x %d layers = %.0f s of training (%.1f min) at this wall rate; "
              "%.0f CPU s = %.1f min on %d idle core(s)\n",
              defaults.steps, layers, total_s, total_s / 60, total_cpu_s,
              total_cpu_s / threads / 60, threads);
  return 0;
}
