// active_trace.h - a run's per-token, per-layer active sets on file, for what-if replays.
//
// Opt-in (flashchat-cli generate --trace FILE, or the teaching view). A zlib (gzip) stream:
// "FCTRACE1\n", one JSON line naming the model, its FFN layout and the I/O the run used, then
// per token a fixed record (the DRAM outside the FFN, the window and budget in force, prompt or
// not) and one bitset of ffn_dim bits per layer. ReLU models activate a few percent of the
// neurons, so the compressed bitsets are a few hundred bytes per token.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "flash/flash_model.h"

namespace flashchat {

struct ActiveTraceHeader {
  std::string model;              // the model as opened (path)
  FlashLayout layout;             // ffn.bin's layout (offsets, bundle size, file size)
  bool oracle = false;            // the sets are the true activations, not predictions
  bool bundling = true;
  bool direct_io = true;          // O_DIRECT was in force
  int64_t request_bytes = 0;      // the store's largest request
  int32_t io_buffer_rows = 0;     // the FFN's chunk buffer (streamed neurons)
  int64_t io_plan_bytes = 0;      // IoBufferPlan::total() of the run
  int64_t open_fixed_bytes = 0;   // DRAM outside the FFN when the FFN was built
  bool fresh = true;              // the FFN had run no token before the first one recorded
  bool prefetch = false;          // the run used the look-ahead (the replay models no look-ahead)
};

// Predictor evaluation of one generated token (in memory only, never written to a trace file):
// per layer the truly active neurons (ascending; |activation| above the layer's label
// threshold), and per neuron the predictor's score sigmoid(B(Ax) + bias) and the true
// activation. Only while evaluation is on and the sets are recorded (the teaching view asks).
struct ActiveEvaluation {
  std::vector<std::vector<int32_t>> truly_active;
  std::vector<std::vector<float>> score;
  std::vector<std::vector<float>> activation;
};

struct ActiveTraceToken {
  int64_t fixed_bytes = 0;   // DRAM outside the FFN before this token
  int32_t window = 0;        // k in force
  int64_t budget_bytes = 0;  // 0 = unlimited
  bool prompt = false;
  // A block of prompt tokens run as one forward pass: `active` is the union of its tokens' sets,
  // which leaves the cache as it is (the bundles it lacks are streamed once for the block).
  bool block = false;
  std::vector<std::vector<int32_t>> active;  // per layer, ascending ids
  std::shared_ptr<const ActiveEvaluation> evaluation;  // null unless evaluated (not on file)
};

struct ActiveTrace {
  ActiveTraceHeader header;
  std::vector<ActiveTraceToken> tokens;
};

// Writes a trace token by token. Throws Error naming the file when it cannot be written.
class ActiveTraceWriter {
 public:
  ActiveTraceWriter(const std::string& path, const ActiveTraceHeader& header);
  ~ActiveTraceWriter();
  ActiveTraceWriter(const ActiveTraceWriter&) = delete;
  ActiveTraceWriter& operator=(const ActiveTraceWriter&) = delete;
  // Throws Error when a layer count or an id does not fit the header's layout.
  void append(const ActiveTraceToken& token);
  // Flushes and closes (also done by the destructor, which cannot report errors).
  void close();
  int64_t tokens() const { return tokens_; }

 private:
  std::string path_;
  void* gz_ = nullptr;
  FlashLayout layout_;
  std::vector<uint8_t> bits_;
  int64_t tokens_ = 0;
};

// Reads a whole trace. Throws Error naming the file when it is missing, not a trace, truncated
// or inconsistent with its header.
ActiveTrace active_trace_read(const std::string& path);

}  // namespace flashchat
