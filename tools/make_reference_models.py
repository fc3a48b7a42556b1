#!/usr/bin/python3
"""make_reference_models.py - tiny Hugging Face checkpoints + independent reference logits.

Writes deterministic (seeded) tiny checkpoints into tests/data/ and, for each, the logits of a
fixed token sequence computed by a float64 numpy forward pass written from the model math (not
from the engine). tests/hf_model_test.cc loads each directory with model_load_hf, runs the
engine's Transformer and compares against reference.json.

Rerun (needs only python3 + numpy; output is byte-identical for the same numpy version):

    /usr/bin/python3 tools/make_reference_models.py            # writes tests/data/tiny_*/
    /usr/bin/python3 tools/make_reference_models.py --out DIR  # elsewhere

The generated files are committed fixtures. Safetensors / JSON / byte-level BPE writing is shared
with bench/make_synthetic_opt.py in tools/hf_writer.py.

Models (all: hidden 32, 4 heads, 2 layers, max_position_embeddings 64):
  tiny_opt          OPT, ffn 128, fp32, tied lm_head, "model." tensor prefix, biases non-zero
  tiny_opt_untied   OPT, ffn 128, F16, explicit lm_head.weight, no "model." prefix
  tiny_llama        Llama (ReluLLaMA style, hidden_act relu), GQA 4/2, ffn 96, F16, untied
  tiny_llama_silu   Llama, silu, BF16, tied embeddings, sharded (2 files + index.json)
  tiny_llama_drelu  Llama, hidden_act "drelu" (TurboSparse dReLU), F32, tied

Every directory has config.json, safetensors weights, tokenizer.json, tokenizer_config.json and
reference.json:
  {"tokens": [ids], "logits": [[vocab floats] per position],
   "text": "...", "text_ids": [ids of text, no BOS, from this script's own tokenizer]}

The reference uses the weights exactly as stored (F16/BF16 rounded values upcast to float64), so
the only difference to the engine is its fp32 arithmetic and the tolerance can stay tight.
"""

import argparse
import json
import os

import numpy as np

from hf_writer import (bpe_apply, learn_merges, make_byte_bpe_tokenizer, store,
                       tokenizer_json_head, write_json,
                       write_safetensors)

# ------------------------------------------------------------------------------------------------
# tokenizers

CORPUS = ("The quick brown fox jumps over the lazy dog. The dog sleeps in the sun, and the fox "
          "runs into the forest. A small model reads the text and writes the next word. Hello "
          "world, hello there! It is the best of times, it is the worst of times.")

SPM_SPACE = "\u2581"


