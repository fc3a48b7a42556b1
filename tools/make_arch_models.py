#!/usr/bin/python3
"""make_arch_models.py - tiny Llama 3 / Qwen2 / Phi-3 / Falcon models, each written twice (a GGUF
file laid out as llama.cpp's converter writes it, and a Hugging Face folder), with reference
logits from a float64 numpy forward pass written from the model math (not from the engine).

    /usr/bin/python3 tools/make_arch_models.py            # writes tests/data/arch_*/
    /usr/bin/python3 tools/make_arch_models.py --out DIR

Each tests/data/arch_<name>/ holds hf/ (config.json, model.safetensors, tokenizer.json,
tokenizer_config.json), model.gguf and reference.json {"tokens": [...], "logits": [[...]...]}.
tests/arch_model_test.cc loads both and compares. All: dim 64, 2 layers, 4 heads (head dim 16),
context 64, the byte-level BPE vocabulary of hf_writer (300 tokens); matrices F16, norms and biases
F16 in the HF folder and F32 (the same values) in the GGUF.

  arch_llama3       Llama 3.x: rope_theta 500000, rope_scaling llama3 (factor 8, low 1, high 4,
                    original context 64 so that every regime of the scaling is exercised within
                    a few positions), GGUF rope_freqs.weight; GQA 4/2; tied (no output.weight);
                    SiLU. GGUF Q/K rows permuted for adjacent-pair RoPE as llama.cpp does.
  arch_qwen2        Qwen2: q/k/v biases, rope_theta 1e6, rms_norm_eps 1e-6, tied, GQA 4/2,
                    hidden_act relu (a ReLU-fied Qwen: runs sparse in flash mode).
  arch_phi3         Phi-3: fused qkv_proj / attn_qkv, gate_up_proj = [gate; up] (GGUF ffn_up of
                    2*ffn rows, same order), untied, SiLU, sliding_window 48 (caps the context).
  arch_falcon       Falcon-7B style: multi_query (1 KV head), one input_layernorm for parallel
                    attention + MLP, LayerNorm with bias, exact GELU, no linear biases, untied.
  arch_falcon_relu  Falcon-40B style (new_decoder_architecture, 2 KV heads, ln_attn / ln_mlp,
                    per-group interleaved query_key_value in HF, [q; k; v] in GGUF), ReLU.
"""

import argparse
import json
import math
import os

import numpy as np

from hf_writer import make_byte_bpe_tokenizer, store, write_json, write_safetensors
from make_quant_gguf import write_gguf
from make_reference_models import layer_norm, rope_halves, softmax
from make_reference_models import rms_norm as reference_rms_norm

CORPUS = ("The quick brown fox jumps over the lazy dog. The dog sleeps in the sun, and the fox "
          "runs into the forest. A small model reads the text and writes the next word.")
D, L, H, HD, MAX_POS = 64, 2, 4, 16, 64
N_TOKENS = 10
GGML_F32, GGML_F16 = 0, 1

# ------------------------------------------------------------------------------------------------
# reference forward pass (float64)


def rms_norm(x, w, b, eps):
    return reference_rms_norm(x, w, eps)


def activation(name, g):
    if name == "silu":
        return g / (1.0 + np.exp(-g))
    if name == "relu":
        return np.maximum(g, 0.0)
    if name == "gelu":  # exact: x * Phi(x)
        return np.array([0.5 * v * (1.0 + math.erf(v / math.sqrt(2.0))) for v in g])
    raise ValueError(name)


