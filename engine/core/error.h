// error.h - the one exception type the engine throws.
//
// Every parser and loader reports bad input by throwing flashchat::Error with a message that
// names the file (or source) and the problem, e.g.
//   "stories.gguf: truncated: tensor 'blk.0.attn_q.weight' ends at byte 9000 but file has 4096".
// Callers (CLI, GUI bridge) catch it, show what() and exit / stay usable.
#pragma once

#include <stdexcept>
#include <string>

namespace flashchat {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws Error("<source>: <message>").
[[noreturn]] inline void fail(const std::string& source, const std::string& message) {
  throw Error(source + ": " + message);
}

}  // namespace flashchat