def make_spm_tokenizer(n_merges=40):
    """Llama style: BPE over "▁"-marked text, <0xXX> byte fallback. Ids: <unk> <s> </s>, 256 byte
    tokens, merged tokens in merge order (so score = -rank = decreasing with id), then the single
    characters of the corpus."""
    specials = ["<unk>", "<s>", "</s>"]
    byte_tokens = ["<0x%02X>" % b for b in range(256)]
    words = {}
    for w in CORPUS.split(" "):
        t = tuple(SPM_SPACE + w)
        words[t] = words.get(t, 0) + 1
    chars = sorted(set(SPM_SPACE + CORPUS.replace(" ", "")))
    merges = learn_merges(words, n_merges, set(chars) | set(byte_tokens) | set(specials))
    merged = [a + b for a, b in merges]
    vocab = specials + byte_tokens + merged + chars
    ids = {t: i for i, t in enumerate(vocab)}
    ranks = {m: i for i, m in enumerate(merges)}

    def symbols_of(text):
        norm = SPM_SPACE + text.replace(" ", SPM_SPACE)
        return list(norm)

    def to_ids(syms):
        out = []
        for s in syms:
            if s in ids:
                out.append(ids[s])
            else:  # byte fallback
                out += [ids["<0x%02X>" % b] for b in s.encode("utf-8")]
        return out

    def encode(text):  # HF tokenizers: BPE by merge rank, unknown chars -> bytes
        return to_ids(bpe_apply(symbols_of(text), ranks))

    def encode_spm_greedy(text):  # llama.cpp SPM: merge the pair whose result scores highest
        score = {t: -float(i) for i, t in enumerate(vocab)}
        syms = symbols_of(text)
        while True:
            best, best_i = None, -1
            for i in range(len(syms) - 1):
                s = score.get(syms[i] + syms[i + 1])
                if s is not None and (best is None or s > best):
                    best, best_i = s, i
            if best is None:
                return to_ids(syms)
            syms[best_i:best_i + 2] = [syms[best_i] + syms[best_i + 1]]

    tok = tokenizer_json_head(specials, normalized=False)
    tok.update({
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": SPM_SPACE},
            {"type": "Replace", "pattern": {"String": " "}, "content": SPM_SPACE}]},
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<s>", "type_id": 1}},
                     {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": SPM_SPACE}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>",
                  "continuing_subword_prefix": None, "end_of_word_suffix": None, "fuse_unk": True,
                  "byte_fallback": True, "vocab": {t: i for i, t in enumerate(vocab)},
                  "merges": [a + " " + b for a, b in merges]},
    })
    tok_config = {
        "add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
        "unk_token": "<unk>", "model_max_length": 64, "tokenizer_class": "LlamaTokenizer",
        "chat_template": "{% for message in messages %}{% if message['role'] == 'user' %}"
                         "{{ bos_token + '[INST] ' + message['content'] + ' [/INST]' }}"
                         "{% else %}{{ message['content'] + eos_token }}{% endif %}{% endfor %}"}
    return tok, tok_config, vocab, encode, encode_spm_greedy


# ------------------------------------------------------------------------------------------------
# reference forward passes (float64, from the math)


def layer_norm(x, w, b, eps=1e-5):
    mu = x.mean()
    var = ((x - mu) ** 2).mean()
    return (x - mu) / np.sqrt(var + eps) * w + b


def rms_norm(x, w, eps):
    return x / np.sqrt((x * x).mean() + eps) * w


def softmax(z):
    z = z - z.max()
    e = np.exp(z)
    return e / e.sum()


def attend(q, keys, values, n_heads, n_kv, hd):
    """q (n_heads*hd,), keys/values list of (n_kv*hd,) for positions 0..pos. Scores are scaled
    by hd^-0.5 here unless the caller pre-scaled q (then pass q already scaled and scale=1)."""
    out = np.zeros(n_heads * hd)
    group = n_heads // n_kv
    K = np.stack(keys)
    V = np.stack(values)
    for h in range(n_heads):
        kv = h // group
        qh = q[h * hd:(h + 1) * hd]
        s = K[:, kv * hd:(kv + 1) * hd] @ qh
        p = softmax(s)
        out[h * hd:(h + 1) * hd] = p @ V[:, kv * hd:(kv + 1) * hd]
    return out


def opt_forward(W, cfg, tokens):
    d, H = cfg["hidden_size"], cfg["num_attention_heads"]
    hd = d // H
    L = cfg["num_hidden_layers"]
    caches = [([], []) for _ in range(L)]
    logits = []
    for pos, t in enumerate(tokens):
        x = W["embed"][t] + W["pos"][pos + 2]
        for li in range(L):
            w = W["layers"][li]
            h = layer_norm(x, w["ln1_w"], w["ln1_b"])
            q = (w["q"] @ h + w["bq"]) * hd ** -0.5
            k = w["k"] @ h + w["bk"]
            v = w["v"] @ h + w["bv"]
            caches[li][0].append(k)
            caches[li][1].append(v)
            a = attend(q, caches[li][0], caches[li][1], H, H, hd)
            x = x + w["o"] @ a + w["bo"]
            h = layer_norm(x, w["ln2_w"], w["ln2_b"])
            f = np.maximum(w["fc1"] @ h + w["b1"], 0.0)
            x = x + w["fc2"] @ f + w["b2"]
        x = layer_norm(x, W["lnf_w"], W["lnf_b"])
        logits.append(W["lm_head"] @ x)
    return logits


