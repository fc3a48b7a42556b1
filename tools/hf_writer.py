"""hf_writer.py - shared helpers for writing Hugging Face style checkpoints with numpy only.

Used by tools/make_reference_models.py (tiny test fixtures) and bench/make_synthetic_opt.py
(synthetic OPT-shaped benchmark models). Nothing here depends on torch or safetensors.

  store(a, dtype)                     -> (bytes, stored values as float64); F32 | F16 | BF16
  write_safetensors(path, tensors)    whole file at once from [(name, dtype, shape, bytes)]
  SafetensorsStreamWriter             header from (name, dtype, shape) specs, then tensor data
                                      appended one tensor at a time (for models larger than RAM)
  write_json(path, obj, indent)
  make_byte_bpe_tokenizer(corpus, n_merges, model_max_length)
                                      OPT / GPT-2 style byte-level BPE tokenizer.json contents,
                                      merges learned on `corpus` with a tiny BPE trainer
"""

import json
import re
import struct

import numpy as np

# ------------------------------------------------------------------------------------------------
# safetensors writing / dtype rounding

DTYPE_SIZE_BYTES = {"F32": 4, "F16": 2, "BF16": 2}


def to_bf16_bits(a):
    """float32 array -> uint16 bfloat16 bits, round to nearest even."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounding = ((u >> 16) & 1) + 0x7FFF
    return ((u + rounding) >> 16).astype(np.uint16)


def bf16_bits_to_f32(b):
    return (b.astype(np.uint32) << 16).view(np.float32)


def store(a, dtype):
    """Returns (bytes, stored values as float64) for array a in dtype 'F32' | 'F16' | 'BF16'."""
    a = np.asarray(a, dtype=np.float64)
    if dtype == "F32":
        s = a.astype("<f4")
        return s.tobytes(), s.astype(np.float64)
    if dtype == "F16":
        s = a.astype("<f2")
        return s.tobytes(), s.astype(np.float64)
    if dtype == "BF16":
        bits = to_bf16_bits(a.astype(np.float32)).astype("<u2")
        return bits.tobytes(), bf16_bits_to_f32(bits).astype(np.float64).reshape(a.shape)
    raise ValueError(dtype)


def read_safetensors(path):
    """name -> numpy array in the stored dtype (F16 / F32 / BF16 as uint16 bits)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        body = f.read()
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        begin, end = meta["data_offsets"]
        dt = {"F16": "<f2", "F32": "<f4", "BF16": "<u2"}[meta["dtype"]]
        out[name] = np.frombuffer(body[begin:end], dtype=dt).reshape(meta["shape"])
    return out


def safetensors_header(specs):
    """specs: list of (name, dtype, shape). Returns the padded JSON header bytes (data offsets in
    list order, tensors stored back to back)."""
    header = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, dtype, shape in specs:
        n = DTYPE_SIZE_BYTES[dtype] * int(np.prod(shape, dtype=np.int64))
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + n]}
        offset += n
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return h


def write_safetensors(path, tensors):
    """tensors: list of (name, dtype, shape, bytes). Writes a safetensors file."""
    for name, dtype, shape, data in tensors:
        assert len(data) == DTYPE_SIZE_BYTES[dtype] * int(np.prod(shape, dtype=np.int64)), name
    h = safetensors_header([(name, dtype, shape) for name, dtype, shape, _ in tensors])
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for _, _, _, data in tensors:
            f.write(data)


class SafetensorsStreamWriter:
    """Writes a safetensors file whose tensors are produced one at a time, in the order of the
    specs given up front (list of (name, dtype, shape)). write(name, bytes) must be called for
    every spec, in order; close() checks that all were written. Use as a context manager."""

    def __init__(self, path, specs):
        self.specs = list(specs)
        self.next = 0
        self.f = open(path, "wb")
        h = safetensors_header(self.specs)
        self.f.write(struct.pack("<Q", len(h)))
        self.f.write(h)

    def write(self, name, data):
        if self.next >= len(self.specs):
            raise ValueError("tensor %s written after the last spec" % name)
        want, dtype, shape = self.specs[self.next]
        if name != want:
            raise ValueError("tensor %s written where %s was expected" % (name, want))
        n = DTYPE_SIZE_BYTES[dtype] * int(np.prod(shape, dtype=np.int64))
        if len(data) != n:
            raise ValueError("tensor %s has %d bytes, expected %d" % (name, len(data), n))
        self.f.write(data)
        self.next += 1

    def close(self):
        self.f.close()
        if self.next != len(self.specs):
            raise ValueError("only %d of %d tensors written" % (self.next, len(self.specs)))

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.f.close()
        return False


