#!/usr/bin/python3
"""bpe.py - byte-level BPE trainer (GPT-2 byte alphabet) writing an OPT-style tokenizer.json.

The tokenizer.json layout (specials <s> <pad> </s> <unk>, the 256 byte tokens, then one token per
merge; ByteLevel pre-tokenizer/decoder) comes from tools/hf_writer.make_byte_bpe_tokenizer, so the
engine reads it exactly like the test fixtures. Only the merge learning is new here: an
incremental trainer (pair counts updated only for the words a merge touches) that handles a
multi-megabyte corpus and thousands of merges in about a minute. Ties break like
hf_writer.learn_merges (highest count, then lexicographically smallest pair).

    /usr/bin/python3 tools/default_model/bpe.py --train OUT/corpus/train.txt --vocab 6000 --out OUT/tok

writes OUT/tok/tokenizer.json and tokenizer_config.json. Library use: train_bpe(), Tokenizer.
"""

import argparse
import heapq
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from hf_writer import (GPT2_SPLIT, bpe_apply, gpt2_bytes_to_unicode,  # noqa: E402
                       make_byte_bpe_tokenizer, write_json)

N_SPECIAL = 4  # <s> <pad> </s> <unk>
BOS_ID = 2     # OPT: </s> is prepended as BOS and separates documents
EOS_ID = 2


def word_counts(text):
    b2u = gpt2_bytes_to_unicode()
    counts = {}
    for piece in GPT2_SPLIT.findall(text):
        counts[piece] = counts.get(piece, 0) + 1
    return {tuple(b2u[b] for b in p.encode("utf-8")): c for p, c in counts.items()}


def learn_merges_fast(words, n_merges, known):
    """Same contract as hf_writer.learn_merges, incremental. words: {tuple(symbols): count}."""
    words_l = [list(w) for w in words]
    freq = list(words.values())
    pair_count = {}
    pair_words = {}
    for wi, w in enumerate(words_l):
        for p in zip(w, w[1:]):
            pair_count[p] = pair_count.get(p, 0) + freq[wi]
            pair_words.setdefault(p, set()).add(wi)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    known = set(known)
    merges = []
    while len(merges) < n_merges and heap:
        negc, best = heapq.heappop(heap)
        if pair_count.get(best, 0) != -negc or negc == 0:
            continue  # stale entry
        if best[0] + best[1] in known:
            pair_count[best] = 0  # banned: its result already exists
            continue
        merges.append(best)
        new_sym = best[0] + best[1]
        known.add(new_sym)
        changed = set()
        for wi in list(pair_words.get(best, ())):
            w, c = words_l[wi], freq[wi]
            for p in zip(w, w[1:]):
                pair_count[p] -= c
                changed.add(p)
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == best[0] and w[i + 1] == best[1]:
                    out.append(new_sym)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            words_l[wi] = out
            for p in zip(out, out[1:]):
                pair_count[p] = pair_count.get(p, 0) + c
                pair_words.setdefault(p, set()).add(wi)
                changed.add(p)
        pair_count[best] = 0
        for p in changed:
            if pair_count.get(p, 0) > 0:
                heapq.heappush(heap, (-pair_count[p], p))
    return merges


class Tokenizer:
    """Encoder for the tokenizer this module writes (HF BPE semantics via hf_writer.bpe_apply)."""

    def __init__(self, tok_json):
        m = tok_json["model"]
        self.vocab = m["vocab"]
        self.id_to_token = {i: t for t, i in self.vocab.items()}
        self.ranks = {tuple(s.split(" ")): i for i, s in enumerate(m["merges"])}
        self.b2u = gpt2_bytes_to_unicode()
        self.u2b = {u: b for b, u in self.b2u.items()}
        self.cache = {}

    @classmethod
    def load(cls, path):
        with open(os.path.join(path, "tokenizer.json"), encoding="utf-8") as f:
            return cls(json.load(f))

    def encode(self, text):
        out = []
        for piece in GPT2_SPLIT.findall(text):
            ids = self.cache.get(piece)
            if ids is None:
                syms = bpe_apply([self.b2u[b] for b in piece.encode("utf-8")], self.ranks)
                ids = [self.vocab[s] for s in syms]
                self.cache[piece] = ids
            out += ids
        return out

    def decode(self, ids):
        bs = bytearray()
        for i in ids:
            t = self.id_to_token[int(i)]
            if int(i) < N_SPECIAL:
                continue
            bs += bytes(self.u2b[ch] for ch in t)
        return bs.decode("utf-8", errors="replace")


def train_bpe(text, vocab_size, model_max_length):
    """Returns (tokenizer_json, tokenizer_config) with vocab_size tokens (fewer if the corpus runs
    out of pairs)."""
    tok, tok_config, vocab, _ = make_byte_bpe_tokenizer("", 0, model_max_length)
    base = list(vocab)  # specials + 256 byte tokens, in hf_writer's order
    merges = learn_merges_fast(word_counts(text), vocab_size - len(base), set(base))
    full = base + [a + b for a, b in merges]
    tok["model"]["vocab"] = {t: i for i, t in enumerate(full)}
    tok["model"]["merges"] = [a + " " + b for a, b in merges]
    return tok, tok_config


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--train", required=True, help="training text (UTF-8, ASCII after corpus.py)")
    ap.add_argument("--vocab", type=int, default=6000)
    ap.add_argument("--max-length", type=int, default=256, help="model_max_length")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    with open(a.train, encoding="utf-8") as f:
        text = f.read()
    t0 = time.time()
    tok, cfg = train_bpe(text, a.vocab, a.max_length)
    os.makedirs(a.out, exist_ok=True)
    write_json(os.path.join(a.out, "tokenizer.json"), tok)
    write_json(os.path.join(a.out, "tokenizer_config.json"), cfg, indent=2)
    print("bpe: %d tokens (%d merges) in %.1f s" % (len(tok["model"]["vocab"]),
          len(tok["model"]["merges"]), time.time() - t0))


if __name__ == "__main__":
    main()
