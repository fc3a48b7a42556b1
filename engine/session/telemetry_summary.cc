#include "session/telemetry_summary.h"

#include <algorithm>

namespace flashchat {

void TelemetrySummary::add(const TokenTelemetry& t) {
  peak_dram_bytes = std::max(peak_dram_bytes, t.dram.total());
  peak_rss_bytes = std::max(peak_rss_bytes, t.process_rss_bytes);
  last_dram = t.dram;
  if (t.prompt) {
    ++prompt_tokens;
    return;
  }
  ++tokens;
  predictor_ms += t.predictor_ms;
  io_ms += t.io_ms;
  io_hidden_ms += t.io_hidden_ms;
  memory_ms += t.memory_ms;
  compute_ms += t.compute_ms;
  sampling_ms += t.sampling_ms;
  total_ms += t.total_ms;
  bytes_read += t.bytes_read;
  read_requests += t.read_requests;
  neurons_loaded += t.ffn_neurons_loaded;
  neurons_total = t.ffn_neurons_total;
}

}  // namespace flashchat
