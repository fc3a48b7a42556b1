<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ko_KR" sourcelanguage="en_US">
<context>
    <name>flashchat::ui::BundlingFigure</name>
    <message>
        <source>Measure my disk</source>
        <translation>내 디스크 측정</translation>
    </message>
    <message>
        <source>Random reads of 1 to 32 neighbouring neurons from this model&apos;s ffn.bin, as the engine reads them with bundling on and off (a few seconds)</source>
        <translation>이 모델의 ffn.bin에서 이웃한 뉴런 1~32개를 엔진과 같은 방식으로, 번들링을 켜고 끈 채 무작위로 읽습니다 (몇 초 걸림)</translation>
    </message>
    <message>
        <source>bundled (gate, up, down in one read)</source>
        <translation>번들 (gate, up, down을 한 번에 읽기)</translation>
    </message>
    <message>
        <source>unbundled (separate reads)</source>
        <translation>번들 없음 (따로 읽기)</translation>
    </message>
    <message>
        <source>bytes of weights per read request</source>
        <translation>읽기 요청당 가중치 바이트</translation>
    </message>
    <message>
        <source>MB/s of weights</source>
        <translation>가중치 MB/s</translation>
    </message>
    <message>
        <source>Measuring random reads on this disk…</source>
        <translation>이 디스크의 무작위 읽기를 측정하는 중…</translation>
    </message>
    <message>
        <source>The measurement failed: %1</source>
        <translation>측정하지 못했습니다: %1</translation>
    </message>
    <message>
        <source>&lt;b&gt;Bundling&lt;/b&gt;: load a flash model to measure its reads on this disk.</source>
        <translation>&lt;b&gt;번들링&lt;/b&gt;: 플래시 모델을 불러오면 이 디스크에서 그 모델의 읽기를 측정할 수 있습니다.</translation>
    </message>
    <message>
        <source>&lt;b&gt;Bundling&lt;/b&gt;: how fast does this disk read neurons bundled and unbundled? Measure it.</source>
        <translation>&lt;b&gt;번들링&lt;/b&gt;: 이 디스크는 뉴런을 번들로 읽을 때와 따로 읽을 때 얼마나 빠를까요? 측정해 보세요.</translation>
    </message>
    <message>
        <source>&lt;b&gt;Bundling on this disk&lt;/b&gt;: the same neurons read with bundling reach %L1 neurons/s, without %L2 neurons/s (%L3×): bigger requests, fewer of them.</source>
        <translation>&lt;b&gt;이 디스크의 번들링&lt;/b&gt;: 같은 뉴런을 번들로 읽으면 초당 %L1개, 번들 없이 읽으면 초당 %L2개입니다 (%L3배). 요청은 더 크고 그 수는 더 적습니다.</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::CacheMap</name>
    <message>
        <source>Neuron cache map</source>
        <translation>뉴런 캐시 맵</translation>
    </message>
    <message>
        <source>just loaded</source>
        <translation>방금 적재됨</translation>
    </message>
    <message>
        <source>just evicted</source>
        <translation>방금 축출됨</translation>
    </message>
    <message>
        <source>streamed (no room)</source>
        <translation>스트리밍됨 (자리 없음)</translation>
    </message>
    <message>
        <source>resident</source>
        <translation>상주</translation>
    </message>
    <message>
        <source>on flash only</source>
        <translation>플래시에만 있음</translation>
    </message>
    <message>
        <source>Send a message: every token&apos;s neurons appear here, layer by layer.</source>
        <translation>메시지를 보내면 토큰마다 활성 뉴런이 레이어별로 여기에 나타납니다.</translation>
    </message>
    <message>
        <source>layer %1</source>
        <translation>레이어 %1</translation>
    </message>
    <message>
        <source>layer %1, neurons %2–%3
</source>
        <translation>레이어 %1, 뉴런 %2–%3
</translation>
    </message>
    <message>
        <source>layer %1, neuron %2
</source>
        <translation>레이어 %1, 뉴런 %2
</translation>
    </message>
    <message>
        <source>last used: not since recording began
</source>
        <translation>마지막 사용: 기록 시작 이후 없음
</translation>
    </message>
    <message>
        <source>predicted, not active</source>
        <translation>예측했으나 비활성</translation>
    </message>
    <message>
        <source>missed by the predictor</source>
        <translation>예측기가 놓침</translation>
    </message>
    <message>
        <source>▸ layer %1</source>
        <translation>▸ 레이어 %1</translation>
    </message>
    <message>
        <source>predicted</source>
        <translation>예측함</translation>
    </message>
    <message>
        <source>not predicted</source>
        <translation>예측 안 함</translation>
    </message>
    <message>
        <source>active</source>
        <translation>활성</translation>
    </message>
    <message>
        <source>inactive</source>
        <translation>비활성</translation>
    </message>
    <message>
        <source>  neuron %1: predictor score %L2 (%3), true activation %L4 (%5)
</source>
        <translation>  뉴런 %1: 예측기 점수 %L2 (%3), 실제 활성값 %L4 (%5)
</translation>
    </message>
    <message numerus="yes">
        <source>  (%n more neurons in this cell)
</source>
        <translation>
            <numerusform>  (이 칸에 뉴런 %n개 더 있음)
</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>  (scores kept for the last %n tokens only)
</source>
        <translation>
            <numerusform>  (점수는 최근 %n개 토큰 것만 보관)
</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>last used: token %1 (%n tokens ago)
</source>
        <translation>
            <numerusform>마지막 사용: 토큰 %1 (%n 토큰 전)
</numerusform>
        </translation>
    </message>
    <message>
        <source>ffn.bin: offset %L1, %L2 bytes per bundle (gate, up, down)</source>
        <translation>ffn.bin: 오프셋 %L1, 번들당 %L2바이트 (gate, up, down)</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::ChatExport</name>
    <message>
        <source>_Exported from FlashChat on %1; started %2._

</source>
        <translation>_%1에 FlashChat에서 내보냄; 대화 시작 %2._

</translation>
    </message>
    <message>
        <source>**System prompt:** %1

</source>
        <translation>**시스템 프롬프트:** %1

</translation>
    </message>
    <message>
        <source>## You

</source>
        <translation>## 나

</translation>
    </message>
    <message>
        <source>## Model

</source>
        <translation>## 모델

