<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US" sourcelanguage="en_US">
<context>
    <name>flashchat::ui::BundlingFigure</name>
    <message>
        <source>Measure my disk</source>
        <translation>Measure my disk</translation>
    </message>
    <message>
        <source>Random reads of 1 to 32 neighbouring neurons from this model&apos;s ffn.bin, as the engine reads them with bundling on and off (a few seconds)</source>
        <translation>Random reads of 1 to 32 neighbouring neurons from this model&apos;s ffn.bin, as the engine reads them with bundling on and off (a few seconds)</translation>
    </message>
    <message>
        <source>bundled (gate, up, down in one read)</source>
        <translation>bundled (gate, up, down in one read)</translation>
    </message>
    <message>
        <source>unbundled (separate reads)</source>
        <translation>unbundled (separate reads)</translation>
    </message>
    <message>
        <source>bytes of weights per read request</source>
        <translation>bytes of weights per read request</translation>
    </message>
    <message>
        <source>MB/s of weights</source>
        <translation>MB/s of weights</translation>
    </message>
    <message>
        <source>Measuring random reads on this disk…</source>
        <translation>Measuring random reads on this disk…</translation>
    </message>
    <message>
        <source>The measurement failed: %1</source>
        <translation>The measurement failed: %1</translation>
    </message>
    <message>
        <source>&lt;b&gt;Bundling&lt;/b&gt;: load a flash model to measure its reads on this disk.</source>
        <translation>&lt;b&gt;Bundling&lt;/b&gt;: load a flash model to measure its reads on this disk.</translation>
    </message>
    <message>
        <source>&lt;b&gt;Bundling&lt;/b&gt;: how fast does this disk read neurons bundled and unbundled? Measure it.</source>
        <translation>&lt;b&gt;Bundling&lt;/b&gt;: how fast does this disk read neurons bundled and unbundled? Measure it.</translation>
    </message>
    <message>
        <source>&lt;b&gt;Bundling on this disk&lt;/b&gt;: the same neurons read with bundling reach %L1 neurons/s, without %L2 neurons/s (%L3×): bigger requests, fewer of them.</source>
        <translation>&lt;b&gt;Bundling on this disk&lt;/b&gt;: the same neurons read with bundling reach %L1 neurons/s, without %L2 neurons/s (%L3×): bigger requests, fewer of them.</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::CacheMap</name>
    <message>
        <source>Neuron cache map</source>
        <translation>Neuron cache map</translation>
    </message>
    <message>
        <source>just loaded</source>
        <translation>just loaded</translation>
    </message>
    <message>
        <source>just evicted</source>
        <translation>just evicted</translation>
    </message>
    <message>
        <source>streamed (no room)</source>
        <translation>streamed (no room)</translation>
    </message>
    <message>
        <source>resident</source>
        <translation>resident</translation>
    </message>
    <message>
        <source>on flash only</source>
        <translation>on flash only</translation>
    </message>
    <message>
        <source>Send a message: every token&apos;s neurons appear here, layer by layer.</source>
        <translation>Send a message: every token&apos;s neurons appear here, layer by layer.</translation>
    </message>
    <message>
        <source>layer %1</source>
        <translation>layer %1</translation>
    </message>
    <message>
        <source>layer %1, neurons %2–%3
</source>
        <translation>layer %1, neurons %2–%3
</translation>
    </message>
    <message>
        <source>layer %1, neuron %2
</source>
        <translation>layer %1, neuron %2
</translation>
    </message>
    <message>
        <source>last used: not since recording began
</source>
        <translation>last used: not since recording began
</translation>
    </message>
    <message>
        <source>predicted, not active</source>
        <translation>predicted, not active</translation>
    </message>
    <message>
        <source>missed by the predictor</source>
        <translation>missed by the predictor</translation>
    </message>
    <message>
        <source>▸ layer %1</source>
        <translation>▸ layer %1</translation>
    </message>
    <message>
        <source>predicted</source>
        <translation>predicted</translation>
    </message>
    <message>
        <source>not predicted</source>
        <translation>not predicted</translation>
    </message>
    <message>
        <source>active</source>
        <translation>active</translation>
    </message>
    <message>
        <source>inactive</source>
        <translation>inactive</translation>
    </message>
    <message>
        <source>  neuron %1: predictor score %L2 (%3), true activation %L4 (%5)
</source>
        <translation>  neuron %1: predictor score %L2 (%3), true activation %L4 (%5)
</translation>
    </message>
    <message numerus="yes">
        <source>  (%n more neurons in this cell)
</source>
        <translation>
            <numerusform>  (%n more neuron in this cell)
</numerusform>
            <numerusform>  (%n more neurons in this cell)
</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>  (scores kept for the last %n tokens only)
</source>
        <translation>
            <numerusform>  (scores kept for the last %n token only)
</numerusform>
            <numerusform>  (scores kept for the last %n tokens only)
</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>last used: token %1 (%n tokens ago)
</source>
        <translation>
            <numerusform>last used: token %1 (%n token ago)
</numerusform>
            <numerusform>last used: token %1 (%n tokens ago)
</numerusform>
        </translation>
    </message>
    <message>
        <source>ffn.bin: offset %L1, %L2 bytes per bundle (gate, up, down)</source>
        <translation>ffn.bin: offset %L1, %L2 bytes per bundle (gate, up, down)</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::ChatExport</name>
    <message>
        <source>_Exported from FlashChat on %1; started %2._

</source>
        <translation>_Exported from FlashChat on %1; started %2._

</translation>
    </message>
    <message>
        <source>**System prompt:** %1

</source>
        <translation>**System prompt:** %1

</translation>
    </message>
    <message>
        <source>## You

</source>
        <translation>## You

</translation>
    </message>
    <message>
        <source>## Model

</source>
        <translation>## Model

