// flash_convert.h - converting a dense model (GGUF file or Hugging Face directory) into a flash
// model directory (docs/FLASH_DESIGN.md): ffn.bin (row-column bundles), dram.safetensors
// (resident weights), ffn_scales.bin (quantised bundles' block scales, resident),
// predictors.safetensors (trained on calibration text) and manifest.json.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "flash/flash_model.h"
#include "convert/gate_calib.h"
#include "convert/predictor_train.h"

namespace flashchat {

struct ConvertOptions {
  PredictorTrainOptions predictor;  // its `progress` is ignored; use `progress` below
  std::string calib_path;           // calibration text; empty = flash_default_calib_path()
  int calib_tokens = 4096;          // the text is cut to this many tokens
  bool train_predictors = true;     // false: no predictors.safetensors (oracle/dense modes only)
  // The type of the FFN bundles and the resident matrices: F32, F16, BF16, Q8_0 or Q4_0 (the
  // quantised ones need dim a multiple of 32). Unset: the FFN matrices' own type when they share
  // a plain one, else F16; resident matrices as stored.
  std::optional<DType> weights;
  // The exact gate mode for gated (SwiGLU / GeGLU) FFNs: the gate matrices stay resident, the
  // bundles are [up row | down column], and a neuron's bundle is read when |act(gate . x)| passes
  // its layer's threshold, calibrated on the calibration text so that the neurons above it carry
  // gate_mass of the sum of |act(gate . x) * (up . x)| (convert/gate_calib.h). No predictors.
  bool gate_sparsity = false;
  double gate_mass = 0.99;
  // Called with the overall fraction done (0..1) and the stage ("load", "ffn", "resident",
  // "predictors: ...", "manifest", "done"); return false to cancel.
  std::function<bool(double fraction, const std::string& stage)> progress;
};

// What the converter wrote (for the CLI's summary).
struct ConvertReport {
  FlashLayout ffn;
  std::vector<int> ranks;  // empty without predictors
  std::vector<float> thresholds;
  std::vector<PredictorMetrics> metrics;  // per layer, on `metric_tokens` held-out tokens
  std::vector<float> bias_shifts;         // per layer, the held-out threshold's bias shift
  int64_t metric_tokens = 0;
  double collect_seconds = 0;    // predictor calibration: the model over the tokens
  double train_seconds = 0;      // predictor training, thresholds and metrics
  int calib_tokens = 0;          // calibration tokens (training plus held-out)
  GateCalibration gate;          // gate_sparsity: the thresholds and what they keep
  uint64_t dram_bytes = 0;       // size of dram.safetensors
  uint64_t scale_bytes = 0;      // size of ffn_scales.bin (0: none, plain or unquantised bundles)
  uint64_t predictor_bytes = 0;  // size of predictors.safetensors
  double seconds = 0;
};

// The default calibration corpus: $FLASHCHAT_CALIB when set, else the shipped
// calib/default.txt (see resource_path_find: installed share dir, then the source tree).
std::string flash_default_calib_path();

// `input` may also be a flash model directory: its FFN is rebuilt from the bundles (e.g. to
// store them quantised) and its predictors, when it has any and train_predictors is set, are
// reused as they are (they read the layer input, which the bundles' type does not change).
// Converts `input` into the flash model directory `out_dir`. Everything is written into a
// sibling temporary directory "<out_dir>.tmp-XXXXXX" that is renamed to out_dir at the end, so
// out_dir either does not exist or holds a complete model. Refuses (Error) when out_dir exists
// and is not an empty directory. On any error or cancellation (Error "<out_dir>: conversion
// cancelled") the temporary directory is removed and the exception propagates.
ConvertReport flash_convert(const std::string& input, const std::string& out_dir,
                            const ConvertOptions& options);

}  // namespace flashchat
