// gate_calib.h - the per-layer thresholds of the exact gate mode (convert --sparsity gate): which
// |act(gate . x)| a neuron needs for its up/down bundle to be read.
#pragma once

#include <vector>

#include "model/model.h"

namespace flashchat {

struct GateCalibration {
  std::vector<float> thresholds;  // per layer, on |act(gate . x)|
  std::vector<double> kept;       // per layer, share of (token, neuron) pairs above the threshold
  std::vector<double> mass;       // per layer, share of sum |act(g) * u| those pairs carry
  int64_t tokens = 0;             // calibration tokens seen (BOS not counted)
};

// Runs the dense model (FFN matrices resident, gated) over `tokens` in chunks of
// min(max_seq_len, 256) positions, each starting at position 0 with BOS when the vocabulary has
// one. For each layer the rule is: t_l is the largest threshold (on a logarithmic grid of 64
// steps per decade from 1e-7 to 1e4) such that the pairs with |act(gate . x)| > t_l carry at
// least `target_mass` of the layer's sum over tokens and neurons of |act(gate . x) * (up . x)|,
// the magnitude each neuron adds to the hidden vector. target_mass 1 gives t_l = 0 (every neuron
// whose gate is not exactly zero). Throws Error for an ungated model, no tokens, or target_mass
// outside (0, 1].
GateCalibration gate_calibrate(const Model& model, const std::vector<int>& tokens,
                               double target_mass);

}  // namespace flashchat