</translation>
    </message>
    <message>
        <source>%1 tokens in %2 ms</source>
        <translation>%1 tokens in %2 ms</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::ChatSampling</name>
    <message>
        <source>Precise</source>
        <translation>Precise</translation>
    </message>
    <message>
        <source>Balanced</source>
        <translation>Balanced</translation>
    </message>
    <message>
        <source>Creative</source>
        <translation>Creative</translation>
    </message>
    <message>
        <source>Greedy</source>
        <translation>Greedy</translation>
    </message>
    <message>
        <source>Custom</source>
        <translation>Custom</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::ChatSettingsDialog</name>
    <message>
        <source>Chat settings</source>
        <translation>Chat settings</translation>
    </message>
    <message>
        <source>&amp;Preset</source>
        <translation>&amp;Preset</translation>
    </message>
    <message>
        <source>0 always picks the most likely token; higher is more varied</source>
        <translation>0 always picks the most likely token; higher is more varied</translation>
    </message>
    <message>
        <source>&amp;Temperature</source>
        <translation>&amp;Temperature</translation>
    </message>
    <message>
        <source>The reply ends after this many tokens</source>
        <translation>The reply ends after this many tokens</translation>
    </message>
    <message>
        <source>&amp;Max tokens</source>
        <translation>&amp;Max tokens</translation>
    </message>
    <message>
        <source>Optional instructions placed before the conversation</source>
        <translation>Optional instructions placed before the conversation</translation>
    </message>
    <message>
        <source>&amp;System prompt</source>
        <translation>&amp;System prompt</translation>
    </message>
    <message>
        <source>Show &amp;advanced settings</source>
        <translation>Show &amp;advanced settings</translation>
    </message>
    <message>
        <source>Advanced</source>
        <translation>Advanced</translation>
    </message>
    <message>
        <source>off</source>
        <translation>off</translation>
    </message>
    <message>
        <source>Top-&amp;k</source>
        <translation>Top-&amp;k</translation>
    </message>
    <message>
        <source>Top-&amp;p</source>
        <translation>Top-&amp;p</translation>
    </message>
    <message>
        <source>M&amp;in-p</source>
        <translation>M&amp;in-p</translation>
    </message>
    <message>
        <source>&amp;Repetition penalty</source>
        <translation>&amp;Repetition penalty</translation>
    </message>
    <message>
        <source>0 = random each reply</source>
        <translation>0 = random each reply</translation>
    </message>
    <message>
        <source>S&amp;eed</source>
        <translation>S&amp;eed</translation>
    </message>
    <message>
        <source>Chat settings — %1</source>
        <translation>Chat settings — %1</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::ChatView</name>
    <message>
        <source>writing…</source>
        <translation>writing…</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::Composer</name>
    <message>
        <source>Cancel edit</source>
        <translation>Cancel edit</translation>
    </message>
    <message>
        <source>Type a message…  (Ctrl+Enter sends, Esc stops)</source>
        <translation>Type a message…  (Ctrl+Enter sends, Esc stops)</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>Message</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>Send</translation>
    </message>
    <message>
        <source>Send (Ctrl+Enter)</source>
        <translation>Send (Ctrl+Enter)</translation>
    </message>
    <message>
        <source>Stop  (Esc)</source>
        <translation>Stop  (Esc)</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>Stop</translation>
    </message>
    <message>
        <source>Stop the reply, keep what is written (Esc)</source>
        <translation>Stop the reply, keep what is written (Esc)</translation>
    </message>
    <message>
        <source>Editing message %1 — sending replaces it and every message after it.</source>
        <translation>Editing message %1 — sending replaces it and every message after it.</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::Conversation</name>
    <message>
        <source>New chat</source>
        <translation>New chat</translation>
    </message>
    <message>
        <source>**System:** </source>
        <translation>**System:** </translation>
    </message>
    <message>
        <source>**You:** </source>
        <translation>**You:** </translation>
    </message>
    <message>
        <source>**Model:** </source>
        <translation>**Model:** </translation>
    </message>
</context>
<context>
    <name>flashchat::ui::ConversationListModel</name>
    <message numerus="yes">
        <source>%1 — %n messages, last change %2</source>
        <translation>
            <numerusform>%1 — %n message, last change %2</numerusform>
            <numerusform>%1 — %n messages, last change %2</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>flashchat::ui::ConvertDialog</name>
    <message>
        <source>Converting %1</source>
        <translation>Converting %1</translation>
    </message>
    <message>
        <source>Making a flash model: FFN weights laid out as row-column bundles on disk, predictors trained on calibration text.</source>
        <translation>Making a flash model: FFN weights laid out as row-column bundles on disk, predictors trained on calibration text.</translation>
    </message>
    <message>
        <source>Into: %1</source>
        <translation>Into: %1</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>Starting…</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>about %1:%2 left</source>
        <translation>about %1:%2 left</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>Cancelling…</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::DbOpen</name>
    <message>
        <source>The chat database %1 is damaged (%2). You can open it read-only to read what is still readable, or keep it aside and start a fresh one.</source>
        <translation>The chat database %1 is damaged (%2). You can open it read-only to read what is still readable, or keep it aside and start a fresh one.</translation>
    </message>
    <message>
        <source>The chat database %1 was written by a newer FlashChat (%2). You can open it read-only, or keep it aside and start a fresh one.</source>
        <translation>The chat database %1 was written by a newer FlashChat (%2). You can open it read-only, or keep it aside and start a fresh one.</translation>
    </message>
    <message>
        <source>The chat database %1 cannot be written (%2). You can open it read-only (new chats will not be saved), or start a fresh one.</source>
        <translation>The chat database %1 cannot be written (%2). You can open it read-only (new chats will not be saved), or start a fresh one.</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::EngineControls</name>
    <message>
        <source>Window &amp;k</source>
        <translation>Window &amp;k</translation>
    </message>
    <message>
        <source>Keep the neurons of the last k tokens in DRAM</source>
        <translation>Keep the neurons of the last k tokens in DRAM</translation>
    </message>
    <message numerus="yes">
        <source>%n tokens</source>
        <translation>
            <numerusform>%n token</numerusform>
            <numerusform>%n tokens</numerusform>
        </translation>
    </message>
    <message>
        <source>&amp;Budget</source>
        <translation>&amp;Budget</translation>
    </message>
    <message>
        <source>DRAM the engine may use; cannot go below the mode&apos;s minimum</source>
        <translation>DRAM the engine may use; cannot go below the mode&apos;s minimum</translation>
    </message>
    <message>
        <source>&amp;Mode</source>
        <translation>&amp;Mode</translation>
    </message>
    <message>
        <source>flash: predicted neurons from disk with a windowed cache; mmap: page cache; naive: read every neuron; dram: all in memory</source>
        <translation>flash: predicted neurons from disk with a windowed cache; mmap: page cache; naive: read every neuron; dram: all in memory</translation>
    </message>
    <message>
        <source>&amp;Threads</source>
        <translation>&amp;Threads</translation>
    </message>
    <message>
        <source>%1% of the %2 model · minimum %3</source>
        <translation>%1% of the %2 model · minimum %3</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::EngineWorker</name>
    <message>
        <source>unlimited</source>
        <translation>unlimited</translation>
    </message>
    <message>
        <source>The budget %1</source>
        <translation>The budget %1</translation>
    </message>
    <message>
        <source>The DRAM budget</source>
        <translation>The DRAM budget</translation>
    </message>
    <message>
        <source>%1 is below this model&apos;s minimum of %2 in %3 mode (resident weights, predictors, KV cache and I/O buffers must fit). The previous budget stays in force.</source>
        <translation>%1 is below this model&apos;s minimum of %2 in %3 mode (resident weights, predictors, KV cache and I/O buffers must fit). The previous budget stays in force.</translation>
    </message>
    <message>
        <source>The setting was not applied: %1</source>
        <translation>The setting was not applied: %1</translation>
    </message>
    <message>
        <source>no model loaded</source>
        <translation>no model loaded</translation>
    </message>
    <message>
        <source>FlashChat could not open this model. It may be damaged, incomplete or not a model FlashChat understands (GGUF file, Hugging Face folder or converted flash model).</source>
        <translation>FlashChat could not open this model. It may be damaged, incomplete or not a model FlashChat understands (GGUF file, Hugging Face folder or converted flash model).</translation>
    </message>
    <message>
        <source>k %1→%2</source>
        <translation>k %1→%2</translation>
    </message>
    <message>
        <source>budget %1→%2</source>
        <translation>budget %1→%2</translation>
    </message>
    <message>
        <source>mode %1→%2</source>
        <translation>mode %1→%2</translation>
    </message>
    <message>
        <source>No model is loaded. Open a model to start chatting.</source>
        <translation>No model is loaded. Open a model to start chatting.</translation>
    </message>
    <message>
        <source>This conversation no longer fits in the model&apos;s context of %1 tokens. Start a new chat, or delete or shorten earlier messages.</source>
        <translation>This conversation no longer fits in the model&apos;s context of %1 tokens. Start a new chat, or delete or shorten earlier messages.</translation>
    </message>
    <message>
        <source>This reply may take up to %1 tokens of context, and their KV cache does not fit in the DRAM budget. Raise the budget to at least %2, lower &quot;max tokens&quot; in the chat settings, or start a new chat.</source>
        <translation>This reply may take up to %1 tokens of context, and their KV cache does not fit in the DRAM budget. Raise the budget to at least %2, lower &quot;max tokens&quot; in the chat settings, or start a new chat.</translation>
    </message>
    <message>
        <source>The conversation has grown: its KV cache no longer fits in the DRAM budget. Raise the budget to at least %1 or start a new chat. What was written so far is kept.</source>
        <translation>The conversation has grown: its KV cache no longer fits in the DRAM budget. Raise the budget to at least %1 or start a new chat. What was written so far is kept.</translation>
    </message>
    <message>
        <source>Reading the model from disk failed while the reply was being written. What was written so far is kept; you can try again.</source>
        <translation>Reading the model from disk failed while the reply was being written. What was written so far is kept; you can try again.</translation>
    </message>
    <message>
        <source>The disk&apos;s read speed could not be measured, so the read plot has no reference line. Chatting is not affected.</source>
        <translation>The disk&apos;s read speed could not be measured, so the read plot has no reference line. Chatting is not affected.</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::LivePanel</name>
    <message>
        <source>device limit %L1 MB/s</source>
        <translation>device limit %L1 MB/s</translation>
    </message>
    <message>
        <source>Hover a plot to read one token&apos;s values; the newest token is shown here while generating.</source>
        <translation>Hover a plot to read one token&apos;s values; the newest token is shown here while generating.</translation>
    </message>
    <message>
        <source>token</source>
        <translation>token</translation>
    </message>
    <message>
        <source>DRAM (MB)</source>
        <translation>DRAM (MB)</translation>
    </message>
    <message>
        <source>DRAM by category, stacked,