</translation>
    </message>
    <message>
        <source>%1 tokens in %2 ms</source>
        <translation>%1 토큰, %2 ms</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::ChatSampling</name>
    <message>
        <source>Precise</source>
        <translation>정확</translation>
    </message>
    <message>
        <source>Balanced</source>
        <translation>균형</translation>
    </message>
    <message>
        <source>Creative</source>
        <translation>창의적</translation>
    </message>
    <message>
        <source>Greedy</source>
        <translation>탐욕적 (Greedy)</translation>
    </message>
    <message>
        <source>Custom</source>
        <translation>사용자 지정</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::ChatSettingsDialog</name>
    <message>
        <source>Chat settings</source>
        <translation>채팅 설정</translation>
    </message>
    <message>
        <source>&amp;Preset</source>
        <translation>프리셋(&amp;P)</translation>
    </message>
    <message>
        <source>0 always picks the most likely token; higher is more varied</source>
        <translation>0이면 항상 가장 가능성 높은 토큰을 고르고, 높을수록 다양해집니다</translation>
    </message>
    <message>
        <source>&amp;Temperature</source>
        <translation>온도(&amp;T)</translation>
    </message>
    <message>
        <source>The reply ends after this many tokens</source>
        <translation>응답이 이 토큰 수에 이르면 끝납니다</translation>
    </message>
    <message>
        <source>&amp;Max tokens</source>
        <translation>최대 토큰(&amp;M)</translation>
    </message>
    <message>
        <source>Optional instructions placed before the conversation</source>
        <translation>대화 앞에 놓이는 지시문 (선택 사항)</translation>
    </message>
    <message>
        <source>&amp;System prompt</source>
        <translation>시스템 프롬프트(&amp;S)</translation>
    </message>
    <message>
        <source>Show &amp;advanced settings</source>
        <translation>고급 설정 보기(&amp;A)</translation>
    </message>
    <message>
        <source>Advanced</source>
        <translation>고급</translation>
    </message>
    <message>
        <source>off</source>
        <translation>끔</translation>
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
        <translation>반복 페널티(&amp;R)</translation>
    </message>
    <message>
        <source>0 = random each reply</source>
        <translation>0 = 응답마다 무작위</translation>
    </message>
    <message>
        <source>S&amp;eed</source>
        <translation>시드(&amp;E)</translation>
    </message>
    <message>
        <source>Chat settings — %1</source>
        <translation>채팅 설정 — %1</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::ChatView</name>
    <message>
        <source>writing…</source>
        <translation>작성 중…</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::Composer</name>
    <message>
        <source>Cancel edit</source>
        <translation>편집 취소</translation>
    </message>
    <message>
        <source>Type a message…  (Ctrl+Enter sends, Esc stops)</source>
        <translation>메시지를 입력하세요…  (Ctrl+Enter 보내기, Esc 중지)</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>메시지</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>보내기</translation>
    </message>
    <message>
        <source>Send (Ctrl+Enter)</source>
        <translation>보내기 (Ctrl+Enter)</translation>
    </message>
    <message>
        <source>Stop  (Esc)</source>
        <translation>중지  (Esc)</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>중지</translation>
    </message>
    <message>
        <source>Stop the reply, keep what is written (Esc)</source>
        <translation>응답을 멈추고 지금까지 쓴 내용은 남깁니다 (Esc)</translation>
    </message>
    <message>
        <source>Editing message %1 — sending replaces it and every message after it.</source>
        <translation>메시지 %1 편집 중 — 보내면 이 메시지와 그 뒤의 모든 메시지가 바뀝니다.</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::Conversation</name>
    <message>
        <source>New chat</source>
        <translation>새 채팅</translation>
    </message>
    <message>
        <source>**System:** </source>
        <translation>**시스템:** </translation>
    </message>
    <message>
        <source>**You:** </source>
        <translation>**나:** </translation>
    </message>
    <message>
        <source>**Model:** </source>
        <translation>**모델:** </translation>
    </message>
</context>
<context>
    <name>flashchat::ui::ConversationListModel</name>
    <message numerus="yes">
        <source>%1 — %n messages, last change %2</source>
        <translation>
            <numerusform>%1 — 메시지 %n개, 마지막 변경 %2</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>flashchat::ui::ConvertDialog</name>
    <message>
        <source>Converting %1</source>
        <translation>%1 변환 중</translation>
    </message>
    <message>
        <source>Making a flash model: FFN weights laid out as row-column bundles on disk, predictors trained on calibration text.</source>
        <translation>플래시 모델을 만드는 중: FFN 가중치를 디스크에 행-열 번들로 배치하고, 보정 텍스트로 예측기를 학습합니다.</translation>
    </message>
    <message>
        <source>Into: %1</source>
        <translation>저장 위치: %1</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>시작하는 중…</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>취소</translation>
    </message>
    <message>
        <source>about %1:%2 left</source>
        <translation>약 %1:%2 남음</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>취소하는 중…</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::DbOpen</name>
    <message>
        <source>The chat database %1 is damaged (%2). You can open it read-only to read what is still readable, or keep it aside and start a fresh one.</source>
        <translation>채팅 데이터베이스 %1이(가) 손상되었습니다 (%2). 읽기 전용으로 열어 아직 읽을 수 있는 내용을 보거나, 따로 보관하고 새 데이터베이스로 시작할 수 있습니다.</translation>
    </message>
    <message>
        <source>The chat database %1 was written by a newer FlashChat (%2). You can open it read-only, or keep it aside and start a fresh one.</source>
        <translation>채팅 데이터베이스 %1은(는) 더 새로운 FlashChat이 기록했습니다 (%2). 읽기 전용으로 열거나, 따로 보관하고 새 데이터베이스로 시작할 수 있습니다.</translation>
    </message>
    <message>
        <source>The chat database %1 cannot be written (%2). You can open it read-only (new chats will not be saved), or start a fresh one.</source>
        <translation>채팅 데이터베이스 %1에 쓸 수 없습니다 (%2). 읽기 전용으로 열거나 (새 채팅은 저장되지 않음), 새 데이터베이스로 시작할 수 있습니다.</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::EngineControls</name>
    <message>
        <source>Window &amp;k</source>
        <translation>윈도우 &amp;k</translation>
    </message>
    <message>
        <source>Keep the neurons of the last k tokens in DRAM</source>
        <translation>최근 k개 토큰의 뉴런을 DRAM에 유지합니다</translation>
    </message>
    <message numerus="yes">
        <source>%n tokens</source>
        <translation>
            <numerusform>%n 토큰</numerusform>
        </translation>
    </message>
    <message>
        <source>&amp;Budget</source>
        <translation>예산(&amp;B)</translation>
    </message>
    <message>
        <source>DRAM the engine may use; cannot go below the mode&apos;s minimum</source>
        <translation>엔진이 쓸 수 있는 DRAM. 모드의 최소값 아래로는 내릴 수 없습니다</translation>
    </message>
    <message>
        <source>&amp;Mode</source>
        <translation>모드(&amp;M)</translation>
    </message>
    <message>
        <source>flash: predicted neurons from disk with a windowed cache; mmap: page cache; naive: read every neuron; dram: all in memory</source>
        <translation>flash: 예측한 뉴런을 디스크에서 읽고 윈도우 캐시 사용; mmap: 페이지 캐시; naive: 모든 뉴런 읽기; dram: 전부 메모리에</translation>
    </message>
    <message>
        <source>&amp;Threads</source>
        <translation>스레드(&amp;T)</translation>
    </message>
    <message>
        <source>%1% of the %2 model · minimum %3</source>
        <translation>모델 %2의 %1% · 최소 %3</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::EngineWorker</name>
    <message>
        <source>unlimited</source>
        <translation>무제한</translation>
    </message>
    <message>
        <source>The budget %1</source>
        <translation>예산 %1</translation>
    </message>
    <message>
        <source>The DRAM budget</source>
        <translation>DRAM 예산</translation>
    </message>
    <message>
        <source>%1 is below this model&apos;s minimum of %2 in %3 mode (resident weights, predictors, KV cache and I/O buffers must fit). The previous budget stays in force.</source>
        <translation>%1이(가) %3 모드에서 이 모델의 최소값 %2보다 작습니다 (상주 가중치, 예측기, KV 캐시, I/O 버퍼가 들어가야 합니다). 이전 예산이 계속 적용됩니다.</translation>
    </message>
    <message>
        <source>The setting was not applied: %1</source>
        <translation>설정이 적용되지 않았습니다: %1</translation>
    </message>
    <message>
        <source>no model loaded</source>
        <translation>로드된 모델 없음</translation>
    </message>
    <message>
        <source>FlashChat could not open this model. It may be damaged, incomplete or not a model FlashChat understands (GGUF file, Hugging Face folder or converted flash model).</source>
        <translation>FlashChat이 이 모델을 열 수 없습니다. 손상되었거나 불완전하거나, FlashChat이 이해하는 모델(GGUF 파일, Hugging Face 폴더, 변환된 플래시 모델)이 아닐 수 있습니다.</translation>
    </message>
    <message>
        <source>k %1→%2</source>
        <translation>k %1→%2</translation>
    </message>
    <message>
        <source>budget %1→%2</source>
        <translation>예산 %1→%2</translation>
    </message>
    <message>
        <source>mode %1→%2</source>
        <translation>모드 %1→%2</translation>
    </message>
    <message>
        <source>No model is loaded. Open a model to start chatting.</source>
        <translation>로드된 모델이 없습니다. 채팅을 시작하려면 모델을 여세요.</translation>
    </message>
    <message>
        <source>This conversation no longer fits in the model&apos;s context of %1 tokens. Start a new chat, or delete or shorten earlier messages.</source>
        <translation>이 대화는 더 이상 모델의 컨텍스트 %1 토큰에 들어가지 않습니다. 새 채팅을 시작하거나 앞의 메시지를 지우거나 줄이세요.</translation>
    </message>
    <message>
        <source>This reply may take up to %1 tokens of context, and their KV cache does not fit in the DRAM budget. Raise the budget to at least %2, lower &quot;max tokens&quot; in the chat settings, or start a new chat.</source>
        <translation>이 응답은 컨텍스트를 최대 %1 토큰까지 쓸 수 있는데, 그 KV 캐시가 DRAM 예산에 들어가지 않습니다. 예산을 %2 이상으로 올리거나, 채팅 설정에서 &quot;최대 토큰&quot;을 낮추거나, 새 채팅을 시작하세요.</translation>
    </message>
    <message>
        <source>The conversation has grown: its KV cache no longer fits in the DRAM budget. Raise the budget to at least %1 or start a new chat. What was written so far is kept.</source>
        <translation>대화가 길어져 KV 캐시가 더 이상 DRAM 예산에 들어가지 않습니다. 예산을 %1 이상으로 올리거나 새 채팅을 시작하세요. 지금까지 쓴 내용은 남아 있습니다.</translation>
    </message>
    <message>
        <source>Reading the model from disk failed while the reply was being written. What was written so far is kept; you can try again.</source>
        <translation>응답을 쓰는 중에 디스크에서 모델을 읽지 못했습니다. 지금까지 쓴 내용은 남아 있으며, 다시 시도할 수 있습니다.</translation>
    </message>
    <message>
        <source>The disk&apos;s read speed could not be measured, so the read plot has no reference line. Chatting is not affected.</source>
        <translation>디스크 읽기 속도를 측정하지 못해 읽기 그래프에 기준선이 없습니다. 채팅에는 영향이 없습니다.</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::LivePanel</name>
    <message>
        <source>device limit %L1 MB/s</source>
        <translation>장치 한계 %L1 MB/s</translation>
    </message>
    <message>
        <source>Hover a plot to read one token&apos;s values; the newest token is shown here while generating.</source>
        <translation>그래프 위에 마우스를 올리면 그 토큰의 값을 읽을 수 있습니다. 생성 중에는 최신 토큰이 여기에 표시됩니다.</translation>
    </message>
    <message>
        <source>token</source>
        <translation>토큰</translation>
    </message>
    <message>
        <source>DRAM (MB)</source>
        <translation>DRAM (MB)</translation>
    </message>
    <message>
        <source>DRAM by category, stacked,
