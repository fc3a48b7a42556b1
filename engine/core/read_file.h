// read_file.h - reading a whole file: text, or JSON parsed. The one helper for it.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace flashchat {

// The bytes of `path`. Throws Error(path, "cannot open ...") when it cannot be read.
std::string file_read_text(const std::string& path);

// `path` parsed as JSON. Throws Error naming the file when it cannot be read or is not valid
// JSON (with the parser's position).
nlohmann::json file_read_json(const std::string& path);

}  // namespace flashchat