against the budget</source>
        <translation>DRAM by category, stacked,
against the budget</translation>
    </message>
    <message>
        <source>neurons</source>
        <translation>neurons</translation>
    </message>
    <message>
        <source>Neurons loaded, streamed
and evicted per token</source>
        <translation>Neurons loaded, streamed
and evicted per token</translation>
    </message>
    <message>
        <source>window k</source>
        <translation>window k</translation>
    </message>
    <message>
        <source>read (MB/s)</source>
        <translation>read (MB/s)</translation>
    </message>
    <message>
        <source>Flash read throughput per token
against the device&apos;s limit</source>
        <translation>Flash read throughput per token
against the device&apos;s limit</translation>
    </message>
    <message>
        <source>read throughput</source>
        <translation>read throughput</translation>
    </message>
    <message>
        <source>time (ms)</source>
        <translation>time (ms)</translation>
    </message>
    <message>
        <source>Time per token, split into
predictor, I/O, memory, compute, sampling</source>
        <translation>Time per token, split into
predictor, I/O, memory, compute, sampling</translation>
    </message>
    <message>
        <source>Token %1 (prompt)</source>
        <translation>Token %1 (prompt)</translation>
    </message>
    <message>
        <source>Token %1</source>
        <translation>Token %1</translation>
    </message>
    <message>
        <source>of %1 MB budget</source>
        <translation>of %1 MB budget</translation>
    </message>
    <message>
        <source>MB, no budget</source>
        <translation>MB, no budget</translation>
    </message>
    <message>
        <source>&lt;b&gt;DRAM&lt;/b&gt; %1 %2 · RSS above start %3 MB: </source>
        <translation>&lt;b&gt;DRAM&lt;/b&gt; %1 %2 · RSS above start %3 MB: </translation>
    </message>
    <message>
        <source>&lt;b&gt;Neurons&lt;/b&gt; %1 %2 %3 %4</source>
        <translation>&lt;b&gt;Neurons&lt;/b&gt; %1 %2 %3 %4</translation>
    </message>
    <message>
        <source>loaded %1</source>
        <translation>loaded %1</translation>
    </message>
    <message>
        <source>streamed %1</source>
        <translation>streamed %1</translation>
    </message>
    <message>
        <source>evicted %1</source>
        <translation>evicted %1</translation>
    </message>
    <message>
        <source>window k %1 (asked %2)</source>
        <translation>window k %1 (asked %2)</translation>
    </message>
    <message>
        <source>&lt;b&gt;Flash read&lt;/b&gt; %1 MB/s (%2 MB; %3 ms of it hidden behind compute)</source>
        <translation>&lt;b&gt;Flash read&lt;/b&gt; %1 MB/s (%2 MB; %3 ms of it hidden behind compute)</translation>
    </message>
    <message>
        <source>&lt;b&gt;Time&lt;/b&gt; %1 ms: </source>
        <translation>&lt;b&gt;Time&lt;/b&gt; %1 ms: </translation>
    </message>