against the budget</source>
        <translation>범주별 DRAM 누적,
예산과 비교</translation>
    </message>
    <message>
        <source>neurons</source>
        <translation>뉴런</translation>
    </message>
    <message>
        <source>Neurons loaded, streamed
and evicted per token</source>
        <translation>토큰마다 적재·스트리밍·
축출된 뉴런</translation>
    </message>
    <message>
        <source>window k</source>
        <translation>윈도우 k</translation>
    </message>
    <message>
        <source>read (MB/s)</source>
        <translation>읽기 (MB/s)</translation>
    </message>
    <message>
        <source>Flash read throughput per token
against the device&apos;s limit</source>
        <translation>토큰별 플래시 읽기 처리량,
장치 한계와 비교</translation>
    </message>
    <message>
        <source>read throughput</source>
        <translation>읽기 처리량</translation>
    </message>
    <message>
        <source>time (ms)</source>
        <translation>시간 (ms)</translation>
    </message>
    <message>
        <source>Time per token, split into
predictor, I/O, memory, compute, sampling</source>
        <translation>토큰당 시간: 예측기, I/O,
메모리, 계산, 샘플링으로 나눔</translation>
    </message>
    <message>
        <source>Token %1 (prompt)</source>
        <translation>토큰 %1 (프롬프트)</translation>
    </message>
    <message>
        <source>Token %1</source>
        <translation>토큰 %1</translation>
    </message>
    <message>
        <source>of %1 MB budget</source>
        <translation>/ 예산 %1 MB</translation>
    </message>
    <message>
        <source>MB, no budget</source>
        <translation>MB, 예산 없음</translation>
    </message>
    <message>
        <source>&lt;b&gt;DRAM&lt;/b&gt; %1 %2 · RSS above start %3 MB: </source>
        <translation>&lt;b&gt;DRAM&lt;/b&gt; %1 %2 · 시작 대비 RSS %3 MB: </translation>
    </message>
    <message>
        <source>&lt;b&gt;Neurons&lt;/b&gt; %1 %2 %3 %4</source>
        <translation>&lt;b&gt;뉴런&lt;/b&gt; %1 %2 %3 %4</translation>
    </message>
    <message>
        <source>loaded %1</source>
        <translation>적재 %1</translation>
    </message>
    <message>
        <source>streamed %1</source>
        <translation>스트리밍 %1</translation>
    </message>
    <message>
        <source>evicted %1</source>
        <translation>축출 %1</translation>
    </message>
    <message>
        <source>window k %1 (asked %2)</source>
        <translation>윈도우 k %1 (요청 %2)</translation>
    </message>
    <message>
        <source>&lt;b&gt;Flash read&lt;/b&gt; %1 MB/s (%2 MB; %3 ms of it hidden behind compute)</source>
        <translation>&lt;b&gt;플래시 읽기&lt;/b&gt; %1 MB/s (%2 MB; 그중 %3 ms는 계산 뒤에 숨겨짐)</translation>
    </message>
    <message>
        <source>&lt;b&gt;Time&lt;/b&gt; %1 ms: </source>
        <translation>&lt;b&gt;시간&lt;/b&gt; %1 ms: </translation>
    </message>
