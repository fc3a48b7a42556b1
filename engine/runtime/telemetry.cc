#include "runtime/telemetry.h"

#include <nlohmann/json.hpp>

namespace flashchat {

std::string telemetry_to_json_line(const TokenTelemetry& t) {
  nlohmann::json j;
  j["index"] = t.index;
  j["pos"] = t.pos;
  j["prompt"] = t.prompt;
  j["block_tokens"] = t.block_tokens;
  j["mode"] = t.mode;
  j["ms"] = {{"predictor", t.predictor_ms}, {"io", t.io_ms},         {"memory", t.memory_ms},
             {"compute", t.compute_ms},     {"sampling", t.sampling_ms}, {"total", t.total_ms},
             {"io_hidden", t.io_hidden_ms}};
  j["bytes_read"] = t.bytes_read;
  j["read_requests"] = t.read_requests;
  j["read_mb_per_s"] = t.read_mb_per_s();
  j["window"] = {{"requested", t.window_requested}, {"in_force", t.window_in_force}};
  j["budget_bytes"] = t.budget_bytes;
  j["process_rss_bytes"] = t.process_rss_bytes;
  j["process_base_rss_bytes"] = t.process_base_rss_bytes;
  j["dram"] = {{"resident_weights", t.dram.resident_weights}, {"predictors", t.dram.predictors},
               {"neuron_cache", t.dram.neuron_cache},         {"kv_cache", t.dram.kv_cache},
               {"io_buffers", t.dram.io_buffers},             {"other", t.dram.other},
               {"total", t.dram.total()}};
  j["ffn_neurons_total"] = t.ffn_neurons_total;
  j["ffn_neurons_loaded"] = t.ffn_neurons_loaded;
  nlohmann::json layers = nlohmann::json::array();
  for (const LayerTelemetry& l : t.layers) {
    nlohmann::json lj = {{"predicted", l.neurons_predicted}, {"added", l.neurons_added},
                         {"removed", l.neurons_removed},     {"streamed", l.neurons_streamed},
                         {"rows_used", l.cache_rows_used},   {"capacity", l.cache_capacity},
                         {"prefetched", l.neurons_prefetched}, {"prefetch_used", l.prefetch_used}};
    if (l.true_active >= 0) {
      lj["true_active"] = l.true_active;
      lj["true_positive"] = l.true_positive;
    }
    layers.push_back(std::move(lj));
  }
  j["layers"] = std::move(layers);
  return j.dump();
}

}  // namespace flashchat