def write_json(path, obj, indent=None):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=indent)
        f.write("\n")


# ------------------------------------------------------------------------------------------------
# tokenizers


def learn_merges(words, n_merges, known):
    """Tiny BPE trainer. words: {tuple(symbols): count}. Returns merges [(a, b)] in rank order.
    Ties break on the lexicographically smallest pair; a merge whose result already exists in
    `known` (set of token strings) is skipped so every merged token has exactly one merge."""
    words = dict(words)
    merges = []
    known = set(known)
    banned = set()
    while len(merges) < n_merges:
        counts = {}
        for w, c in words.items():
            for p in zip(w, w[1:]):
                if p not in banned:
                    counts[p] = counts.get(p, 0) + c
        if not counts:
            break
        best = min(counts, key=lambda p: (-counts[p], p))
        if best[0] + best[1] in known:
            banned.add(best)
            continue
        merges.append(best)
        known.add(best[0] + best[1])
        new_words = {}
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new_words[tuple(out)] = new_words.get(tuple(out), 0) + c
        words = new_words
    return merges


def bpe_apply(symbols, ranks):
    """HF BPE: repeatedly merge the adjacent pair with the lowest merge rank (leftmost on ties)."""
    symbols = list(symbols)
    while True:
        best, best_i = None, -1
        for i in range(len(symbols) - 1):
            r = ranks.get((symbols[i], symbols[i + 1]))
            if r is not None and (best is None or r < best):
                best, best_i = r, i
        if best is None:
            return symbols
        symbols[best_i:best_i + 2] = [symbols[best_i] + symbols[best_i + 1]]


def gpt2_bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


# GPT-2's pre-tokenizer regex restricted to ASCII (\p{L} -> [A-Za-z], \p{N} -> [0-9]); exact for
# ASCII text (the corpora and texts these tools tokenize are ASCII).
GPT2_SPLIT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")


def tokenizer_json_head(specials, normalized):
    """The leading fields of an HF tokenizer.json (key order as HF writes them): version,
    truncation, padding and the special tokens as added_tokens with ids 0.."""
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": normalized, "special": True} for i, s in enumerate(specials)],
    }


def make_byte_bpe_tokenizer(corpus, n_merges=40, model_max_length=64):
    """OPT / GPT-2 style byte-level BPE: ids <s> <pad> </s> <unk>, the 256 byte tokens, then one
    token per merge learned on `corpus` (at most n_merges). Returns
    (tokenizer_json, tokenizer_config, vocab list, encode fn)."""
    b2u = gpt2_bytes_to_unicode()
    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    byte_tokens = [b2u[b] for b in range(256)]
    words = {}
    for piece in GPT2_SPLIT.findall(corpus):
        w = tuple(b2u[b] for b in piece.encode("utf-8"))
        words[w] = words.get(w, 0) + 1
    merges = learn_merges(words, n_merges, set(byte_tokens) | set(specials))
    vocab = specials + byte_tokens + [a + b for a, b in merges]
    ranks = {m: i for i, m in enumerate(merges)}
    ids = {t: i for i, t in enumerate(vocab)}

    def encode(text):
        out = []
        for piece in GPT2_SPLIT.findall(text):
            syms = bpe_apply([b2u[b] for b in piece.encode("utf-8")], ranks)
            out += [ids[s] for s in syms]
        return out

    tok = tokenizer_json_head(specials, normalized=True)
    tok.update({
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                          "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False,
                           "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": "", "end_of_word_suffix": "", "fuse_unk": False,
                  "byte_fallback": False, "vocab": {t: i for i, t in enumerate(vocab)},
                  "merges": [a + " " + b for a, b in merges]},
    })
    tok_config = {"add_bos_token": True, "add_prefix_space": False, "bos_token": "</s>",
                  "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "</s>",
                  "model_max_length": model_max_length, "tokenizer_class": "GPT2Tokenizer"}
    return tok, tok_config, vocab, encode