</context>
<context>
    <name>flashchat::ui::MainWindow</name>
    <message>
        <source>Not saved</source>
        <translation>저장되지 않음</translation>
    </message>
    <message>
        <source>It is open read-only: new messages are not saved.</source>
        <translation>읽기 전용으로 열려 있어 새 메시지가 저장되지 않습니다.</translation>
    </message>
    <message>
        <source>A temporary database is used for this session.</source>
        <translation>이번 세션에는 임시 데이터베이스를 사용합니다.</translation>
    </message>
    <message>
        <source>The old file was kept as %1; this is a fresh database.</source>
        <translation>이전 파일은 %1(으)로 보관했고, 이것은 새 데이터베이스입니다.</translation>
    </message>
    <message>
        <source>Chat database</source>
        <translation>채팅 데이터베이스</translation>
    </message>
    <message>
        <source>Mo&amp;del</source>
        <translation>모델(&amp;D)</translation>
    </message>
    <message>
        <source>Info</source>
        <translation>정보</translation>
    </message>
    <message>
        <source>Architecture, sizes, minimum budgets, predictor quality</source>
        <translation>구조, 크기, 최소 예산, 예측기 품질</translation>
    </message>
    <message>
        <source>Chat settings</source>
        <translation>채팅 설정</translation>
    </message>
    <message>
        <source>System prompt and sampling for this conversation</source>
        <translation>이 대화의 시스템 프롬프트와 샘플링</translation>
    </message>
    <message>
        <source>Copy chat</source>
        <translation>채팅 복사</translation>
    </message>
    <message>
        <source>Copy the whole conversation as text</source>
        <translation>대화 전체를 텍스트로 복사</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>일시정지</translation>
    </message>
    <message>
        <source>Freeze the plots; tokens keep being collected</source>
        <translation>그래프를 멈춥니다. 토큰은 계속 수집됩니다</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>재개</translation>
    </message>
    <message>
        <source>disk limit: not measured</source>
        <translation>디스크 한계: 측정 안 됨</translation>
    </message>
    <message>
        <source>Re-measure disk</source>
        <translation>디스크 재측정</translation>
    </message>
    <message>
        <source>Measure the disk&apos;s random-read speed again (about 1.5 s, between replies)</source>
        <translation>디스크의 무작위 읽기 속도를 다시 측정합니다 (약 1.5초, 응답 사이에)</translation>
    </message>
    <message>
        <source>disk limit: measuring…</source>
        <translation>디스크 한계: 측정 중…</translation>
    </message>
    <message>
        <source>Live plots appear here (ui/plots not merged yet)</source>
        <translation>실시간 그래프가 여기에 나타납니다 (ui/plots 아직 병합 안 됨)</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>파일(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;New chat</source>
        <translation>새 채팅(&amp;N)</translation>
    </message>
    <message>
        <source>Open &amp;GGUF file…</source>
        <translation>GGUF 파일 열기(&amp;G)…</translation>
    </message>
    <message>
        <source>Open model &amp;folder…</source>
        <translation>모델 폴더 열기(&amp;F)…</translation>
    </message>
    <message>
        <source>&amp;Import chat (JSON)…</source>
        <translation>채팅 가져오기(JSON)(&amp;I)…</translation>
    </message>
    <message>
        <source>Import a chat</source>
        <translation>채팅 가져오기</translation>
    </message>
    <message>
        <source>FlashChat chats (*.json)</source>
        <translation>FlashChat 채팅 (*.json)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>끝내기(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Chat</source>
        <translation>채팅(&amp;C)</translation>
    </message>
    <message>
        <source>Chat &amp;settings…</source>
        <translation>채팅 설정(&amp;S)…</translation>
    </message>
    <message>
        <source>&amp;Regenerate</source>
        <translation>다시 생성(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Copy chat</source>
        <translation>채팅 복사(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Model</source>
        <translation>모델(&amp;M)</translation>
    </message>
    <message>
        <source>Model &amp;info…</source>
        <translation>모델 정보(&amp;I)…</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>보기(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Run history</source>
        <translation>실행 기록(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Live panel</source>
        <translation>실시간 패널(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Teaching view</source>
        <translation>교육용 보기(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Language (applies at next start)</source>
        <translation>언어(&amp;L) (다음 시작 시 적용)</translation>
    </message>
    <message>
        <source>System language</source>
        <translation>시스템 언어</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>언어</translation>
    </message>
    <message>
        <source>The new language applies the next time FlashChat starts.</source>
        <translation>새 언어는 FlashChat을 다음에 시작할 때 적용됩니다.</translation>
    </message>
    <message>
        <source>Type a message…  (Ctrl+Enter sends, Esc stops)</source>
        <translation>메시지를 입력하세요…  (Ctrl+Enter 보내기, Esc 중지)</translation>
    </message>
    <message>
        <source>Loading the model…</source>
        <translation>모델을 불러오는 중…</translation>
    </message>
    <message>
        <source>disk limit %L1 MB/s (%2)</source>
        <translation>디스크 한계 %L1 MB/s (%2)</translation>
    </message>
    <message>
        <source>measured now</source>
        <translation>방금 측정</translation>
    </message>
    <message>
        <source>cached</source>
        <translation>저장된 값</translation>
    </message>
    <message>
        <source>No model found</source>
        <translation>모델을 찾을 수 없음</translation>
    </message>
    <message>
        <source>The built-in model is missing from this installation. Open a model to start chatting.</source>
        <translation>이 설치에는 내장 모델이 없습니다. 채팅을 시작하려면 모델을 여세요.</translation>
    </message>
    <message>
        <source>Open a model…</source>
        <translation>모델 열기…</translation>
    </message>
    <message>
        <source>Busy</source>
        <translation>사용 중</translation>
    </message>
    <message>
        <source>Stop the reply before switching models.</source>
        <translation>모델을 바꾸기 전에 응답을 멈추세요.</translation>
    </message>
    <message>
        <source>Loading %1…</source>
        <translation>%1 불러오는 중…</translation>
    </message>
    <message>
        <source>Welcome to FlashChat</source>
        <translation>FlashChat에 오신 것을 환영합니다</translation>
    </message>
    <message>
        <source>The built-in model is small on purpose: a 5.3M-parameter continuation model that this project trained itself on Debian documentation and other free texts. It is not a chat assistant — it continues your text, and its replies are locally fluent nonsense. It is here to show the technique live: as it writes, the plots on the right show FFN neurons being read from disk as the predictor asks for them, while the last k tokens&apos; neurons stay in DRAM within the budget you set. Open a real model (GGUF file or Hugging Face folder) to chat.</source>
        <translation>내장 모델은 일부러 작습니다. 이 프로젝트가 Debian 문서와 다른 자유 텍스트로 직접 학습한 530만 매개변수의 이어쓰기 모델입니다. 채팅 도우미가 아니라 입력한 텍스트를 이어 쓰며, 응답은 부분적으로만 그럴듯한 무의미한 문장입니다. 이 모델은 기법을 실시간으로 보여 주려고 있습니다: 글을 쓰는 동안 오른쪽 그래프에 예측기가 요청한 FFN 뉴런이 디스크에서 읽히는 모습과, 최근 k개 토큰의 뉴런이 설정한 DRAM 예산 안에서 유지되는 모습이 나타납니다. 채팅하려면 실제 모델(GGUF 파일 또는 Hugging Face 폴더)을 여세요.</translation>
    </message>
    <message>
        <source>About this model</source>
        <translation>이 모델에 대해</translation>
    </message>
    <message>
        <source>The model could not be opened</source>
        <translation>모델을 열 수 없습니다</translation>
    </message>
    <message>
        <source>Use the built-in model</source>
        <translation>내장 모델 사용</translation>
    </message>
    <message>
        <source>Budget below the minimum</source>
        <translation>예산이 최소값보다 작음</translation>
    </message>
    <message>
        <source>Set the minimum (%1)</source>
        <translation>최소값으로 설정 (%1)</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>새 채팅</translation>
    </message>
    <message>
        <source>Reading the model failed</source>
        <translation>모델 읽기 실패</translation>
    </message>
    <message>
        <source>Try again</source>
        <translation>다시 시도</translation>
    </message>
    <message>
        <source>The conversation is too long for this model</source>
        <translation>대화가 이 모델에 비해 너무 깁니다</translation>
    </message>
    <message>
        <source>Setting not applied</source>
        <translation>설정이 적용되지 않음</translation>
    </message>
    <message>
        <source>The context is full</source>
        <translation>컨텍스트가 가득 찼습니다</translation>
    </message>
    <message>
        <source>The reply stopped because the model&apos;s context of %1 tokens is used up. Start a new chat to continue.</source>
        <translation>모델의 컨텍스트 %1 토큰을 모두 써서 응답이 멈췄습니다. 계속하려면 새 채팅을 시작하세요.</translation>
    </message>
    <message>
        <source>Open a GGUF model</source>
        <translation>GGUF 모델 열기</translation>
    </message>
    <message>
        <source>GGUF models (*.gguf);;All files (*)</source>
        <translation>GGUF 모델 (*.gguf);;모든 파일 (*)</translation>
    </message>
    <message>
        <source>Open a Hugging Face or flash model folder</source>
        <translation>Hugging Face 또는 플래시 모델 폴더 열기</translation>
    </message>
    <message>
        <source>Conversion failed</source>
        <translation>변환 실패</translation>
    </message>
    <message>
        <source>FlashChat could not convert %1 into a flash model. Check that it is a GGUF file or a Hugging Face folder with config.json, *.safetensors and tokenizer.json.</source>
        <translation>FlashChat이 %1을(를) 플래시 모델로 변환하지 못했습니다. GGUF 파일이거나 config.json, *.safetensors, tokenizer.json이 있는 Hugging Face 폴더인지 확인하세요.</translation>
    </message>
    <message>
        <source>Open another…</source>
        <translation>다른 모델 열기…</translation>
    </message>
    <message>
        <source>mode %1 · k %2</source>
        <translation>모드 %1 · k %2</translation>
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
        <translation>프롬프트 %1/%2 (%3%)</translation>
    </message>
    <message>
        <source>context %1/%2</source>
        <translation>컨텍스트 %1/%2</translation>
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
        <translation>강변 산책 (데모)</translation>
    </message>
    <message>
        <source>FlashChat — chat database</source>
        <translation>FlashChat — 채팅 데이터베이스</translation>
    </message>
    <message>
        <source>Open read-only</source>
        <translation>읽기 전용으로 열기</translation>
    </message>
    <message>
        <source>Start a fresh one</source>
        <translation>새로 시작</translation>
    </message>
    <message>
        <source>Keep it aside, start a fresh one</source>
        <translation>따로 보관하고 새로 시작</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>끝내기</translation>
    </message>
    <message>
        <source>Preparing the chat database failed: %1</source>
        <translation>채팅 데이터베이스 준비 실패: %1</translation>
    </message>
    <message>
        <source>+ New chat</source>
        <translation>+ 새 채팅</translation>
    </message>
    <message>
        <source>Start a new conversation (Ctrl+N)</source>
        <translation>새 대화 시작 (Ctrl+N)</translation>
    </message>
    <message>
        <source>Search all chats</source>
        <translation>모든 채팅 검색</translation>
    </message>
    <message>
        <source>Conversations</source>
        <translation>대화 목록</translation>
    </message>
    <message>
        <source>Rename</source>
        <translation>이름 바꾸기</translation>
    </message>
    <message>
        <source>Export as Markdown…</source>
        <translation>Markdown으로 내보내기…</translation>
    </message>
    <message>
        <source>Export as Markdown</source>
        <translation>Markdown으로 내보내기</translation>
    </message>
    <message>
        <source>Markdown (*.md)</source>
        <translation>Markdown (*.md)</translation>
    </message>
    <message>
        <source>Export as JSON…</source>
        <translation>JSON으로 내보내기…</translation>
    </message>
    <message>
        <source>Export as JSON</source>
        <translation>JSON으로 내보내기</translation>
    </message>
    <message>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>삭제</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>실행 취소</translation>
    </message>
    <message>
        <source>Bring the deleted chat back</source>
        <translation>삭제한 채팅을 되돌립니다</translation>
    </message>
    <message>
        <source>Search failed: %1</source>
        <translation>검색 실패: %1</translation>
    </message>
    <message>
        <source>No chat contains “%1”</source>
        <translation>“%1”을(를) 포함한 채팅이 없습니다</translation>
    </message>
    <message numerus="yes">
        <source>%n chats match</source>
        <translation>
            <numerusform>채팅 %n개 일치</numerusform>
        </translation>
    </message>
    <message>
        <source>Deleted “%1”</source>
        <translation>“%1” 삭제됨</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>내보내기 실패</translation>
    </message>
    <message>
        <source>The chat could not be written.</source>
        <translation>채팅을 파일로 쓸 수 없습니다.</translation>
    </message>
    <message>
        <source>Import failed</source>
        <translation>가져오기 실패</translation>
    </message>
    <message>
        <source>%1 is not a chat exported by FlashChat.</source>
        <translation>%1은(는) FlashChat에서 내보낸 채팅이 아닙니다.</translation>
    </message>
    <message>
        <source>Run history</source>
        <translation>실행 기록</translation>
    </message>
    <message>
        <source>The recorded runs could not be read.</source>
        <translation>기록된 실행을 읽을 수 없습니다.</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::MessageWidget</name>
    <message>
        <source>code</source>
        <translation>코드</translation>
    </message>
    <message>
        <source>Copy code</source>
        <translation>코드 복사</translation>
    </message>
    <message>
        <source>Copy this code block</source>
        <translation>이 코드 블록 복사</translation>
    </message>
    <message>
        <source>You</source>
        <translation>나</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>모델</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>복사</translation>
    </message>
    <message>
        <source>Copy this message</source>
        <translation>이 메시지 복사</translation>
    </message>
    <message>
        <source>Edit</source>
        <translation>편집</translation>
    </message>
    <message>
        <source>Edit this message and send it again</source>
        <translation>이 메시지를 고쳐서 다시 보내기</translation>
    </message>
    <message>
        <source>Regenerate</source>
        <translation>다시 생성</translation>
    </message>
    <message>
        <source>Write this reply again</source>
        <translation>이 응답을 다시 쓰기</translation>
    </message>
    <message>
        <source>Click a word to see what its token cost</source>
        <translation>단어를 클릭하면 그 토큰에 든 비용을 볼 수 있습니다</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::ModelInfoDialog</name>
    <message>
        <source>Name</source>
        <translation>이름</translation>
    </message>
    <message>
        <source>Path</source>
        <translation>경로</translation>
    </message>
    <message>
        <source>Architecture</source>
        <translation>구조</translation>
    </message>
    <message>
        <source>%1, %2 layers, d %3, %4 heads, FFN %5 neurons/layer (%6)</source>
        <translation>%1, 레이어 %2개, d %3, 헤드 %4개, FFN 레이어당 뉴런 %5개 (%6)</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>매개변수</translation>
    </message>
    <message>
        <source>Vocabulary / context</source>
        <translation>어휘 / 컨텍스트</translation>
    </message>
    <message>
        <source>%1 tokens / %2 positions</source>
        <translation>토큰 %1개 / 위치 %2개</translation>
    </message>
    <message>
        <source>Chat template</source>
        <translation>채팅 템플릿</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>있음</translation>
    </message>
    <message>
        <source>none (a continuation model; turns are formatted as plain text)</source>
        <translation>없음 (이어쓰기 모델; 대화 차례는 일반 텍스트로 구성됨)</translation>
    </message>
    <message>
        <source>Format</source>
        <translation>형식</translation>
    </message>
    <message>
        <source>flash model (converted)</source>
        <translation>플래시 모델 (변환됨)</translation>
    </message>
    <message>
        <source>dense (runs in DRAM)</source>
        <translation>밀집 (DRAM에서 실행)</translation>
    </message>
    <message>
        <source>Bytes by part</source>
        <translation>부분별 크기</translation>
    </message>
    <message>
        <source>embeddings %1 · attention %2 · FFN %3%4 · norms %5 · predictors %6</source>
        <translation>임베딩 %1 · 어텐션 %2 · FFN %3%4 · 정규화 %5 · 예측기 %6</translation>
    </message>
    <message>
        <source> (on flash)</source>
        <translation> (플래시에 있음)</translation>
    </message>
    <message>
        <source>Model size</source>
        <translation>모델 크기</translation>
    </message>
    <message>
        <source> (%1 bytes)</source>
        <translation> (%1바이트)</translation>
    </message>
    <message>
        <source>Minimum budget</source>
        <translation>최소 예산</translation>
    </message>
    <message>
        <source>layer %1 predictor: recall %L2%, precision %L3%
</source>
        <translation>레이어 %1 예측기: 재현율 %L2%, 정밀도 %L3%
</translation>
    </message>
    <message>
        <source>Model info — %1</source>
        <translation>모델 정보 — %1</translation>
    </message>
    <message>
        <source>Predictors (measured by the converter on held-out calibration tokens)</source>
        <translation>예측기 (변환기가 따로 떼어 둔 보정 토큰으로 측정)</translation>
    </message>
    <message>
        <source>Recall</source>
        <translation>재현율</translation>
    </message>
    <message>
        <source>Precision</source>
        <translation>정밀도</translation>
    </message>
    <message>
        <source>Predicted active</source>
        <translation>예측된 활성</translation>
    </message>
    <message>
        <source>Truly active</source>
        <translation>실제 활성</translation>
    </message>
    <message>
        <source>Rank</source>
        <translation>랭크</translation>
    </message>
    <message>
        <source>Layer %1</source>
        <translation>레이어 %1</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::ModelList</name>
    <message>
        <source>FlashChat default (5.3M)</source>
        <translation>FlashChat 기본 모델 (5.3M)</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::NoticeCard</name>
    <message>
        <source>Dismiss</source>
        <translation>닫기</translation>
    </message>
    <message>
        <source>Hide this card</source>
        <translation>이 카드 숨기기</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::Palette</name>
    <message>
        <source>resident weights</source>
        <translation>상주 가중치</translation>
    </message>
    <message>
        <source>predictors</source>
        <translation>예측기</translation>
    </message>
    <message>
        <source>neuron cache</source>
        <translation>뉴런 캐시</translation>
    </message>
    <message>
        <source>KV cache</source>
        <translation>KV 캐시</translation>
    </message>
    <message>
        <source>I/O buffers</source>
        <translation>I/O 버퍼</translation>
    </message>
    <message>
        <source>other</source>
        <translation>기타</translation>
    </message>
    <message>
        <source>predictor</source>
        <translation>예측기</translation>
    </message>
    <message>
        <source>I/O</source>
        <translation>I/O</translation>
    </message>
    <message>
        <source>memory mgmt</source>
        <translation>메모리 관리</translation>
    </message>
    <message>
        <source>compute</source>
        <translation>계산</translation>
    </message>
    <message>
        <source>sampling</source>
        <translation>샘플링</translation>
    </message>
    <message>
        <source>loaded</source>
        <translation>적재</translation>
    </message>
    <message>
        <source>evicted</source>
        <translation>축출</translation>
    </message>
    <message>
        <source>streamed</source>
        <translation>스트리밍</translation>
    </message>
    <message>
        <source>window k</source>
        <translation>윈도우 k</translation>
    </message>
    <message>
        <source>budget</source>
        <translation>예산</translation>
    </message>
    <message>
        <source>device limit</source>
        <translation>장치 한계</translation>
    </message>
    <message>
        <source>process RSS above start (GUI included)</source>
        <translation>시작 대비 프로세스 RSS (GUI 포함)</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::PhaseBar</name>
    <message>
        <source>Token phases</source>
        <translation>토큰 단계</translation>
    </message>
    <message>
        <source>The selected token&apos;s phases appear here.</source>
        <translation>선택한 토큰의 단계가 여기에 나타납니다.</translation>
    </message>
    <message>
        <source>1 predict</source>
        <translation>1 예측</translation>
    </message>
    <message>
        <source>2 window diff, delete &amp; append</source>
        <translation>2 윈도우 차이, 삭제·추가</translation>
    </message>
    <message>
        <source>3 bundled reads</source>
        <translation>3 번들 읽기</translation>
    </message>
    <message>
        <source>4 compute</source>
        <translation>4 계산</translation>
    </message>
    <message>
        <source>5 sample</source>
        <translation>5 샘플링</translation>
    </message>
    <message>
        <source>%1 %L2 ms</source>
        <translation>%1 %L2 ms</translation>
    </message>
    <message>
        <source>token %L1 ms; reads hidden behind compute %L2 ms (overlapped, not in the bar)</source>
        <translation>토큰 %L1 ms; 계산 뒤에 숨겨진 읽기 %L2 ms (겹쳐 실행되어 막대에는 없음)</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::RowMatrix</name>
    <message>
        <source>Preallocated matrix of the selected layer</source>
        <translation>선택한 레이어의 미리 할당한 행렬</translation>
    </message>
    <message>
        <source>Select a token: its memory management appears here.</source>
        <translation>토큰을 선택하면 그 토큰의 메모리 관리가 여기에 나타납니다.</translation>
    </message>
    <message>
        <source>a cell per row · pale: kept · green: filled now (framed: in place) · red: deleted</source>
        <translation>행마다 한 칸 · 연한색: 유지 · 녹색: 이번에 채움 (테두리: 제자리) · 빨간색: 삭제</translation>
    </message>
    <message>
        <source>Layer %1, rows in use %L2 → %L4 of %L3 · %L5 holes filled by the last row (swap with last) · %L6 last rows dropped · %L7 replaced in place · %L8 appended</source>
        <translation>레이어 %1, 사용 중인 행 %L2 → %L4 / %L3 · 마지막 행으로 메운 빈자리 %L5개 (마지막 행과 교체) · 잘라 낸 마지막 행 %L6개 · 제자리 교체 %L7개 · 추가 %L8개</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::RunHistoryView</name>
    <message>
        <source>← Back to chat</source>
        <translation>← 채팅으로 돌아가기</translation>
    </message>
    <message>
        <source>&lt;b&gt;Run history&lt;/b&gt;</source>
        <translation>&lt;b&gt;실행 기록&lt;/b&gt;</translation>
    </message>
    <message>
        <source>Select a run to see its plots as they were live; select two (Ctrl+click) to compare them.</source>
        <translation>실행을 선택하면 실시간 그대로의 그래프를 볼 수 있습니다. 두 개를 선택하면(Ctrl+클릭) 비교합니다.</translation>
    </message>
    <message>
        <source>Recorded runs</source>
        <translation>기록된 실행</translation>
    </message>
    <message>
        <source>This run cannot be read: %1</source>
        <translation>이 실행을 읽을 수 없습니다: %1</translation>
    </message>
    <message>
        <source>&lt;table cellspacing=0 cellpadding=3&gt;&lt;tr&gt;&lt;th align=left&gt;per token&lt;/th&gt;&lt;th align=right&gt;A&lt;/th&gt;&lt;th align=right&gt;B&lt;/th&gt;&lt;th align=right&gt;B/A&lt;/th&gt;&lt;/tr&gt;</source>
        <translation>&lt;table cellspacing=0 cellpadding=3&gt;&lt;tr&gt;&lt;th align=left&gt;토큰당&lt;/th&gt;&lt;th align=right&gt;A&lt;/th&gt;&lt;th align=right&gt;B&lt;/th&gt;&lt;th align=right&gt;B/A&lt;/th&gt;&lt;/tr&gt;</translation>
    </message>
    <message>
        <source>ms</source>
        <translation>ms</translation>
    </message>
    <message>
        <source>MB read</source>
        <translation>읽은 MB</translation>
    </message>
    <message>
        <source>FFN neurons loaded</source>
        <translation>적재한 FFN 뉴런</translation>
    </message>
    <message>
        <source>tokens (generated)</source>
        <translation>토큰 (생성)</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::RunListModel</name>
    <message>
        <source>Started</source>
        <translation>시작</translation>
    </message>
    <message>
        <source>Chat</source>
        <translation>채팅</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>모델</translation>
    </message>
    <message>
        <source>Mode</source>
        <translation>모드</translation>
    </message>
    <message>
        <source>k</source>
        <translation>k</translation>
    </message>
    <message>
        <source>Budget</source>
        <translation>예산</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>토큰</translation>
    </message>
    <message>
        <source>ms/token</source>
        <translation>ms/토큰</translation>
    </message>
    <message>
        <source>MB read/token</source>
        <translation>읽은 MB/토큰</translation>
    </message>
    <message>
        <source>FFN loaded/token</source>
        <translation>적재 FFN/토큰</translation>
    </message>
    <message>
        <source>(deleted chat)</source>
        <translation>(삭제된 채팅)</translation>
    </message>
    <message>
        <source>%1 · k %2 · budget %3 · %4 tokens · %L5 ms/token · %L6 MB read/token · %L7 FFN neurons loaded/token</source>
        <translation>%1 · k %2 · 예산 %3 · %4 토큰 · %L5 ms/토큰 · 읽기 %L6 MB/토큰 · 적재 FFN 뉴런 %L7/토큰</translation>
    </message>
    <message>
        <source> · not finished</source>
        <translation> · 끝나지 않음</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::StopReason</name>
    <message>
        <source>reached the token limit</source>
        <translation>토큰 한도에 도달</translation>
    </message>
    <message>
        <source>end of text</source>
        <translation>텍스트 끝</translation>
    </message>
    <message>
        <source>end of turn</source>
        <translation>차례 끝</translation>
    </message>
    <message>
        <source>context full</source>
        <translation>컨텍스트 가득 참</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>중지됨</translation>
    </message>
    <message>
        <source>interrupted</source>
        <translation>중단됨</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::TeachingView</name>
    <message>
        <source>The neuron cache. Each row is a layer, each cell a group of FFN neurons. Before every token a small predictor guesses which neurons will fire; only those are needed. Vivid green cells were just loaded from flash, red ones just evicted to make room, pale green ones stay resident in DRAM, sky-blue ones were streamed (no room left under the budget).</source>
        <translation>뉴런 캐시입니다. 각 행은 레이어, 각 칸은 FFN 뉴런 묶음입니다. 토큰마다 작은 예측기가 어떤 뉴런이 활성화될지 미리 추측하며, 그 뉴런만 있으면 됩니다. 진한 녹색 칸은 방금 플래시에서 적재된 뉴런, 빨간 칸은 자리를 내느라 방금 축출된 뉴런, 연한 녹색 칸은 DRAM에 상주하는 뉴런, 하늘색 칸은 스트리밍된 뉴런(예산 안에 남은 자리가 없음)입니다.</translation>
    </message>
    <message>
        <source>One token, phase by phase: predict, compare with the window (neurons of the last k tokens stay cached, so only the difference is read), delete and append rows in the preallocated matrix, read the missing bundles from flash, compute.</source>
        <translation>한 토큰을 단계별로: 예측하고, 윈도우와 비교하고(최근 k개 토큰의 뉴런은 캐시에 남으므로 차이만 읽음), 미리 할당한 행렬에서 행을 삭제·추가하고, 빠진 번들을 플래시에서 읽고, 계산합니다.</translation>
    </message>
    <message>
        <source>Step through the run: play, pause, one token at a time, or drag the slider. Each neuron&apos;s gate, up and down weights lie side by side on flash (a bundle), so one read fetches all three.</source>
        <translation>실행을 단계별로 따라가 보세요: 재생, 일시정지, 한 토큰씩 이동하거나 슬라이더를 끌 수 있습니다. 각 뉴런의 gate, up, down 가중치는 플래시에 나란히 놓여 있어(번들) 한 번의 읽기로 셋을 모두 가져옵니다.</translation>
    </message>
    <message>
        <source>What if the window were longer or the budget smaller? The same active sets go through the engine&apos;s own cache policy under the new settings, without running the model again. A longer window reads less per token but holds more in DRAM; the budget caps what it holds.</source>
        <translation>윈도우가 더 길거나 예산이 더 작다면? 같은 활성 집합을 새 설정으로 엔진의 캐시 정책에 그대로 통과시킵니다. 모델을 다시 실행하지 않습니다. 윈도우가 길수록 토큰당 읽는 양은 줄지만 DRAM에 더 많이 유지하며, 예산은 유지하는 양의 상한입니다.</translation>
    </message>
    <message>
        <source>FlashChat — teaching view</source>
        <translation>FlashChat — 교육용 보기</translation>
    </message>
    <message>
        <source>Tour</source>
        <translation>둘러보기</translation>
    </message>
    <message>
        <source>A short guided tour of this view</source>
        <translation>이 보기를 짧게 안내합니다</translation>
    </message>
    <message>
        <source>◀ Step</source>
        <translation>◀ 이전</translation>
    </message>
    <message>
        <source>▶ Play</source>
        <translation>▶ 재생</translation>
    </message>
    <message>
        <source>Step ▶</source>
        <translation>다음 ▶</translation>
    </message>
    <message numerus="yes">
        <source>%n tokens/s</source>
        <translation>
            <numerusform>초당 %n 토큰</numerusform>
        </translation>
    </message>
    <message>
        <source>Token</source>
        <translation>토큰</translation>
    </message>
    <message>
        <source>What if…</source>
        <translation>만약…</translation>
    </message>
    <message>
        <source>window k = </source>
        <translation>윈도우 k = </translation>
    </message>
    <message>
        <source>budget, e.g. 9M (empty: unlimited)</source>
        <translation>예산, 예: 9M (비우면 무제한)</translation>
    </message>
    <message>
        <source>Replay</source>
        <translation>다시 실행</translation>
    </message>
    <message>
        <source>this run</source>
        <translation>이번 실행</translation>
    </message>
    <message>
        <source>what-if</source>
        <translation>가정</translation>
    </message>
    <message>
        <source>token</source>
        <translation>토큰</translation>
    </message>
    <message>
        <source>KB read per token</source>
        <translation>토큰당 읽은 KB</translation>
    </message>
    <message>
        <source>❚❚ Pause</source>
        <translation>❚❚ 일시정지</translation>
    </message>
    <message>
        <source>oracle sets</source>
        <translation>오라클 집합</translation>
    </message>
    <message>
        <source>predicted sets</source>
        <translation>예측 집합</translation>
    </message>
    <message>
        <source>&lt;b&gt;Teaching view&lt;/b&gt; · records every token&apos;s neurons while it is open (flash models).</source>
        <translation>&lt;b&gt;교육용 보기&lt;/b&gt; · 열려 있는 동안 토큰마다 뉴런을 기록합니다 (플래시 모델).</translation>
    </message>
    <message>
        <source>prompt</source>
        <translation>프롬프트</translation>
    </message>
    <message>
        <source>generated</source>
        <translation>생성</translation>
    </message>
    <message>
        <source>Nothing recorded yet: send a message first.</source>
        <translation>아직 기록된 것이 없습니다. 먼저 메시지를 보내세요.</translation>
    </message>
    <message>
        <source>unlimited</source>
        <translation>무제한</translation>
    </message>
    <message>
        <source>what-if: </source>
        <translation>가정: </translation>
    </message>
    <message>
        <source>Skip tour</source>
        <translation>둘러보기 건너뛰기</translation>
    </message>
    <message>
        <source>Next</source>
        <translation>다음</translation>
    </message>
    <message>
        <source>Evaluate the predictor</source>
        <translation>예측기 평가</translation>
    </message>
    <message>
        <source>Also compute every neuron&apos;s true activation (the whole up-projection, read through the page cache) to colour what the predictor predicted in vain and what it missed. Slower; off costs nothing.</source>
        <translation>모든 뉴런의 실제 활성값도 계산해(페이지 캐시를 거쳐 읽은 up 투영 전체) 예측기가 헛되이 예측한 뉴런과 놓친 뉴런을 색으로 표시합니다. 느려지며, 끄면 비용이 없습니다.</translation>
    </message>
    <message>
        <source>memory management of layer </source>
        <translation>메모리 관리: 레이어 </translation>
    </message>
    <message>
        <source>The preallocated matrix of this layer (or click a layer in the map)</source>
        <translation>이 레이어의 미리 할당한 행렬 (맵에서 레이어를 클릭해도 됩니다)</translation>
    </message>
    <message>
        <source>Step the engine</source>
        <translation>엔진을 한 토큰씩</translation>
    </message>
    <message>
        <source>Generate one token at a time: the reply pauses after every token; Step asks for exactly one more, Play continues at the chosen speed, Pause stops after the current token.</source>
        <translation>한 번에 한 토큰씩 생성합니다. 응답이 토큰마다 멈추며, ‘다음’은 정확히 한 토큰을 더 요청하고, ‘재생’은 선택한 속도로 이어 가고, ‘일시정지’는 현재 토큰이 끝나면 멈춥니다.</translation>
    </message>
    <message>
        <source>Bundling on this disk</source>
        <translation>이 디스크의 번들링</translation>
    </message>
    <message numerus="yes">
        <source>&lt;b&gt;%n tokens recorded&lt;/b&gt; since this view opened · %L1 layers × %L2 neurons · bundles of %L3 bytes · %4</source>
        <translation>
            <numerusform>이 보기를 연 뒤 &lt;b&gt;토큰 %n개 기록&lt;/b&gt; · 레이어 %L1개 × 뉴런 %L2개 · 번들 %L3바이트 · %4</numerusform>
        </translation>
    </message>
    <message>
        <source>&lt;b&gt;Token %1&lt;/b&gt; (%2) · window k = %3, in force %4 · predicted %L5 neurons, loaded %L6, evicted %L7, streamed %L8 · read %9 in %L10 requests · %11 ms</source>
        <translation>&lt;b&gt;토큰 %1&lt;/b&gt; (%2) · 윈도우 k = %3, 적용 %4 · 예측 뉴런 %L5개, 적재 %L6, 축출 %L7, 스트리밍 %L8 · 요청 %L10회로 %9 읽음 · %11 ms</translation>
    </message>
    <message numerus="yes">
        <source>Over %n tokens: this run read %1/token and loaded %2 neurons/token; with %3 it would read %4/token, load %5 neurons/token, window in force %6 on average.</source>
        <translation>
            <numerusform>%n 토큰 동안: 이번 실행은 토큰당 %1를 읽고 뉴런 %2개를 적재했습니다. %3(으)로는 토큰당 %4를 읽고 뉴런 %5개를 적재하며, 적용된 윈도우는 평균 %6입니다.</numerusform>
        </translation>
    </message>
    <message>
        <source>The preallocated matrix of one layer&apos;s cache, as the engine changed it for this token: a deleted row&apos;s hole is filled by the last row, a new row is appended at the end, and under a budget the least recently used row is overwritten in place. Nothing is reallocated. Click a layer in the map to see its matrix.</source>
        <translation>이 토큰에서 엔진이 바꾼 그대로의, 한 레이어 캐시의 미리 할당한 행렬입니다. 삭제된 행의 빈자리는 마지막 행이 메우고, 새 행은 끝에 추가되며, 예산이 걸려 있으면 가장 오래 쓰이지 않은 행을 제자리에서 덮어씁니다. 다시 할당하는 일은 없습니다. 맵에서 레이어를 클릭하면 그 레이어의 행렬이 보입니다.</translation>
    </message>
    <message>
        <source>How good is the predictor? With this on, the engine also computes every neuron&apos;s true activation: yellow cells were predicted but stayed silent (bytes read in vain), pink ones fired but were missed. Hover a cell for the predictor&apos;s score against the true value. It slows the run, so it is off by default.</source>
        <translation>예측기는 얼마나 정확할까요? 이것을 켜면 엔진이 모든 뉴런의 실제 활성값도 계산합니다. 노란 칸은 예측했지만 활성화되지 않은 뉴런(헛되이 읽은 바이트)이고, 분홍 칸은 활성화됐지만 예측기가 놓친 뉴런입니다. 칸 위에 마우스를 올리면 예측기 점수와 실제 값을 비교할 수 있습니다. 실행이 느려지므로 기본값은 꺼짐입니다.</translation>
    </message>
    <message>
        <source>Step the engine itself: while a reply is being written, each Step asks for exactly one more token and the reply waits until the next one.</source>
        <translation>엔진 자체를 한 토큰씩 진행합니다. 응답을 쓰는 동안 ‘다음’을 누를 때마다 정확히 토큰 하나를 더 요청하고, 응답은 다음 요청까지 기다립니다.</translation>
    </message>
    <message>
        <source>Why bundles? Measured on your own disk: reading a neuron&apos;s weights as one request instead of separate small ones gives far more neurons per second, because flash is fast for larger reads and slow for tiny ones.</source>
        <translation>왜 번들일까요? 여러분의 디스크에서 직접 측정한 결과입니다. 뉴런의 가중치를 따로따로 작은 요청으로 읽는 대신 한 번의 요청으로 읽으면 초당 훨씬 많은 뉴런을 읽습니다. 플래시는 큰 읽기에는 빠르고 아주 작은 읽기에는 느리기 때문입니다.</translation>
    </message>
</context>
<context>
    <name>flashchat::ui::TokenCost</name>
    <message>
        <source>&lt;b&gt;“%1”&lt;/b&gt; · token %2 of the reply (pass %3, %4 mode)&lt;br&gt;</source>
        <translation>&lt;b&gt;“%1”&lt;/b&gt; · 응답의 %2번째 토큰 (순전파 #%3, %4 모드)&lt;br&gt;</translation>
    </message>
    <message>
        <source>Neurons: %L1 predicted, %L2 loaded from flash, %L3 evicted, %L4 streamed (of %L5 in the FFN)&lt;br&gt;</source>
        <translation>뉴런: 예측 %L1, 플래시에서 적재 %L2, 축출 %L3, 스트리밍 %L4 (FFN 전체 %L5개 중)&lt;br&gt;</translation>
    </message>
    <message numerus="yes">
        <source>Read %1 in %n requests · window k = %2 (in force %3)&lt;br&gt;</source>
        <translation>
            <numerusform>요청 %n회로 %1 읽음 · 윈도우 k = %2 (적용 %3)&lt;br&gt;</numerusform>
        </translation>
    </message>
    <message>
        <source>Time %L1 ms = predictor %L2 + I/O %L3 + memory %L4 + compute %L5 + sampling %L6 ms</source>
        <translation>시간 %L1 ms = 예측기 %L2 + I/O %L3 + 메모리 %L4 + 계산 %L5 + 샘플링 %L6 ms</translation>
    </message>
    <message>
        <source>&lt;br&gt;&lt;i&gt;Shown in the teaching view.&lt;/i&gt;</source>
        <translation>&lt;br&gt;&lt;i&gt;교육용 보기에 표시했습니다.&lt;/i&gt;</translation>
    </message>
    <message>
        <source>&lt;b&gt;“%1”&lt;/b&gt; · token %2 of the reply: no telemetry for it (the reply&apos;s last token runs through the model with the next turn, or the run was not recorded).</source>
        <translation>&lt;b&gt;“%1”&lt;/b&gt; · 응답의 %2번째 토큰: 이 토큰의 측정 기록이 없습니다 (응답의 마지막 토큰은 다음 차례에 모델을 거치거나, 이 실행이 기록되지 않았습니다).</translation>
    </message>
</context>
</TS>