def forward(W, A, tokens):
    """W: canonical weights (HF layout). A: {kv, norm, eps, inv_freq, parallel, gated, act}."""
    norm = rms_norm if A["norm"] == "rms" else layer_norm
    kv = A["kv"]
    group = H // kv
    caches = [([], []) for _ in range(L)]
    out = []
    for pos, t in enumerate(tokens):
        x = W["embed"][t].copy()
        for li in range(L):
            w = W["layers"][li]
            h = norm(x, w["ln1"], w.get("ln1_b"), A["eps"])
            q = w["q"] @ h + w.get("bq", 0.0)
            k = w["k"] @ h + w.get("bk", 0.0)
            v = w["v"] @ h + w.get("bv", 0.0)
            q = rope_halves(q, pos, H, HD, None, A["inv_freq"]) / math.sqrt(HD)
            k = rope_halves(k, pos, kv, HD, None, A["inv_freq"])
            caches[li][0].append(k)
            caches[li][1].append(v)
            K, V = np.stack(caches[li][0]), np.stack(caches[li][1])
            a = np.zeros(H * HD)
            for hh in range(H):
                g = hh // group
                p = softmax(K[:, g * HD:(g + 1) * HD] @ q[hh * HD:(hh + 1) * HD])
                a[hh * HD:(hh + 1) * HD] = p @ V[:, g * HD:(g + 1) * HD]
            attn = w["o"] @ a

            def ffn(u):
                if A["gated"]:
                    return w["down"] @ (activation(A["act"], w["gate"] @ u) * (w["up"] @ u))
                return w["down"] @ activation(A["act"], w["up"] @ u)

            if A["parallel"]:
                x = x + attn + ffn(norm(x, w["ln2"], w.get("ln2_b"), A["eps"]))
            else:
                x = x + attn
                x = x + ffn(norm(x, w["ln2"], w.get("ln2_b"), A["eps"]))
        x = norm(x, W["lnf"], W.get("lnf_b"), A["eps"])
        out.append(W["lm_head"] @ x)
    return out


