#!/usr/bin/env python3
# reference_splits.py - writes splits.json: how each pre-tokenizer family splits test strings
# (digits, contractions, whitespace runs, newlines, CJK, emoji, accents), computed independently
# of the engine with Python's `regex` module (Unicode \p{..} classes, \s = White_Space) and
# Isolated splitting (every regex splits the pieces the previous ones left; matches and the text
# between them become pieces). tests/pretokenizer_test.cc compares the engine's ICU splitter
# against it. Run: python3 reference_splits.py > splits.json
import regex, json, sys
GPT2=r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
L3=r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
Q2=r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
CJK="[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+"
DSL="\\s?[A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293\u0295-\u02af\u0370-\u0373\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1\u03a3-\u03f5\u03f7-\u0481\u048a-\u052f\u0531-\u0556\u10a0-\u10c5\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba\u1cbd-\u1cbf\u1d00-\u1d2b\u1d6b-\u1d77\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d\u1f50-\u1f57\u1f59\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4\u1fc6-\u1fcc\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc\u2102\u2107\u210a-\u2113\u2115\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d\u212f-\u2134\u2139\u213c-\u213f\u2145-\u2149\u214e\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee\u2cf2\u2cf3\ua640-\ua66d\ua680-\ua69b\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e\uab70-\uabbf\ufb00-\ufb06\ufb13-\ufb17\uff21-\uff3a\uff41-\uff5a\U00010400-\U0001044f\U000104b0-\U000104d3\U000104d8-\U000104fb\U00010c80-\U00010cb2\U00010cc0-\U00010cf2\U000118a0-\U000118df\U0001e900-\U0001e943]+"
FAM={
 "gpt-2":[GPT2], "llama3":[L3], "qwen2":[Q2],
 "deepseek-llm":["[\r\n]",DSL,"\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+",r"\s+$",CJK,r"\p{N}+"],
 "deepseek-coder":["[\r\n]",r"\s?\p{L}+",r"\s?\p{P}+",CJK,r"\p{N}"],
 "falcon":[r"[\p{P}\$\+<=>\^~\|`]+",GPT2,r"\p{N}+","[0-9][0-9][0-9]"],
 "starcoder":[r"\p{N}",GPT2],
 "default":[r"[\p{P}\$\+<=>\^~\|]+",GPT2,r"\p{N}+","[0-9][0-9][0-9]"],
}
def split(fam, text):
    pieces=[text]
    for r in FAM[fam]:
        rx=regex.compile(r)
        nxt=[]
        for p in pieces:
            done=0
            for m in rx.finditer(p):
                s,e=m.span()
                if s==e: continue
                if s>done: nxt.append(p[done:s])
                nxt.append(p[s:e]); done=e
            if done<len(p): nxt.append(p[done:])
        pieces=nxt
    return pieces
INPUTS = [
    "1234567 12.5 3,000,000",
    "I'M here, they're DON'T you'll we'd",
    "a  b\t\tc \n\n d   ",
    "line one\r\nline two\n\n\n  indented",
    "\u4f60\u597d\u4e16\u754c \ud55c\uad6d\uc5b4 \u30c6\u30b9\u30c8\u3002\uff01",
    "hi \U0001f999\U0001f999 ok\U0001f44d\U0001f3fd! \u2764\ufe0f",
    "caf\u00e9 na\u00efve \u03a9mega \u00b5s",
    "x=1+2; y<=3 && z|w ~`$^",
    "   leading and trailing   ",
    "\u00a0nbsp\u2003em\u3000ideographic",
    "tab\x0bvtab\u0085next \x0c\x0b end",
]
cases = [{"family": fam, "text": t, "pieces": split(fam, t)} for fam in FAM for t in INPUTS]
json.dump(cases, sys.stdout, ensure_ascii=False, indent=1)
sys.stdout.write("\n")
