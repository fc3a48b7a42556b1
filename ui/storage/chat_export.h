// chat_export.h - one conversation out of and into the database as a file: Markdown (to read or
// share; not read back) and JSON (the conversation_to_json form, read back by import).
#pragma once

#include <QString>

#include "chat/conversation.h"

namespace flashchat::ui {

// "# Title", the system prompt, then one "## You" / "## Model" section per message, with the
// model and stop reason of each reply in an italic line.
QString conversation_to_markdown(const Conversation& c);

// Write the file (atomically). Throw Error naming the file on failure.
void conversation_export_markdown(const Conversation& c, const QString& path);
void conversation_export_json(const Conversation& c, const QString& path);
// Reads a JSON export. Throws Error naming the file when it cannot be read or is not a
// conversation.
Conversation conversation_import_json(const QString& path);

}  // namespace flashchat::ui