</context>
<context>
    <name>flashchat::ui::MainWindow</name>
    <message>
        <source>Not saved</source>
        <translation>Not saved</translation>
    </message>
    <message>
        <source>It is open read-only: new messages are not saved.</source>
        <translation>It is open read-only: new messages are not saved.</translation>
    </message>
    <message>
        <source>A temporary database is used for this session.</source>
        <translation>A temporary database is used for this session.</translation>
    </message>
    <message>
        <source>The old file was kept as %1; this is a fresh database.</source>
        <translation>The old file was kept as %1; this is a fresh database.</translation>
    </message>
    <message>
        <source>Chat database</source>
        <translation>Chat database</translation>
    </message>
    <message>
        <source>Mo&amp;del</source>
        <translation>Mo&amp;del</translation>
    </message>
    <message>
        <source>Info</source>
        <translation>Info</translation>
    </message>
    <message>
        <source>Architecture, sizes, minimum budgets, predictor quality</source>
        <translation>Architecture, sizes, minimum budgets, predictor quality</translation>
    </message>
    <message>
        <source>Chat settings</source>
        <translation>Chat settings</translation>
    </message>
    <message>
        <source>System prompt and sampling for this conversation</source>
        <translation>System prompt and sampling for this conversation</translation>
    </message>
    <message>
        <source>Copy chat</source>
        <translation>Copy chat</translation>
    </message>
    <message>
        <source>Copy the whole conversation as text</source>
        <translation>Copy the whole conversation as text</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>Pause</translation>
    </message>
    <message>
        <source>Freeze the plots; tokens keep being collected</source>
        <translation>Freeze the plots; tokens keep being collected</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>Resume</translation>
    </message>
    <message>
        <source>disk limit: not measured</source>
        <translation>disk limit: not measured</translation>
    </message>
    <message>
        <source>Re-measure disk</source>
        <translation>Re-measure disk</translation>
    </message>
    <message>
        <source>Measure the disk&apos;s random-read speed again (about 1.5 s, between replies)</source>
        <translation>Measure the disk&apos;s random-read speed again (about 1.5 s, between replies)</translation>
    </message>
    <message>
        <source>disk limit: measuring…</source>
        <translation>disk limit: measuring…</translation>
    </message>
    <message>
        <source>Live plots appear here (ui/plots not merged yet)</source>
        <translation>Live plots appear here (ui/plots not merged yet)</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;File</translation>
    </message>
    <message>
        <source>&amp;New chat</source>
        <translation>&amp;New chat</translation>
    </message>
    <message>
        <source>Open &amp;GGUF file…</source>
        <translation>Open &amp;GGUF file…</translation>
    </message>
    <message>
        <source>Open model &amp;folder…</source>
        <translation>Open model &amp;folder…</translation>
    </message>
    <message>
        <source>&amp;Import chat (JSON)…</source>
        <translation>&amp;Import chat (JSON)…</translation>
    </message>
    <message>
        <source>Import a chat</source>
        <translation>Import a chat</translation>
    </message>
    <message>
        <source>FlashChat chats (*.json)</source>
        <translation>FlashChat chats (*.json)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Quit</translation>
    </message>
    <message>
        <source>&amp;Chat</source>
        <translation>&amp;Chat</translation>
    </message>
    <message>
        <source>Chat &amp;settings…</source>
        <translation>Chat &amp;settings…</translation>
    </message>
    <message>
        <source>&amp;Regenerate</source>
        <translation>&amp;Regenerate</translation>
    </message>
    <message>
        <source>&amp;Copy chat</source>
        <translation>&amp;Copy chat</translation>
    </message>
    <message>
        <source>&amp;Model</source>
        <translation>&amp;Model</translation>
    </message>
    <message>
        <source>Model &amp;info…</source>
        <translation>Model &amp;info…</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;View</translation>
    </message>
    <message>
        <source>&amp;Run history</source>
        <translation>&amp;Run history</translation>
    </message>
    <message>
        <source>&amp;Live panel</source>
        <translation>&amp;Live panel</translation>
    </message>
    <message>
        <source>&amp;Teaching view</source>
        <translation>&amp;Teaching view</translation>
    </message>
    <message>
        <source>&amp;Language (applies at next start)</source>
        <translation>&amp;Language (applies at next start)</translation>
    </message>
    <message>
        <source>System language</source>
        <translation>System language</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Language</translation>
    </message>
    <message>
        <source>The new language applies the next time FlashChat starts.</source>
        <translation>The new language applies the next time FlashChat starts.</translation>
    </message>
    <message>
        <source>Type a message…  (Ctrl+Enter sends, Esc stops)</source>
        <translation>Type a message…  (Ctrl+Enter sends, Esc stops)</translation>
    </message>
    <message>
        <source>Loading the model…</source>
        <translation>Loading the model…</translation>
    </message>
    <message>
        <source>disk limit %L1 MB/s (%2)</source>
        <translation>disk limit %L1 MB/s (%2)</translation>
    </message>
    <message>
        <source>measured now</source>
        <translation>measured now</translation>
    </message>
    <message>
        <source>cached</source>
        <translation>cached</translation>
    </message>
    <message>
        <source>No model found</source>
        <translation>No model found</translation>
    </message>
    <message>
        <source>The built-in model is missing from this installation. Open a model to start chatting.</source>
        <translation>The built-in model is missing from this installation. Open a model to start chatting.</translation>
    </message>
    <message>
        <source>Open a model…</source>
        <translation>Open a model…</translation>
    </message>
    <message>
        <source>Busy</source>
        <translation>Busy</translation>
    </message>
    <message>
        <source>Stop the reply before switching models.</source>
        <translation>Stop the reply before switching models.</translation>
    </message>
    <message>
        <source>Loading %1…</source>
        <translation>Loading %1…</translation>
    </message>
    <message>
        <source>Welcome to FlashChat</source>
        <translation>Welcome to FlashChat</translation>
    </message>
    <message>
        <source>The built-in model is small on purpose: a 5.3M-parameter continuation model that this project trained itself on Debian documentation and other free texts. It is not a chat assistant — it continues your text, and its replies are locally fluent nonsense. It is here to show the technique live: as it writes, the plots on the right show FFN neurons being read from disk as the predictor asks for them, while the last k tokens&apos; neurons stay in DRAM within the budget you set. Open a real model (GGUF file or Hugging Face folder) to chat.</source>
        <translation>The built-in model is small on purpose: a 5.3M-parameter continuation model that this project trained itself on Debian documentation and other free texts. It is not a chat assistant — it continues your text, and its replies are locally fluent nonsense. It is here to show the technique live: as it writes, the plots on the right show FFN neurons being read from disk as the predictor asks for them, while the last k tokens&apos; neurons stay in DRAM within the budget you set. Open a real model (GGUF file or Hugging Face folder) to chat.</translation>
    </message>
    <message>
        <source>About this model</source>
        <translation>About this model</translation>
    </message>
    <message>
        <source>The model could not be opened</source>
        <translation>The model could not be opened</translation>
    </message>
    <message>
        <source>Use the built-in model</source>
        <translation>Use the built-in model</translation>
    </message>
    <message>
        <source>Budget below the minimum</source>
        <translation>Budget below the minimum</translation>
    </message>
    <message>
        <source>Set the minimum (%1)</source>
        <translation>Set the minimum (%1)</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>New chat</translation>
    </message>
    <message>
        <source>Reading the model failed</source>
        <translation>Reading the model failed</translation>
    </message>
    <message>
        <source>Try again</source>
        <translation>Try again</translation>
    </message>
    <message>
        <source>The conversation is too long for this model</source>
        <translation>The conversation is too long for this model</translation>
    </message>
    <message>
        <source>Setting not applied</source>
        <translation>Setting not applied</translation>
    </message>
    <message>
        <source>The context is full</source>
        <translation>The context is full</translation>
    </message>
    <message>
        <source>The reply stopped because the model&apos;s context of %1 tokens is used up. Start a new chat to continue.</source>
        <translation>The reply stopped because the model&apos;s context of %1 tokens is used up. Start a new chat to continue.</translation>
    </message>
    <message>
        <source>Open a GGUF model</source>
        <translation>Open a GGUF model</translation>
    </message>
    <message>
        <source>GGUF models (*.gguf);;All files (*)</source>
        <translation>GGUF models (*.gguf);;All files (*)</translation>
    </message>
    <message>
        <source>Open a Hugging Face or flash model folder</source>
        <translation>Open a Hugging Face or flash model folder</translation>
    </message>
    <message>
        <source>Conversion failed</source>
        <translation>Conversion failed</translation>
    </message>
    <message>
        <source>FlashChat could not convert %1 into a flash model. Check that it is a GGUF file or a Hugging Face folder with config.json, *.safetensors and tokenizer.json.</source>
        <translation>FlashChat could not convert %1 into a flash model. Check that it is a GGUF file or a Hugging Face folder with config.json, *.safetensors and tokenizer.json.</translation>
    </message>
    <message>
        <source>Open another…</source>
        <translation>Open another…</translation>
    </message>
    <message>
        <source>mode %1 · k %2</source>
        <translation>mode %1 · k %2</translation>
    </message>
    <message>
        <source>%L1 tok/s</source>
        <translation>%L1 tok/s</translation>
    </message>
    <message>
        <source>— tok/s</source>
        <translation>— tok/s</translation>
    </message>
    <message>
        <source>TTFT %L1 ms</source>
        <translation>TTFT %L1 ms</translation>
    </message>
    <message>
        <source>TTFT —</source>
        <translation>TTFT —</translation>
    </message>
    <message>
        <source>prompt %1/%2 (%3%)</source>
        <translation>prompt %1/%2 (%3%)</translation>
    </message>
    <message>
        <source>context %1/%2</source>
        <translation>context %1/%2</translation>
    </message>
    <message>
        <source>DRAM %1 / %2</source>
        <translation>DRAM %1 / %2</translation>
    </message>
    <message>
        <source>RSS %1</source>
        <translation>RSS %1</translation>
    </message>
    <message>
        <source>DRAM — / %1</source>
        <translation>DRAM — / %1</translation>
    </message>
    <message>
        <source>RSS —</source>
        <translation>RSS —</translation>
    </message>
    <message>
        <source>River walk (demo)</source>
        <translation>River walk (demo)</translation>
    </message>
    <message>
        <source>FlashChat — chat database</source>
        <translation>FlashChat — chat database</translation>
    </message>
    <message>
        <source>Open read-only</source>
        <translation>Open read-only</translation>
    </message>
    <message>
        <source>Start a fresh one</source>
        <translation>Start a fresh one</translation>
    </message>
    <message>
        <source>Keep it aside, start a fresh one</source>
        <translation>Keep it aside, start a fresh one</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>Quit</translation>
    </message>
    <message>
        <source>Preparing the chat database failed: %1</source>
        <translation>Preparing the chat database failed: %1</translation>
    </message>
    <message>
        <source>+ New chat</source>
        <translation>+ New chat</translation>
    </message>
    <message>
        <source>Start a new conversation (Ctrl+N)</source>
        <translation>Start a new conversation (Ctrl+N)</translation>
    </message>
    <message>
        <source>Search all chats</source>
        <translation>Search all chats</translation>
    </message>
    <message>
        <source>Conversations</source>
        <translation>Conversations</translation>
    </message>
    <message>
        <source>Rename</source>
        <translation>Rename</translation>
    </message>
    <message>
        <source>Export as Markdown…</source>
        <translation>Export as Markdown…</translation>
    </message>
    <message>
        <source>Export as Markdown</source>
        <translation>Export as Markdown</translation>
    </message>
    <message>
        <source>Markdown (*.md)</source>
        <translation>Markdown (*.md)</translation>
    </message>
    <message>
        <source>Export as JSON…</source>
        <translation>Export as JSON…</translation>
    </message>
    <message>
        <source>Export as JSON</source>
        <translation>Export as JSON</translation>
    </message>
    <message>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>Delete</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>Undo</translation>
    </message>
    <message>
        <source>Bring the deleted chat back</source>
        <translation>Bring the deleted chat back</translation>
    </message>
    <message>
        <source>Search failed: %1</source>
        <translation>Search failed: %1</translation>
    </message>
    <message>
        <source>No chat contains “%1”</source>
        <translation>No chat contains “%1”</translation>
    </message>
    <message numerus="yes">
        <source>%n chats match</source>
        <translation>
            <numerusform>%n chat matches</numerusform>
            <numerusform>%n chats match</numerusform>
        </translation>
    </message>
    <message>
        <source>Deleted “%1”</source>
        <translation>Deleted “%1”</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>Export failed</translation>
    </message>
    <message>
        <source>The chat could not be written.</source>
        <translation>The chat could not be written.</translation>
    </message>
    <message>
        <source>Import failed</source>
        <translation>Import failed</translation>
    </message>
    <message>
        <source>%1 is not a chat exported by FlashChat.</source>
        <translation>%1 is not a chat exported by FlashChat.</translation>
    </message>
    <message>
        <source>Run history</source>
        <translation>Run history</translation>
    </message>
    <message>
        <source>The recorded runs could not be read.</source>
        <translation>The recorded runs could not be read.</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::MessageWidget</name>
    <message>
        <source>code</source>
        <translation>code</translation>
    </message>
    <message>
        <source>Copy code</source>
        <translation>Copy code</translation>
    </message>
    <message>
        <source>Copy this code block</source>
        <translation>Copy this code block</translation>
    </message>
    <message>
        <source>You</source>
        <translation>You</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Model</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>Copy</translation>
    </message>
    <message>
        <source>Copy this message</source>
        <translation>Copy this message</translation>
    </message>
    <message>
        <source>Edit</source>
        <translation>Edit</translation>
    </message>
    <message>
        <source>Edit this message and send it again</source>
        <translation>Edit this message and send it again</translation>
    </message>
    <message>
        <source>Regenerate</source>
        <translation>Regenerate</translation>
    </message>
    <message>
        <source>Write this reply again</source>
        <translation>Write this reply again</translation>
    </message>
    <message>
        <source>Click a word to see what its token cost</source>
        <translation>Click a word to see what its token cost</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::ModelInfoDialog</name>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Path</source>
        <translation>Path</translation>
    </message>
    <message>
        <source>Architecture</source>
        <translation>Architecture</translation>
    </message>
    <message>
        <source>%1, %2 layers, d %3, %4 heads, FFN %5 neurons/layer (%6)</source>
        <translation>%1, %2 layers, d %3, %4 heads, FFN %5 neurons/layer (%6)</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>Parameters</translation>
    </message>
    <message>
        <source>Vocabulary / context</source>
        <translation>Vocabulary / context</translation>
    </message>
    <message>
        <source>%1 tokens / %2 positions</source>
        <translation>%1 tokens / %2 positions</translation>
    </message>
    <message>
        <source>Chat template</source>
        <translation>Chat template</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>yes</translation>
    </message>
    <message>
        <source>none (a continuation model; turns are formatted as plain text)</source>
        <translation>none (a continuation model; turns are formatted as plain text)</translation>
    </message>
    <message>
        <source>Format</source>
        <translation>Format</translation>
    </message>
    <message>
        <source>flash model (converted)</source>
        <translation>flash model (converted)</translation>
    </message>
    <message>
        <source>dense (runs in DRAM)</source>
        <translation>dense (runs in DRAM)</translation>
    </message>
    <message>
        <source>Bytes by part</source>
        <translation>Bytes by part</translation>
    </message>
    <message>
        <source>embeddings %1 · attention %2 · FFN %3%4 · norms %5 · predictors %6</source>
        <translation>embeddings %1 · attention %2 · FFN %3%4 · norms %5 · predictors %6</translation>
    </message>
    <message>
        <source> (on flash)</source>
        <translation> (on flash)</translation>
    </message>
    <message>
        <source>Model size</source>
        <translation>Model size</translation>
    </message>
    <message>
        <source> (%1 bytes)</source>
        <translation> (%1 bytes)</translation>
    </message>
    <message>
        <source>Minimum budget</source>
        <translation>Minimum budget</translation>
    </message>
    <message>
        <source>layer %1 predictor: recall %L2%, precision %L3%