def rope_halves(x, pos, n, hd, theta, inv_freq=None):
    """HF rotate_half RoPE on n heads of size hd: pairs (i, i + hd/2); pair i turns by
    pos * inv_freq[i] (default: theta^(-2i/hd))."""
    inv = theta ** (-np.arange(0, hd, 2, dtype=np.float64) / hd) if inv_freq is None else inv_freq
    ang = pos * inv
    cos = np.concatenate([np.cos(ang), np.cos(ang)])
    sin = np.concatenate([np.sin(ang), np.sin(ang)])
    out = np.empty_like(x)
    for h in range(n):
        v = x[h * hd:(h + 1) * hd]
        rot = np.concatenate([-v[hd // 2:], v[:hd // 2]])
        out[h * hd:(h + 1) * hd] = v * cos + rot * sin
    return out


def act(name, g, u):
    if name == "silu":
        return g / (1.0 + np.exp(-g)) * u
    if name == "relu":
        return np.maximum(g, 0.0) * u
    if name == "drelu":
        return np.maximum(g, 0.0) * np.maximum(u, 0.0)
    raise ValueError(name)


def llama_forward(W, cfg, tokens):
    d, H = cfg["hidden_size"], cfg["num_attention_heads"]
    KV = cfg["num_key_value_heads"]
    hd = d // H
    L = cfg["num_hidden_layers"]
    eps, theta = cfg["rms_norm_eps"], cfg["rope_theta"]
    caches = [([], []) for _ in range(L)]
    logits = []
    for pos, t in enumerate(tokens):
        x = W["embed"][t].copy()
        for li in range(L):
            w = W["layers"][li]
            h = rms_norm(x, w["ln1"], eps)
            q = rope_halves(w["q"] @ h, pos, H, hd, theta) * hd ** -0.5
            k = rope_halves(w["k"] @ h, pos, KV, hd, theta)
            v = w["v"] @ h
            caches[li][0].append(k)
            caches[li][1].append(v)
            x = x + w["o"] @ attend(q, caches[li][0], caches[li][1], H, KV, hd)
            h = rms_norm(x, w["ln2"], eps)
            x = x + w["down"] @ act(cfg["hidden_act"], w["gate"] @ h, w["up"] @ h)
        x = rms_norm(x, W["norm"], eps)
        logits.append(W["lm_head"] @ x)
    return logits


# ------------------------------------------------------------------------------------------------
# model builders

REF_TOKENS_LEN = 8
# Texts whose ids the test compares with the engine tokenizer ("Z", "7", "é" are not in the
# corpus: byte tokens for OPT's byte-level BPE, <0xXX> byte fallback for the SPM tokenizer).
REF_TEXT_OPT = "Hello world, the fox runs! 7 Zebras."
REF_TEXT_SPM = "Hello world, the fox runs! 7 Zebras caf\u00e9."


class Builder:
    """Collects tensors (name, dtype, values) and remembers the stored float64 values."""

    def __init__(self, rng, vec_dtype):
        self.rng = rng
        self.vec_dtype = vec_dtype  # 1-D tensors (norms, biases) use the checkpoint's dtype too
        self.tensors = []

    def add(self, name, values, dtype):
        data, stored = store(values, dtype)
        self.tensors.append((name, dtype, np.shape(values), data))
        return stored

    def mat(self, name, rows, cols, dtype, scale=1.0):
        return self.add(name, self.rng.standard_normal((rows, cols)) * scale / np.sqrt(cols),
                        dtype)

    def vec(self, name, n, mean, std):
        return self.add(name, mean + self.rng.standard_normal(n) * std, self.vec_dtype)


def write_weights(out, tensors, shard):
    if not shard:
        write_safetensors(os.path.join(out, "model.safetensors"), tensors)
        return
    half = len(tensors) // 2
    files = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    parts = [tensors[:half], tensors[half:]]
    weight_map = {}
    total = 0
    for f, part in zip(files, parts):
        write_safetensors(os.path.join(out, f), part)
        for name, _, _, data in part:
            weight_map[name] = f
            total += len(data)
    write_json(os.path.join(out, "model.safetensors.index.json"),
               {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))},
               indent=2)


def make_opt(out, seed, dtype, tied, prefix):
    rng = np.random.default_rng(seed)
    tok, tok_config, vocab, encode = make_byte_bpe_tokenizer(CORPUS, 40, 64)
    d, ffn, L, H, max_pos = 32, 128, 2, 4, 64
    V = len(vocab)
    cfg = {"_name_or_path": os.path.basename(out), "architectures": ["OPTForCausalLM"],
           "model_type": "opt", "activation_function": "relu", "hidden_size": d, "ffn_dim": ffn,
           "num_hidden_layers": L, "num_attention_heads": H, "max_position_embeddings": max_pos,
           "vocab_size": V, "word_embed_proj_dim": d, "do_layer_norm_before": True,
           "enable_bias": True, "layer_norm_elementwise_affine": True, "dropout": 0.1,
           "bos_token_id": 2, "eos_token_id": 2, "pad_token_id": 1,
           "tie_word_embeddings": tied, "torch_dtype": "float32" if dtype == "F32" else "float16"}
    b = Builder(rng, dtype)
    p = "model.decoder." if prefix else "decoder."
    W = {"layers": []}
    W["embed"] = b.add(p + "embed_tokens.weight", rng.standard_normal((V, d)), dtype)
    W["pos"] = b.add(p + "embed_positions.weight", rng.standard_normal((max_pos + 2, d)) * 0.5,
                     dtype)
    for li in range(L):
        q = p + "layers.%d." % li
        w = {}
        for n in ["q", "k", "v"]:
            w[n] = b.mat(q + "self_attn.%s_proj.weight" % n, d, d, dtype, 2.0)
            w["b" + n] = b.vec(q + "self_attn.%s_proj.bias" % n, d, 0.0, 0.2)
        w["o"] = b.mat(q + "self_attn.out_proj.weight", d, d, dtype)
        w["bo"] = b.vec(q + "self_attn.out_proj.bias", d, 0.0, 0.2)
        w["ln1_w"] = b.vec(q + "self_attn_layer_norm.weight", d, 1.0, 0.2)
        w["ln1_b"] = b.vec(q + "self_attn_layer_norm.bias", d, 0.0, 0.2)
        w["fc1"] = b.mat(q + "fc1.weight", ffn, d, dtype)
        w["b1"] = b.vec(q + "fc1.bias", ffn, -0.2, 0.2)
        w["fc2"] = b.mat(q + "fc2.weight", d, ffn, dtype)
        w["b2"] = b.vec(q + "fc2.bias", d, 0.0, 0.2)
        w["ln2_w"] = b.vec(q + "final_layer_norm.weight", d, 1.0, 0.2)
        w["ln2_b"] = b.vec(q + "final_layer_norm.bias", d, 0.0, 0.2)
        W["layers"].append(w)
    W["lnf_w"] = b.vec(p + "final_layer_norm.weight", d, 1.0, 0.2)
    W["lnf_b"] = b.vec(p + "final_layer_norm.bias", d, 0.0, 0.2)
    if tied:
        W["lm_head"] = W["embed"]
    else:
        W["lm_head"] = b.add("lm_head.weight", rng.standard_normal((V, d)), dtype)
    return finish(out, cfg, b, tok, tok_config, REF_TEXT_OPT, encode,
                  lambda t: opt_forward(W, cfg, t), rng, V)


def make_llama(out, seed, dtype, act_name, tied, shard):
    rng = np.random.default_rng(seed)
    tok, tok_config, vocab, encode, encode_greedy = make_spm_tokenizer()
    assert encode(REF_TEXT_SPM) == encode_greedy(REF_TEXT_SPM), "BPE-by-rank and SPM-greedy disagree"
    d, ffn, L, H, KV, max_pos = 32, 96, 2, 4, 2, 64
    hd = d // H
    V = len(vocab)
    cfg = {"_name_or_path": os.path.basename(out), "architectures": ["LlamaForCausalLM"],
           "model_type": "llama", "hidden_act": act_name, "hidden_size": d,
           "intermediate_size": ffn, "num_hidden_layers": L, "num_attention_heads": H,
           "num_key_value_heads": KV, "max_position_embeddings": max_pos, "rms_norm_eps": 1e-6,
           "rope_theta": 10000.0, "rope_scaling": None, "vocab_size": V,
           "tie_word_embeddings": tied, "attention_bias": False, "bos_token_id": 1,
           "eos_token_id": 2,
           "torch_dtype": {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dtype]}
    b = Builder(rng, dtype)
    W = {"layers": []}
    W["embed"] = b.add("model.embed_tokens.weight", rng.standard_normal((V, d)), dtype)
    for li in range(L):
        q = "model.layers.%d." % li
        w = {}
        w["q"] = b.mat(q + "self_attn.q_proj.weight", H * hd, d, dtype, 2.0)
        w["k"] = b.mat(q + "self_attn.k_proj.weight", KV * hd, d, dtype, 2.0)
        w["v"] = b.mat(q + "self_attn.v_proj.weight", KV * hd, d, dtype)
        w["o"] = b.mat(q + "self_attn.o_proj.weight", d, H * hd, dtype)
        w["gate"] = b.mat(q + "mlp.gate_proj.weight", ffn, d, dtype)
        w["up"] = b.mat(q + "mlp.up_proj.weight", ffn, d, dtype)
        w["down"] = b.mat(q + "mlp.down_proj.weight", d, ffn, dtype)
        w["ln1"] = b.vec(q + "input_layernorm.weight", d, 1.0, 0.2)
        w["ln2"] = b.vec(q + "post_attention_layernorm.weight", d, 1.0, 0.2)
        W["layers"].append(w)
    W["norm"] = b.vec("model.norm.weight", d, 1.0, 0.2)
    if tied:
        W["lm_head"] = W["embed"]
    else:
        W["lm_head"] = b.add("lm_head.weight", rng.standard_normal((V, d)), dtype)
    return finish(out, cfg, b, tok, tok_config, REF_TEXT_SPM, encode,
                  lambda t: llama_forward(W, cfg, t), rng, V, shard)


def finish(out, cfg, b, tok, tok_config, text, encode, forward, rng, V, shard=False):
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        os.remove(os.path.join(out, f))
    write_json(os.path.join(out, "config.json"), cfg, indent=2)
    write_weights(out, b.tensors, shard)
    write_json(os.path.join(out, "tokenizer.json"), tok)
    write_json(os.path.join(out, "tokenizer_config.json"), tok_config, indent=2)
    tokens = [int(t) for t in rng.integers(3, V, REF_TOKENS_LEN)]
    logits = forward(tokens)
    with open(os.path.join(out, "reference.json"), "w") as f:
        f.write("{\"tokens\": %s,\n \"text\": %s,\n \"text_ids\": %s,\n \"logits\": [\n" % (
            json.dumps(tokens), json.dumps(text), json.dumps(encode(text))))
        f.write(",\n".join("  [" + ", ".join("%.9g" % v for v in row) + "]" for row in logits))
        f.write("\n ]}\n")
    size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    amax = max(float(np.abs(r).max()) for r in logits)
    print("%-20s vocab %d, %6.1f KB, max |logit| %.3f" % (os.path.basename(out), V,
                                                          size / 1024.0, amax))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "data"))
    args = ap.parse_args()
    o = os.path.normpath(args.out)
    make_opt(os.path.join(o, "tiny_opt"), 1001, "F32", tied=True, prefix=True)
    make_opt(os.path.join(o, "tiny_opt_untied"), 1002, "F16", tied=False, prefix=False)
    make_llama(os.path.join(o, "tiny_llama"), 2001, "F16", "relu", tied=False, shard=False)
    make_llama(os.path.join(o, "tiny_llama_silu"), 2002, "BF16", "silu", tied=True, shard=True)
    make_llama(os.path.join(o, "tiny_llama_drelu"), 2003, "F32", "drelu", tied=True, shard=False)


if __name__ == "__main__":
    main()