def llama3_divisors(theta, factor, low, high, original):
    """Per pair: the divisor of its frequency, as llama.cpp's converter writes rope_freqs."""
    out = []
    for j in range(HD // 2):
        wavelen = 2 * math.pi / theta ** (-2.0 * j / HD)
        if wavelen < original / high:
            out.append(1.0)
        elif wavelen > original / low:
            out.append(factor)
        else:
            smooth = (original / wavelen - low) / (high - low)
            out.append(1.0 / ((1 - smooth) / factor + smooth))
    return np.array(out)


# ------------------------------------------------------------------------------------------------
# writing


class Writer:
    """Random weights, rounded to F16 once; collected as HF tensors and as GGUF tensors."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.hf = []    # (name, dtype, shape, bytes)
        self.gguf = []  # (name, ne, type, bytes)

    def mat(self, rows, cols, scale=1.0):
        _, v = store(self.rng.standard_normal((rows, cols)) * scale / np.sqrt(cols), "F16")
        return v

    def vec(self, n, mean, std):
        _, v = store(mean + self.rng.standard_normal(n) * std, "F16")
        return v

    def add_hf(self, name, v):
        data, _ = store(v, "F16")
        self.hf.append((name, "F16", v.shape, data))

    def add_gguf(self, name, v):
        if v.ndim == 1:
            self.gguf.append((name, [v.shape[0]], GGML_F32, v.astype("<f4").tobytes()))
        else:
            self.gguf.append((name, [v.shape[1], v.shape[0]], GGML_F16,
                              v.astype("<f2").tobytes()))


def llama_permute(w, n_head):
    """llama.cpp's Q/K permutation: per head, row i and row i + HD/2 become rows 2i, 2i + 1."""
    return w.reshape(n_head, 2, HD // 2, w.shape[1]).swapaxes(1, 2).reshape(w.shape)


def finish(out, name, cfg, wr, tok, tok_config, vocab, merges, gguf_arch, gguf_kv, W, A):
    hf_dir = os.path.join(out, "hf")
    os.makedirs(hf_dir, exist_ok=True)
    for d in (out, hf_dir):
        for f in os.listdir(d):
            if os.path.isfile(os.path.join(d, f)):
                os.remove(os.path.join(d, f))
    write_json(os.path.join(hf_dir, "config.json"), cfg, indent=2)
    write_safetensors(os.path.join(hf_dir, "model.safetensors"), wr.hf)
    write_json(os.path.join(hf_dir, "tokenizer.json"), tok)
    write_json(os.path.join(hf_dir, "tokenizer_config.json"), tok_config, indent=2)
    p = gguf_arch + "."
    kv = [("general.architecture", gguf_arch), ("general.name", name),
          (p + "context_length", MAX_POS), (p + "embedding_length", D), (p + "block_count", L),
          (p + "attention.head_count", H)] + gguf_kv + [
          ("tokenizer.ggml.model", "gpt2"), ("tokenizer.ggml.pre", "gpt-2"),
          ("tokenizer.ggml.tokens", vocab), ("tokenizer.ggml.merges", merges),
          ("tokenizer.ggml.bos_token_id", 0), ("tokenizer.ggml.eos_token_id", 2)]
    write_gguf(os.path.join(out, "model.gguf"), wr.gguf, kv)
    tokens = [int(t) for t in wr.rng.integers(4, len(vocab), N_TOKENS)]
    logits = forward(W, A, tokens)
    with open(os.path.join(out, "reference.json"), "w") as f:
        f.write("{\"tokens\": %s,\n \"logits\": [\n" % json.dumps(tokens))
        f.write(",\n".join("  [" + ", ".join("%.9g" % v for v in row) + "]" for row in logits))
        f.write("\n ]}\n")
    print("%-18s max |logit| %.3f" % (name, max(float(np.abs(r).max()) for r in logits)))


def make_llama_family(out, kind, seed):
    """kind: llama3 | qwen2 | phi3."""
    tok, tok_config, vocab, _ = make_byte_bpe_tokenizer(CORPUS, 40, MAX_POS)
    merges = [m for m in tok["model"]["merges"]]
    V, ffn = len(vocab), 96
    kv = 4 if kind == "phi3" else 2
    act = {"llama3": "silu", "qwen2": "relu", "phi3": "silu"}[kind]
    theta = {"llama3": 500000.0, "qwen2": 1000000.0, "phi3": 10000.0}[kind]
    tied = kind != "phi3"
    eps = 1e-5 if kind == "llama3" else 1e-6
    wr = Writer(seed)
    W = {"layers": [], "embed": wr.mat(V, D, np.sqrt(D))}
    wr.add_hf("model.embed_tokens.weight", W["embed"])
    wr.add_gguf("token_embd.weight", W["embed"])
    inv_freq = theta ** (-np.arange(0, HD, 2, dtype=np.float64) / HD)
    cfg = {"_name_or_path": os.path.basename(out), "hidden_act": act, "hidden_size": D,
           "intermediate_size": ffn, "num_hidden_layers": L, "num_attention_heads": H,
           "num_key_value_heads": kv, "max_position_embeddings": MAX_POS, "rms_norm_eps": eps,
           "rope_theta": theta, "vocab_size": V, "tie_word_embeddings": tied,
           "bos_token_id": 0, "eos_token_id": 2, "torch_dtype": "float16"}
    gguf_arch = "llama" if kind == "llama3" else kind
    p = gguf_arch + "."
    gguf_kv = [(p + "feed_forward_length", ffn), (p + "attention.head_count_kv", kv),
               (p + "attention.layer_norm_rms_epsilon", eps), (p + "rope.freq_base", theta),
               (p + "rope.dimension_count", HD)]
    if kind == "llama3":
        cfg.update(model_type="llama", architectures=["LlamaForCausalLM"],
                   rope_scaling={"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                 "original_max_position_embeddings": 64, "rope_type": "llama3"})
        div = llama3_divisors(theta, 8.0, 1.0, 4.0, 64)
        inv_freq = inv_freq / div
        wr.add_gguf("rope_freqs.weight", div)
    elif kind == "qwen2":
        cfg.update(model_type="qwen2", architectures=["Qwen2ForCausalLM"],
                   use_sliding_window=False, sliding_window=4096)
        gguf_kv.append((p + "flashchat.activation", "relu"))
    else:
        cfg.update(model_type="phi3", architectures=["Phi3ForCausalLM"], sliding_window=48,
                   rope_scaling=None, original_max_position_embeddings=MAX_POS)
        gguf_kv.append((p + "attention.sliding_window", 48))
    for li in range(L):
        hp, gp = "model.layers.%d." % li, "blk.%d." % li
        w = {"q": wr.mat(H * HD, D, 2.0), "k": wr.mat(kv * HD, D, 2.0), "v": wr.mat(kv * HD, D),
             "o": wr.mat(D, H * HD), "gate": wr.mat(ffn, D), "up": wr.mat(ffn, D),
             "down": wr.mat(D, ffn), "ln1": wr.vec(D, 1.0, 0.2), "ln2": wr.vec(D, 1.0, 0.2)}
        if kind == "qwen2":
            for n, rows in (("bq", H * HD), ("bk", kv * HD), ("bv", kv * HD)):
                w[n] = wr.vec(rows, 0.0, 0.3)
        W["layers"].append(w)
        wr.add_hf(hp + "input_layernorm.weight", w["ln1"])
        wr.add_gguf(gp + "attn_norm.weight", w["ln1"])
        if kind == "phi3":
            wr.add_hf(hp + "self_attn.qkv_proj.weight", np.concatenate([w["q"], w["k"], w["v"]]))
            wr.add_gguf(gp + "attn_qkv.weight", np.concatenate([w["q"], w["k"], w["v"]]))
        else:
            for n in "qkv":
                wr.add_hf(hp + "self_attn.%s_proj.weight" % n, w[n])
            q, k = w["q"], w["k"]
            if kind == "llama3":
                q, k = llama_permute(q, H), llama_permute(k, kv)
            wr.add_gguf(gp + "attn_q.weight", q)
            wr.add_gguf(gp + "attn_k.weight", k)
            wr.add_gguf(gp + "attn_v.weight", w["v"])
        if kind == "qwen2":
            for n in "qkv":
                wr.add_hf(hp + "self_attn.%s_proj.bias" % n, w["b" + n])
                wr.add_gguf(gp + "attn_%s.bias" % n, w["b" + n])
        wr.add_hf(hp + "self_attn.o_proj.weight", w["o"])
        wr.add_gguf(gp + "attn_output.weight", w["o"])
        wr.add_hf(hp + "post_attention_layernorm.weight", w["ln2"])
        wr.add_gguf(gp + "ffn_norm.weight", w["ln2"])
        if kind == "phi3":
            wr.add_hf(hp + "mlp.gate_up_proj.weight", np.concatenate([w["gate"], w["up"]]))
            wr.add_gguf(gp + "ffn_up.weight", np.concatenate([w["gate"], w["up"]]))
        else:
            wr.add_hf(hp + "mlp.gate_proj.weight", w["gate"])
            wr.add_hf(hp + "mlp.up_proj.weight", w["up"])
            wr.add_gguf(gp + "ffn_gate.weight", w["gate"])
            wr.add_gguf(gp + "ffn_up.weight", w["up"])
        wr.add_hf(hp + "mlp.down_proj.weight", w["down"])
        wr.add_gguf(gp + "ffn_down.weight", w["down"])
    W["lnf"] = wr.vec(D, 1.0, 0.2)
    wr.add_hf("model.norm.weight", W["lnf"])
    wr.add_gguf("output_norm.weight", W["lnf"])
    if tied:
        W["lm_head"] = W["embed"]
    else:
        W["lm_head"] = wr.mat(V, D, np.sqrt(D))
        wr.add_hf("lm_head.weight", W["lm_head"])
        wr.add_gguf("output.weight", W["lm_head"])
    A = {"kv": kv, "norm": "rms", "eps": eps, "inv_freq": inv_freq, "parallel": False,
         "gated": True, "act": act}
    finish(out, os.path.basename(out), cfg, wr, tok, tok_config, vocab, merges, gguf_arch,
           gguf_kv, W, A)


def make_falcon(out, seed, new_arch):
    tok, tok_config, vocab, _ = make_byte_bpe_tokenizer(CORPUS, 40, MAX_POS)
    merges = list(tok["model"]["merges"])
    V, ffn = len(vocab), 4 * D
    kv = 2 if new_arch else 1
    act = "relu" if new_arch else "gelu"
    eps = 1e-5
    wr = Writer(seed)
    W = {"layers": [], "embed": wr.mat(V, D, np.sqrt(D))}
    wr.add_hf("transformer.word_embeddings.weight", W["embed"])
    wr.add_gguf("token_embd.weight", W["embed"])
    cfg = {"_name_or_path": os.path.basename(out), "model_type": "falcon",
           "architectures": ["FalconForCausalLM"], "hidden_size": D, "num_hidden_layers": L,
           "num_attention_heads": H, "vocab_size": V, "layer_norm_epsilon": eps,
           "max_position_embeddings": MAX_POS, "rope_theta": 10000.0, "alibi": False,
           "bias": False, "parallel_attn": True, "new_decoder_architecture": new_arch,
           "multi_query": not new_arch, "tie_word_embeddings": False,
           "bos_token_id": 0, "eos_token_id": 2, "torch_dtype": "float16"}
    if new_arch:
        cfg.update(num_kv_heads=kv, activation="relu", num_ln_in_parallel_attn=2)
    p = "falcon."
    gguf_kv = [(p + "feed_forward_length", ffn), (p + "attention.head_count_kv", kv),
               (p + "attention.layer_norm_epsilon", eps), (p + "rope.freq_base", 10000.0)]
    if new_arch:
        gguf_kv.append((p + "flashchat.activation", "relu"))
    group = H // kv
    for li in range(L):
        hp, gp = "transformer.h.%d." % li, "blk.%d." % li
        w = {"q": wr.mat(H * HD, D, 2.0), "k": wr.mat(kv * HD, D, 2.0), "v": wr.mat(kv * HD, D),
             "o": wr.mat(D, H * HD), "up": wr.mat(ffn, D), "down": wr.mat(D, ffn),
             "ln1": wr.vec(D, 1.0, 0.2), "ln1_b": wr.vec(D, 0.0, 0.2)}
        if new_arch:
            w["ln2"], w["ln2_b"] = wr.vec(D, 1.0, 0.2), wr.vec(D, 0.0, 0.2)
        else:
            w["ln2"], w["ln2_b"] = w["ln1"], w["ln1_b"]
        W["layers"].append(w)
        if new_arch:  # HF: per KV group, its query heads, its key, its value
            parts = []
            for g in range(kv):
                parts += [w["q"][(g * group + j) * HD:(g * group + j + 1) * HD]
                          for j in range(group)]
                parts += [w["k"][g * HD:(g + 1) * HD], w["v"][g * HD:(g + 1) * HD]]
            fused = np.concatenate(parts)
            wr.add_hf(hp + "ln_attn.weight", w["ln1"])
            wr.add_hf(hp + "ln_attn.bias", w["ln1_b"])
            wr.add_hf(hp + "ln_mlp.weight", w["ln2"])
            wr.add_hf(hp + "ln_mlp.bias", w["ln2_b"])
            wr.add_gguf(gp + "attn_norm_2.weight", w["ln2"])
            wr.add_gguf(gp + "attn_norm_2.bias", w["ln2_b"])
        else:  # multi-query: all query heads, the key, the value
            fused = np.concatenate([w["q"], w["k"], w["v"]])
            wr.add_hf(hp + "input_layernorm.weight", w["ln1"])
            wr.add_hf(hp + "input_layernorm.bias", w["ln1_b"])
        wr.add_gguf(gp + "attn_norm.weight", w["ln1"])
        wr.add_gguf(gp + "attn_norm.bias", w["ln1_b"])
        wr.add_hf(hp + "self_attention.query_key_value.weight", fused)
        # llama.cpp's converter reorders to [q; k; v]
        wr.add_gguf(gp + "attn_qkv.weight", np.concatenate([w["q"], w["k"], w["v"]]))
        wr.add_hf(hp + "self_attention.dense.weight", w["o"])
        wr.add_gguf(gp + "attn_output.weight", w["o"])
        wr.add_hf(hp + "mlp.dense_h_to_4h.weight", w["up"])
        wr.add_gguf(gp + "ffn_up.weight", w["up"])
        wr.add_hf(hp + "mlp.dense_4h_to_h.weight", w["down"])
        wr.add_gguf(gp + "ffn_down.weight", w["down"])
    W["lnf"], W["lnf_b"] = wr.vec(D, 1.0, 0.2), wr.vec(D, 0.0, 0.2)
    wr.add_hf("transformer.ln_f.weight", W["lnf"])
    wr.add_hf("transformer.ln_f.bias", W["lnf_b"])
    wr.add_gguf("output_norm.weight", W["lnf"])
    wr.add_gguf("output_norm.bias", W["lnf_b"])
    W["lm_head"] = wr.mat(V, D, np.sqrt(D))
    wr.add_hf("lm_head.weight", W["lm_head"])
    wr.add_gguf("output.weight", W["lm_head"])
    A = {"kv": kv, "norm": "ln", "eps": eps,
         "inv_freq": 10000.0 ** (-np.arange(0, HD, 2, dtype=np.float64) / HD), "parallel": True,
         "gated": False, "act": act}
    finish(out, os.path.basename(out), cfg, wr, tok, tok_config, vocab, merges, "falcon",
           gguf_kv, W, A)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "data"))
    o = os.path.normpath(ap.parse_args().out)
    make_llama_family(os.path.join(o, "arch_llama3"), "llama3", 3001)
    make_llama_family(os.path.join(o, "arch_qwen2"), "qwen2", 3002)
    make_llama_family(os.path.join(o, "arch_phi3"), "phi3", 3003)
    make_falcon(os.path.join(o, "arch_falcon"), 3004, new_arch=False)
    make_falcon(os.path.join(o, "arch_falcon_relu"), 3005, new_arch=True)


if __name__ == "__main__":
    main()