</source>
        <translation>layer %1 predictor: recall %L2%, precision %L3%
</translation>
    </message>
    <message>
        <source>Model info — %1</source>
        <translation>Model info — %1</translation>
    </message>
    <message>
        <source>Predictors (measured by the converter on held-out calibration tokens)</source>
        <translation>Predictors (measured by the converter on held-out calibration tokens)</translation>
    </message>
    <message>
        <source>Recall</source>
        <translation>Recall</translation>
    </message>
    <message>
        <source>Precision</source>
        <translation>Precision</translation>
    </message>
    <message>
        <source>Predicted active</source>
        <translation>Predicted active</translation>
    </message>
    <message>
        <source>Truly active</source>
        <translation>Truly active</translation>
    </message>
    <message>
        <source>Rank</source>
        <translation>Rank</translation>
    </message>
    <message>
        <source>Layer %1</source>
        <translation>Layer %1</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::ModelList</name>
    <message>
        <source>FlashChat default (5.3M)</source>
        <translation>FlashChat default (5.3M)</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::NoticeCard</name>
    <message>
        <source>Dismiss</source>
        <translation>Dismiss</translation>
    </message>
    <message>
        <source>Hide this card</source>
        <translation>Hide this card</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::Palette</name>
    <message>
        <source>resident weights</source>
        <translation>resident weights</translation>
    </message>
    <message>
        <source>predictors</source>
        <translation>predictors</translation>
    </message>
    <message>
        <source>neuron cache</source>
        <translation>neuron cache</translation>
    </message>
    <message>
        <source>KV cache</source>
        <translation>KV cache</translation>
    </message>
    <message>
        <source>I/O buffers</source>
        <translation>I/O buffers</translation>
    </message>
    <message>
        <source>other</source>
        <translation>other</translation>
    </message>
    <message>
        <source>predictor</source>
        <translation>predictor</translation>
    </message>
    <message>
        <source>I/O</source>
        <translation>I/O</translation>
    </message>
    <message>
        <source>memory mgmt</source>
        <translation>memory mgmt</translation>
    </message>
    <message>
        <source>compute</source>
        <translation>compute</translation>
    </message>
    <message>
        <source>sampling</source>
        <translation>sampling</translation>
    </message>
    <message>
        <source>loaded</source>
        <translation>loaded</translation>
    </message>
    <message>
        <source>evicted</source>
        <translation>evicted</translation>
    </message>
    <message>
        <source>streamed</source>
        <translation>streamed</translation>
    </message>
    <message>
        <source>window k</source>
        <translation>window k</translation>
    </message>
    <message>
        <source>budget</source>
        <translation>budget</translation>
    </message>
    <message>
        <source>device limit</source>
        <translation>device limit</translation>
    </message>
    <message>
        <source>process RSS above start (GUI included)</source>
        <translation>process RSS above start (GUI included)</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::PhaseBar</name>
    <message>
        <source>Token phases</source>
        <translation>Token phases</translation>
    </message>
    <message>
        <source>The selected token&apos;s phases appear here.</source>
        <translation>The selected token&apos;s phases appear here.</translation>
    </message>
    <message>
        <source>1 predict</source>
        <translation>1 predict</translation>
    </message>
    <message>
        <source>2 window diff, delete &amp; append</source>
        <translation>2 window diff, delete &amp; append</translation>
    </message>
    <message>
        <source>3 bundled reads</source>
        <translation>3 bundled reads</translation>
    </message>
    <message>
        <source>4 compute</source>
        <translation>4 compute</translation>
    </message>
    <message>
        <source>5 sample</source>
        <translation>5 sample</translation>
    </message>
    <message>
        <source>%1 %L2 ms</source>
        <translation>%1 %L2 ms</translation>
    </message>
    <message>
        <source>token %L1 ms; reads hidden behind compute %L2 ms (overlapped, not in the bar)</source>
        <translation>token %L1 ms; reads hidden behind compute %L2 ms (overlapped, not in the bar)</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::RowMatrix</name>
    <message>
        <source>Preallocated matrix of the selected layer</source>
        <translation>Preallocated matrix of the selected layer</translation>
    </message>
    <message>
        <source>Select a token: its memory management appears here.</source>
        <translation>Select a token: its memory management appears here.</translation>
    </message>
    <message>
        <source>a cell per row · pale: kept · green: filled now (framed: in place) · red: deleted</source>
        <translation>a cell per row · pale: kept · green: filled now (framed: in place) · red: deleted</translation>
    </message>
    <message>
        <source>Layer %1, rows in use %L2 → %L4 of %L3 · %L5 holes filled by the last row (swap with last) · %L6 last rows dropped · %L7 replaced in place · %L8 appended</source>
        <translation>Layer %1, rows in use %L2 → %L4 of %L3 · %L5 holes filled by the last row (swap with last) · %L6 last rows dropped · %L7 replaced in place · %L8 appended</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::RunHistoryView</name>
    <message>
        <source>← Back to chat</source>
        <translation>← Back to chat</translation>
    </message>
    <message>
        <source>&lt;b&gt;Run history&lt;/b&gt;</source>
        <translation>&lt;b&gt;Run history&lt;/b&gt;</translation>
    </message>
    <message>
        <source>Select a run to see its plots as they were live; select two (Ctrl+click) to compare them.</source>
        <translation>Select a run to see its plots as they were live; select two (Ctrl+click) to compare them.</translation>
    </message>
    <message>
        <source>Recorded runs</source>
        <translation>Recorded runs</translation>
    </message>
    <message>
        <source>This run cannot be read: %1</source>
        <translation>This run cannot be read: %1</translation>
    </message>
    <message>
        <source>&lt;table cellspacing=0 cellpadding=3&gt;&lt;tr&gt;&lt;th align=left&gt;per token&lt;/th&gt;&lt;th align=right&gt;A&lt;/th&gt;&lt;th align=right&gt;B&lt;/th&gt;&lt;th align=right&gt;B/A&lt;/th&gt;&lt;/tr&gt;</source>
        <translation>&lt;table cellspacing=0 cellpadding=3&gt;&lt;tr&gt;&lt;th align=left&gt;per token&lt;/th&gt;&lt;th align=right&gt;A&lt;/th&gt;&lt;th align=right&gt;B&lt;/th&gt;&lt;th align=right&gt;B/A&lt;/th&gt;&lt;/tr&gt;</translation>
    </message>
    <message>
        <source>ms</source>
        <translation>ms</translation>
    </message>
    <message>
        <source>MB read</source>
        <translation>MB read</translation>
    </message>
    <message>
        <source>FFN neurons loaded</source>
        <translation>FFN neurons loaded</translation>
    </message>
    <message>
        <source>tokens (generated)</source>
        <translation>tokens (generated)</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::RunListModel</name>
    <message>
        <source>Started</source>
        <translation>Started</translation>
    </message>
    <message>
        <source>Chat</source>
        <translation>Chat</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Model</translation>
    </message>
    <message>
        <source>Mode</source>
        <translation>Mode</translation>
    </message>
    <message>
        <source>k</source>
        <translation>k</translation>
    </message>
    <message>
        <source>Budget</source>
        <translation>Budget</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>Tokens</translation>
    </message>
    <message>
        <source>ms/token</source>
        <translation>ms/token</translation>
    </message>
    <message>
        <source>MB read/token</source>
        <translation>MB read/token</translation>
    </message>
    <message>
        <source>FFN loaded/token</source>
        <translation>FFN loaded/token</translation>
    </message>
    <message>
        <source>(deleted chat)</source>
        <translation>(deleted chat)</translation>
    </message>
    <message>
        <source>%1 · k %2 · budget %3 · %4 tokens · %L5 ms/token · %L6 MB read/token · %L7 FFN neurons loaded/token</source>
        <translation>%1 · k %2 · budget %3 · %4 tokens · %L5 ms/token · %L6 MB read/token · %L7 FFN neurons loaded/token</translation>
    </message>
    <message>
        <source> · not finished</source>
        <translation> · not finished</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::StopReason</name>
    <message>
        <source>reached the token limit</source>
        <translation>reached the token limit</translation>
    </message>
    <message>
        <source>end of text</source>
        <translation>end of text</translation>
    </message>
    <message>
        <source>end of turn</source>
        <translation>end of turn</translation>
    </message>
    <message>
        <source>context full</source>
        <translation>context full</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>stopped</translation>
    </message>
    <message>
        <source>interrupted</source>
        <translation>interrupted</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::TeachingView</name>
    <message>
        <source>The neuron cache. Each row is a layer, each cell a group of FFN neurons. Before every token a small predictor guesses which neurons will fire; only those are needed. Vivid green cells were just loaded from flash, red ones just evicted to make room, pale green ones stay resident in DRAM, sky-blue ones were streamed (no room left under the budget).</source>
        <translation>The neuron cache. Each row is a layer, each cell a group of FFN neurons. Before every token a small predictor guesses which neurons will fire; only those are needed. Vivid green cells were just loaded from flash, red ones just evicted to make room, pale green ones stay resident in DRAM, sky-blue ones were streamed (no room left under the budget).</translation>
    </message>
    <message>
        <source>One token, phase by phase: predict, compare with the window (neurons of the last k tokens stay cached, so only the difference is read), delete and append rows in the preallocated matrix, read the missing bundles from flash, compute.</source>
        <translation>One token, phase by phase: predict, compare with the window (neurons of the last k tokens stay cached, so only the difference is read), delete and append rows in the preallocated matrix, read the missing bundles from flash, compute.</translation>
    </message>
    <message>
        <source>Step through the run: play, pause, one token at a time, or drag the slider. Each neuron&apos;s gate, up and down weights lie side by side on flash (a bundle), so one read fetches all three.</source>
        <translation>Step through the run: play, pause, one token at a time, or drag the slider. Each neuron&apos;s gate, up and down weights lie side by side on flash (a bundle), so one read fetches all three.</translation>
    </message>
    <message>
        <source>What if the window were longer or the budget smaller? The same active sets go through the engine&apos;s own cache policy under the new settings, without running the model again. A longer window reads less per token but holds more in DRAM; the budget caps what it holds.</source>
        <translation>What if the window were longer or the budget smaller? The same active sets go through the engine&apos;s own cache policy under the new settings, without running the model again. A longer window reads less per token but holds more in DRAM; the budget caps what it holds.</translation>
    </message>
    <message>
        <source>FlashChat — teaching view</source>
        <translation>FlashChat — teaching view</translation>
    </message>
    <message>
        <source>Tour</source>
        <translation>Tour</translation>
    </message>
    <message>
        <source>A short guided tour of this view</source>
        <translation>A short guided tour of this view</translation>
    </message>
    <message>
        <source>◀ Step</source>
        <translation>◀ Step</translation>
    </message>
    <message>
        <source>▶ Play</source>
        <translation>▶ Play</translation>
    </message>
    <message>
        <source>Step ▶</source>
        <translation>Step ▶</translation>
    </message>
    <message numerus="yes">
        <source>%n tokens/s</source>
        <translation>
            <numerusform>%n token/s</numerusform>
            <numerusform>%n tokens/s</numerusform>
        </translation>
    </message>
    <message>
        <source>Token</source>
        <translation>Token</translation>
    </message>
    <message>
        <source>What if…</source>
        <translation>What if…</translation>
    </message>
    <message>
        <source>window k = </source>
        <translation>window k = </translation>
    </message>
    <message>
        <source>budget, e.g. 9M (empty: unlimited)</source>
        <translation>budget, e.g. 9M (empty: unlimited)</translation>
    </message>
    <message>
        <source>Replay</source>
        <translation>Replay</translation>
    </message>
    <message>
        <source>this run</source>
        <translation>this run</translation>
    </message>
    <message>
        <source>what-if</source>
        <translation>what-if</translation>
    </message>
    <message>
        <source>token</source>
        <translation>token</translation>
    </message>
    <message>
        <source>KB read per token</source>
        <translation>KB read per token</translation>
    </message>
    <message>
        <source>❚❚ Pause</source>
        <translation>❚❚ Pause</translation>
    </message>
    <message>
        <source>oracle sets</source>
        <translation>oracle sets</translation>
    </message>
    <message>
        <source>predicted sets</source>
        <translation>predicted sets</translation>
    </message>
    <message>
        <source>&lt;b&gt;Teaching view&lt;/b&gt; · records every token&apos;s neurons while it is open (flash models).</source>
        <translation>&lt;b&gt;Teaching view&lt;/b&gt; · records every token&apos;s neurons while it is open (flash models).</translation>
    </message>
    <message>
        <source>prompt</source>
        <translation>prompt</translation>
    </message>
    <message>
        <source>generated</source>
        <translation>generated</translation>
    </message>
    <message>
        <source>Nothing recorded yet: send a message first.</source>
        <translation>Nothing recorded yet: send a message first.</translation>
    </message>
    <message>
        <source>unlimited</source>
        <translation>unlimited</translation>
    </message>
    <message>
        <source>what-if: </source>
        <translation>what-if: </translation>
    </message>
    <message>
        <source>Skip tour</source>
        <translation>Skip tour</translation>
    </message>
    <message>
        <source>Next</source>
        <translation>Next</translation>
    </message>
    <message>
        <source>Evaluate the predictor</source>
        <translation>Evaluate the predictor</translation>
    </message>
    <message>
        <source>Also compute every neuron&apos;s true activation (the whole up-projection, read through the page cache) to colour what the predictor predicted in vain and what it missed. Slower; off costs nothing.</source>
        <translation>Also compute every neuron&apos;s true activation (the whole up-projection, read through the page cache) to colour what the predictor predicted in vain and what it missed. Slower; off costs nothing.</translation>
    </message>
    <message>
        <source>memory management of layer </source>
        <translation>memory management of layer </translation>
    </message>
    <message>
        <source>The preallocated matrix of this layer (or click a layer in the map)</source>
        <translation>The preallocated matrix of this layer (or click a layer in the map)</translation>
    </message>
    <message>
        <source>Step the engine</source>
        <translation>Step the engine</translation>
    </message>
    <message>
        <source>Generate one token at a time: the reply pauses after every token; Step asks for exactly one more, Play continues at the chosen speed, Pause stops after the current token.</source>
        <translation>Generate one token at a time: the reply pauses after every token; Step asks for exactly one more, Play continues at the chosen speed, Pause stops after the current token.</translation>
    </message>
    <message>
        <source>Bundling on this disk</source>
        <translation>Bundling on this disk</translation>
    </message>
    <message numerus="yes">
        <source>&lt;b&gt;%n tokens recorded&lt;/b&gt; since this view opened · %L1 layers × %L2 neurons · bundles of %L3 bytes · %4</source>
        <translation>
            <numerusform>&lt;b&gt;%n token recorded&lt;/b&gt; since this view opened · %L1 layers × %L2 neurons · bundles of %L3 bytes · %4</numerusform>
            <numerusform>&lt;b&gt;%n tokens recorded&lt;/b&gt; since this view opened · %L1 layers × %L2 neurons · bundles of %L3 bytes · %4</numerusform>
        </translation>
    </message>
    <message>
        <source>&lt;b&gt;Token %1&lt;/b&gt; (%2) · window k = %3, in force %4 · predicted %L5 neurons, loaded %L6, evicted %L7, streamed %L8 · read %9 in %L10 requests · %11 ms</source>
        <translation>&lt;b&gt;Token %1&lt;/b&gt; (%2) · window k = %3, in force %4 · predicted %L5 neurons, loaded %L6, evicted %L7, streamed %L8 · read %9 in %L10 requests · %11 ms</translation>
    </message>
    <message numerus="yes">
        <source>Over %n tokens: this run read %1/token and loaded %2 neurons/token; with %3 it would read %4/token, load %5 neurons/token, window in force %6 on average.</source>
        <translation>
            <numerusform>Over %n token: this run read %1/token and loaded %2 neurons/token; with %3 it would read %4/token, load %5 neurons/token, window in force %6 on average.</numerusform>
            <numerusform>Over %n tokens: this run read %1/token and loaded %2 neurons/token; with %3 it would read %4/token, load %5 neurons/token, window in force %6 on average.</numerusform>
        </translation>
    </message>
    <message>
        <source>The preallocated matrix of one layer&apos;s cache, as the engine changed it for this token: a deleted row&apos;s hole is filled by the last row, a new row is appended at the end, and under a budget the least recently used row is overwritten in place. Nothing is reallocated. Click a layer in the map to see its matrix.</source>
        <translation>The preallocated matrix of one layer&apos;s cache, as the engine changed it for this token: a deleted row&apos;s hole is filled by the last row, a new row is appended at the end, and under a budget the least recently used row is overwritten in place. Nothing is reallocated. Click a layer in the map to see its matrix.</translation>
    </message>
    <message>
        <source>How good is the predictor? With this on, the engine also computes every neuron&apos;s true activation: yellow cells were predicted but stayed silent (bytes read in vain), pink ones fired but were missed. Hover a cell for the predictor&apos;s score against the true value. It slows the run, so it is off by default.</source>
        <translation>How good is the predictor? With this on, the engine also computes every neuron&apos;s true activation: yellow cells were predicted but stayed silent (bytes read in vain), pink ones fired but were missed. Hover a cell for the predictor&apos;s score against the true value. It slows the run, so it is off by default.</translation>
    </message>
    <message>
        <source>Step the engine itself: while a reply is being written, each Step asks for exactly one more token and the reply waits until the next one.</source>
        <translation>Step the engine itself: while a reply is being written, each Step asks for exactly one more token and the reply waits until the next one.</translation>
    </message>
    <message>
        <source>Why bundles? Measured on your own disk: reading a neuron&apos;s weights as one request instead of separate small ones gives far more neurons per second, because flash is fast for larger reads and slow for tiny ones.</source>
        <translation>Why bundles? Measured on your own disk: reading a neuron&apos;s weights as one request instead of separate small ones gives far more neurons per second, because flash is fast for larger reads and slow for tiny ones.</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::TokenCost</name>
    <message>
        <source>&lt;b&gt;“%1”&lt;/b&gt; · token %2 of the reply (pass %3, %4 mode)&lt;br&gt;</source>
        <translation>&lt;b&gt;“%1”&lt;/b&gt; · token %2 of the reply (pass %3, %4 mode)&lt;br&gt;</translation>
    </message>
    <message>
        <source>Neurons: %L1 predicted, %L2 loaded from flash, %L3 evicted, %L4 streamed (of %L5 in the FFN)&lt;br&gt;</source>
        <translation>Neurons: %L1 predicted, %L2 loaded from flash, %L3 evicted, %L4 streamed (of %L5 in the FFN)&lt;br&gt;</translation>
    </message>
    <message numerus="yes">
        <source>Read %1 in %n requests · window k = %2 (in force %3)&lt;br&gt;</source>
        <translation>
            <numerusform>Read %1 in %n request · window k = %2 (in force %3)&lt;br&gt;</numerusform>
            <numerusform>Read %1 in %n requests · window k = %2 (in force %3)&lt;br&gt;</numerusform>
        </translation>
    </message>
    <message>
        <source>Time %L1 ms = predictor %L2 + I/O %L3 + memory %L4 + compute %L5 + sampling %L6 ms</source>
        <translation>Time %L1 ms = predictor %L2 + I/O %L3 + memory %L4 + compute %L5 + sampling %L6 ms</translation>
    </message>
    <message>
        <source>&lt;br&gt;&lt;i&gt;Shown in the teaching view.&lt;/i&gt;</source>
        <translation>&lt;br&gt;&lt;i&gt;Shown in the teaching view.&lt;/i&gt;</translation>
    </message>
    <message>
        <source>&lt;b&gt;“%1”&lt;/b&gt; · token %2 of the reply: no telemetry for it (the reply&apos;s last token runs through the model with the next turn, or the run was not recorded).</source>
        <translation>&lt;b&gt;“%1”&lt;/b&gt; · token %2 of the reply: no telemetry for it (the reply&apos;s last token runs through the model with the next turn, or the run was not recorded).</translation>
    </message>
</context>
</TS>
