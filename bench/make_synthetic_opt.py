#!/usr/bin/python3
"""make_synthetic_opt.py - SYNTHETIC OPT-shaped models with calibrated activation sparsity.

THESE ARE NOT TRAINED MODELS. The weights are seeded random numbers; only the fc1 biases are
calibrated so that the ReLU FFNs are as sparse as the paper ("LLM in a Flash", arXiv 2312.11514)
reports for OPT 6.7B. The generated text is gibberish. The models exist to benchmark the flash
machinery (predictors, windowing, bundled reads, DRAM budgets) at real OPT shapes without
downloading checkpoints. Every number measured on them says how the engine behaves for this
sparsity/reuse profile, not how a real OPT behaves.

Output: a Hugging Face directory that engine/model/model_load_hf.cc imports and
`flashchat-cli convert` turns into a flash model:
  config.json               model_type "opt", pre-LayerNorm, relu, max_position_embeddings 2048
  model.safetensors         fp16, "model.decoder." prefix, separate lm_head.weight (untied: with
                            OPT's tied head a random model's top logit is nearly always the
                            current token, so generation would repeat one token forever)
  tokenizer.json            byte-level BPE (like tests/data/tiny_opt): 4 specials + 256 bytes +
                            500 merges learned on resources/calib/default.txt = 760 tokens
  tokenizer_config.json
  synthetic_report.json     the calibration targets and the measured sparsity per layer

The vocabulary is deliberately small (760 tokens instead of OPT's 50272) so that embeddings do
not dominate small presets; layer shapes are OPT's. Presets (dim, ffn, layers, heads):
  tiny      256,  1024,  4,  4    ~8 MB, for CI
  opt-125m  768,  3072, 12, 12    ~0.17 GB
  opt-1.3b 2048,  8192, 24, 32    ~2.4 GB
  opt-6.7b 4096, 16384, 32, 32    ~12.9 GB
Tensors are generated, calibrated and written one layer at a time (streaming safetensors), so
peak RAM is a few layers, not the model. Everything is seeded (--seed): same numpy, same bytes.

How the activation statistics are produced (all measured, see synthetic_report.json):
  * Sparsity. Layer l's fc1 bias is b_i = s_l * (c_l + o_i): s_l the std of the layer's fc1
    pre-activations, o_i a per-neuron offset from a heavy-tailed Student-t(3) distribution (a few
    percent of neurons get large offsets and fire far more often than the rest; others almost
    never fire), and c_l a per-layer shift found by bisection so that the mean active fraction
    on the calibration tokens hits the target: 1.5% in the first layer rising linearly to 5% in
    the last (the paper's OPT 6.7B profile). Calibration runs this script's own numpy forward
    pass (OPT pre-LN decoder, learned positions offset 2, q scaled by head_dim^-0.5, relu FFN)
    on the stored fp16 weights, layer by layer.
  * Token-to-token reuse. Consecutive tokens share active neurons because the residual stream
    is dominated by a slowly varying component: the learned position embeddings are a smooth
    random process (AR(1) over positions, correlation time --pos-tau tokens, std --pos-scale
    times the token embeddings'). Attention uses k_proj = q_proj (a token attends to states like
    its own, i.e. mostly recent ones) but adds little: with --pos-scale 0 the reuse of `tiny`
    drops from 0.56 to 0.17. Nearly uniform attention (--qk-scale 0.01) would also carry state
    across tokens, but as a running mean that converges, i.e. constant hot neurons rather than
    locality. So the reuse here is a property of positions, not of text content.
  * Measured per layer on a held-out text segment (not the calibration tokens): active fraction,
    fraction of neurons ever active, reuse |A_t & A_t-1| / |A_t|, union of the active sets over
    windows of k = 1, 2, 4, 8 tokens (fraction of the FFN), neurons new to a 4-token window, and
    the share of activations taken by the 5% most often active neurons.

Usage (/usr/bin/python3, numpy only):
  /usr/bin/python3 bench/make_synthetic_opt.py --preset tiny --out /tmp/synth-tiny
  /usr/bin/python3 bench/make_synthetic_opt.py --preset opt-6.7b --out /tmp/synth-6.7b
The big presets calibrate on 64 tokens (--calib-tokens); numpy's forward pass is the slow part.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from hf_writer import SafetensorsStreamWriter, make_byte_bpe_tokenizer, write_json  # noqa: E402

PRESETS = {
    # name: (dim, ffn, layers, heads, default calibration tokens)
    "tiny": (256, 1024, 4, 4, 256),
    "opt-125m": (768, 3072, 12, 12, 256),
    "opt-1.3b": (2048, 8192, 24, 32, 64),
    "opt-6.7b": (4096, 16384, 32, 32, 64),
}
MAX_POS = 2048
POS_OFFSET = 2
N_MERGES = 500
BOS_ID = 2  # OPT: </s> starts every sequence
TARGET_FIRST, TARGET_LAST = 0.015, 0.05
WINDOWS = (1, 2, 4, 8)
CALIB_TEXT = os.path.join(ROOT, "resources", "calib", "default.txt")
NOTE = ("SYNTHETIC model: random weights with calibrated fc1 biases (activation sparsity), "
        "NOT a trained model; its text is gibberish. Numbers measured on it describe the "
        "engine under this sparsity/reuse profile, not a real OPT.")


# ------------------------------------------------------------------------------------------------
# random weights


class Normals:
    """Fast seeded N(0, 1) matrices: uniform 16-bit indices into a sorted table of 65536 normal
    samples (numpy's Gaussian sampler is ~10x slower and this is the bulk of a 6.7B model)."""

    def __init__(self, seed):
        self.table = np.sort(np.random.default_rng([seed, 999]).standard_normal(65536))
        self.table = self.table.astype(np.float32)

    def draw(self, rng, shape, std):
        """Returns (fp16 array, the same values as float32)."""
        lut = (self.table * np.float32(std)).astype(np.float16)
        idx = rng.integers(0, 65536, size=shape, dtype=np.uint16)
        w16 = lut[idx]
        return w16, w16.astype(np.float32)


def f16(a):
    """Rounds to fp16; returns (fp16 array, the stored values as float32)."""
    s = np.asarray(a, dtype=np.float32).astype(np.float16)
    return s, s.astype(np.float32)


def layer_norm(x, w, b, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def attention(h, wqk, bq, bk, wv, bv, n_heads):
    """h (S,T,d) -> per-head causal softmax attention output before out_proj (S,T,d), with
    k_proj.weight = q_proj.weight = wqk (d,d)."""
    S, T, d = h.shape
    hd = d // n_heads
    hh = h.reshape(S * T, d)

    def heads(y):
        return y.reshape(S, T, n_heads, hd).transpose(0, 2, 1, 3)

    qk = hh @ wqk.T  # (S*T,d), shared by q and k
    q = heads(qk + bq) * np.float32(hd ** -0.5)
    k, v = heads(qk + bk), heads(hh @ wv.T + bv)
    scores = q @ k.transpose(0, 1, 3, 2)  # (S,H,T,T)
    scores = scores + np.triu(np.full((T, T), -np.inf, dtype=np.float32), 1)
    scores -= scores.max(axis=-1, keepdims=True)
    p = np.exp(scores)
    p /= p.sum(axis=-1, keepdims=True)
    return (p @ v).transpose(0, 2, 1, 3).reshape(S, T, d)


# ------------------------------------------------------------------------------------------------
# activation statistics


def active_stats(act):
    """act (T, n) bool, one sequence. Per-layer statistics of the active sets A_t."""
    T, n = act.shape
    counts = act.sum(axis=1)
    inter = (act[1:] & act[:-1]).sum(axis=1)
    ok = counts[1:] > 0
    reuse = float((inter[ok] / counts[1:][ok]).mean()) if ok.any() else 0.0
    unions = {}
    for k in WINDOWS:
        u = act[k - 1:].copy()
        for j in range(1, k):
            u |= act[k - 1 - j:T - j]
        unions[str(k)] = float(u.sum(axis=1).mean() / n)
    # Neurons active at t but in none of t-4..t-1: what a 4-token window would have to load.
    prev = act[3:-1].copy()
    for j in range(1, 4):
        prev |= act[3 - j:T - 1 - j]
    new4 = float((act[4:] & ~prev).sum(axis=1).mean() / n)
    rate = act.mean(axis=0)
    top = np.sort(rate)[::-1][:max(1, n // 20)]
    return {
        "active": float(counts.mean() / n),
        "ever_active": float(act.any(axis=0).mean()),
        "reuse": reuse,
        "window_union": unions,
        "new_vs_window4": new4,
        "top5pct_share": float(top.sum() / max(rate.sum(), 1e-12)),
    }


# ------------------------------------------------------------------------------------------------
# model


def tensor_specs(dim, ffn, n_layers, vocab):
    p = "model.decoder."
    specs = [(p + "embed_tokens.weight", "F16", (vocab, dim)),
             (p + "embed_positions.weight", "F16", (MAX_POS + POS_OFFSET, dim))]
    for li in range(n_layers):
        q = p + "layers.%d." % li
        specs += [(q + "self_attn_layer_norm.weight", "F16", (dim,)),
                  (q + "self_attn_layer_norm.bias", "F16", (dim,))]
        for n in ["q_proj", "k_proj", "v_proj", "out_proj"]:
            specs += [(q + "self_attn.%s.weight" % n, "F16", (dim, dim)),
                      (q + "self_attn.%s.bias" % n, "F16", (dim,))]
        specs += [(q + "final_layer_norm.weight", "F16", (dim,)),
                  (q + "final_layer_norm.bias", "F16", (dim,)),
                  (q + "fc1.weight", "F16", (ffn, dim)), (q + "fc1.bias", "F16", (ffn,)),
                  (q + "fc2.weight", "F16", (dim, ffn)), (q + "fc2.bias", "F16", (dim,))]
    specs += [(p + "final_layer_norm.weight", "F16", (dim,)),
              (p + "final_layer_norm.bias", "F16", (dim,)),
              ("lm_head.weight", "F16", (vocab, dim))]
    return specs


def smooth_positions(rng, rows, dim, tau, std):
    """AR(1) over rows with correlation exp(-1/tau) between neighbours, stationary std `std`."""
    rho = np.exp(-1.0 / tau)
    noise = rng.standard_normal((rows, dim), dtype=np.float32)
    out = np.empty((rows, dim), dtype=np.float32)
    out[0] = noise[0]
    c = np.float32(np.sqrt(1.0 - rho * rho))
    for i in range(1, rows):
        out[i] = rho * out[i - 1] + c * noise[i]
    return out * np.float32(std)


def build(args, log):
    dim, ffn, n_layers, n_heads, _ = PRESETS[args.preset]
    text = open(CALIB_TEXT, encoding="utf-8").read()
    text = text[text.index("\n\n") + 2:]  # drop the header comment line
    tok, tok_config, vocab, encode = make_byte_bpe_tokenizer(text, N_MERGES, MAX_POS)
    V = len(vocab)
    ids = encode(text)
    T = args.calib_tokens
    if 2 * (T - 1) > len(ids):
        raise SystemExit("--calib-tokens %d: the calibration text has only %d tokens" % (T, len(ids)))
    # Sequence 0 calibrates, sequence 1 (from the middle of the text) is held out for measuring.
    mid = len(ids) // 2
    seqs = np.array([[BOS_ID] + ids[:T - 1], [BOS_ID] + ids[mid:mid + T - 1]])

    os.makedirs(args.out, exist_ok=True)
    cfg = {"_name_or_path": "synthetic-" + args.preset, "architectures": ["OPTForCausalLM"],
           "model_type": "opt", "activation_function": "relu", "hidden_size": dim,
           "ffn_dim": ffn, "num_hidden_layers": n_layers, "num_attention_heads": n_heads,
           "max_position_embeddings": MAX_POS, "vocab_size": V, "word_embed_proj_dim": dim,
           "do_layer_norm_before": True, "enable_bias": True,
           "layer_norm_elementwise_affine": True, "dropout": 0.0, "attention_dropout": 0.0,
           "bos_token_id": BOS_ID, "eos_token_id": BOS_ID, "pad_token_id": 1,
           "tie_word_embeddings": False, "torch_dtype": "float16",
           "synthetic": NOTE}
    write_json(os.path.join(args.out, "config.json"), cfg, indent=2)
    write_json(os.path.join(args.out, "tokenizer.json"), tok)
    write_json(os.path.join(args.out, "tokenizer_config.json"), tok_config, indent=2)

    normals = Normals(args.seed)
    r = np.float32(1.0)  # residual-stream unit = token embedding std
    report_layers = []
    specs = tensor_specs(dim, ffn, n_layers, V)
    path = os.path.join(args.out, "model.safetensors")
    with SafetensorsStreamWriter(path + ".tmp", specs) as w:
        def put(name, a16):
            w.write(name, np.ascontiguousarray(a16, dtype="<f2").tobytes())

        def vec(rng, name, n, mean, std):
            a16, a32 = f16(mean + rng.standard_normal(n) * std)
            put(name, a16)
            return a32

        p = "model.decoder."
        rng = np.random.default_rng([args.seed, 0])
        e16, emb = normals.draw(rng, (V, dim), r)
        put(p + "embed_tokens.weight", e16)
        pos16, pos = f16(smooth_positions(rng, MAX_POS + POS_OFFSET, dim, args.pos_tau,
                                          args.pos_scale * r))
        put(p + "embed_positions.weight", pos16)
        x = emb[seqs] + pos[np.arange(T) + POS_OFFSET][None]  # (2, T, dim)

        for li in range(n_layers):
            t0 = time.time()
            q = p + "layers.%d." % li
            rng = np.random.default_rng([args.seed, 1, li])
            g1 = vec(rng, q + "self_attn_layer_norm.weight", dim, 1.0, 0.05)
            b1 = vec(rng, q + "self_attn_layer_norm.bias", dim, 0.0, 0.02)
            h = layer_norm(x, g1, b1)
            wq16, wq = normals.draw(rng, (dim, dim), args.qk_scale / np.sqrt(dim))
            put(q + "self_attn.q_proj.weight", wq16)
            bq = vec(rng, q + "self_attn.q_proj.bias", dim, 0.0, 0.02)
            put(q + "self_attn.k_proj.weight", wq16)  # k = q: attend to similar (recent) states
            bk = vec(rng, q + "self_attn.k_proj.bias", dim, 0.0, 0.02)
            wv16, wv = normals.draw(rng, (dim, dim), 1.0 / np.sqrt(dim))
            put(q + "self_attn.v_proj.weight", wv16)
            bv = vec(rng, q + "self_attn.v_proj.bias", dim, 0.0, 0.02)
            a = attention(h, wq, bq, bk, wv, bv, n_heads)
            # out_proj scaled so that the attention output's rms is attn_gain residual units.
            a_rms = float(np.sqrt((a * a).mean()))
            wo16, wo = normals.draw(rng, (dim, dim), args.attn_gain * r / a_rms / np.sqrt(dim))
            put(q + "self_attn.out_proj.weight", wo16)
            bo = vec(rng, q + "self_attn.out_proj.bias", dim, 0.0, 0.02 * r)
            x = x + (a.reshape(-1, dim) @ wo.T + bo).reshape(x.shape)

            g2 = vec(rng, q + "final_layer_norm.weight", dim, 1.0, 0.05)
            b2 = vec(rng, q + "final_layer_norm.bias", dim, 0.0, 0.02)
            h = layer_norm(x, g2, b2).reshape(-1, dim)
            w116, w1 = normals.draw(rng, (ffn, dim), 1.0 / np.sqrt(dim))
            put(q + "fc1.weight", w116)
            z = (h @ w1.T).reshape(2, T, ffn)
            # fc1 bias calibration on sequence 0: b = s * (c + o), bisection on c.
            target = TARGET_FIRST + (TARGET_LAST - TARGET_FIRST) * li / max(1, n_layers - 1)
            s = float(z[0].std())
            o = np.clip(rng.standard_t(3, ffn) * args.skew, -8, 8).astype(np.float32)
            lo, hi = -10.0, 10.0
            for _ in range(60):
                c = 0.5 * (lo + hi)
                frac = float((z[0] + np.float32(s) * (np.float32(c) + o) > 0).mean())
                lo, hi = (c, hi) if frac < target else (lo, c)
            fb16, fb = f16(s * (c + o))
            put(q + "fc1.bias", fb16)
            f = np.maximum(z + fb, 0.0)
            act = f > 0
            # fc2 scaled so that the FFN output's rms is ffn_gain residual units.
            f_rms = float(np.sqrt((f * f).sum(axis=-1).mean()))
            w216, w2 = normals.draw(rng, (dim, ffn), args.ffn_gain * r / max(f_rms, 1e-6))
            put(q + "fc2.weight", w216)
            bias2 = vec(rng, q + "fc2.bias", dim, 0.0, 0.02 * r)
            fr = f.reshape(-1, ffn)
            used = np.flatnonzero(fr.any(axis=0))  # sparse: only columns of active neurons
            x = x + (fr[:, used] @ w2[:, used].T + bias2).reshape(x.shape)

            st = active_stats(act[1])
            st = {"layer": li, "target_active": target,
                  "calib_active": float(act[0].mean()), **st,
                  "bias_shift": c, "preact_std": s}
            report_layers.append(st)
            log("layer %2d  target %5.2f%%  calib %5.2f%% | held-out: active %5.2f%%  ever %5.1f%%"
                "  reuse %4.2f  union k=1/2/4/8 %5.2f/%5.2f/%5.2f/%5.2f%%  new-vs-win4 %5.2f%%"
                "  top5%% share %4.2f  (%.1f s)" % (
                    li, 100 * target, 100 * st["calib_active"], 100 * st["active"],
                    100 * st["ever_active"], st["reuse"],
                    *[100 * st["window_union"][str(k)] for k in WINDOWS],
                    100 * st["new_vs_window4"], st["top5pct_share"], time.time() - t0))
            del wq, wv, wo, w1, w2, wq16, wv16, wo16, w116, w216, z, f, fr

        vec(rng, p + "final_layer_norm.weight", dim, 1.0, 0.05)
        vec(rng, p + "final_layer_norm.bias", dim, 0.0, 0.02)
        put("lm_head.weight", normals.draw(rng, (V, dim), args.logit_std / np.sqrt(dim))[0])
    os.replace(path + ".tmp", path)
    return cfg, report_layers, {"calibration_tokens": T, "text": os.path.relpath(CALIB_TEXT, ROOT),
                                "calibration_segment_token_start": 0,
                                "held_out_segment_token_start": mid}


def mean_of(layers, key):
    return float(np.mean([l[key] for l in layers]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--preset", choices=sorted(PRESETS), required=True)
    ap.add_argument("--out", required=True, help="output directory (outside git)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--calib-tokens", type=int, default=0,
                    help="tokens per calibration / held-out sequence (default: preset's)")
    # Mechanism knobs (defaults tuned on tiny / opt-125m; see the docstring).
    ap.add_argument("--pos-tau", type=float, default=12.0,
                    help="correlation time of the position embeddings, tokens")
    ap.add_argument("--pos-scale", type=float, default=2.5,
                    help="position embedding std relative to token embedding std")
    ap.add_argument("--qk-scale", type=float, default=1.0, help="q_proj (= k_proj) std x sqrt(d)")
    ap.add_argument("--attn-gain", type=float, default=1.0, help="attention output rms, units")
    ap.add_argument("--ffn-gain", type=float, default=0.5, help="FFN output rms, units")
    ap.add_argument("--skew", type=float, default=0.3,
                    help="scale of the Student-t(3) per-neuron bias offsets, pre-act stds")
    ap.add_argument("--logit-std", type=float, default=3.0,
                    help="std of the output logits (lm_head std = logit_std / sqrt(dim))")
    args = ap.parse_args()
    if args.calib_tokens <= 0:
        args.calib_tokens = PRESETS[args.preset][4]

    t0 = time.time()
    print("writing SYNTHETIC %s (random weights, calibrated sparsity - not a trained model) to %s"
          % (args.preset, args.out), flush=True)
    cfg, layers, calib = build(args, lambda s: print(s, flush=True))
    seconds = time.time() - t0
    size = sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out)
               if f != "synthetic_report.json")
    summary = {k: mean_of(layers, k) for k in ["active", "ever_active", "reuse", "new_vs_window4",
                                               "top5pct_share"]}
    summary["window_union"] = {str(k): float(np.mean([l["window_union"][str(k)] for l in layers]))
                               for k in WINDOWS}
    report = {"synthetic": True, "note": NOTE, "preset": args.preset,
              "generator": "bench/make_synthetic_opt.py", "seed": args.seed,
              "shape": {k: cfg[k] for k in ["hidden_size", "ffn_dim", "num_hidden_layers",
                                            "num_attention_heads", "vocab_size",
                                            "max_position_embeddings"]},
              "mechanism": {k: getattr(args, k) for k in ["pos_tau", "pos_scale", "qk_scale",
                                                         "attn_gain", "ffn_gain", "skew",
                                                         "logit_std"]},
              "targets": {"first_layer_active": TARGET_FIRST, "last_layer_active": TARGET_LAST,
                          "profile": "linear in layer index (paper: OPT 6.7B)"},
              "calibration": calib,
              "measured_on": "held-out sequence (BOS + text from the middle of the calibration "
                             "file), per layer; active sets A_t = {i : relu(fc1 x)_i > 0}",
              "definitions": {
                  "active": "mean over tokens of |A_t| / ffn_dim",
                  "ever_active": "|union of all A_t| / ffn_dim",
                  "reuse": "mean over t of |A_t & A_t-1| / |A_t|",
                  "window_union": "mean over t of |A_t-k+1 | ... | A_t| / ffn_dim, per k",
                  "new_vs_window4": "mean over t of |A_t - (A_t-4 | ... | A_t-1)| / ffn_dim",
                  "top5pct_share": "share of all activations taken by the 5% most active neurons"},
              "mean_over_layers": summary, "layers": layers,
              "model_bytes": size, "generation_seconds": round(seconds, 1)}
    write_json(os.path.join(args.out, "synthetic_report.json"), report, indent=1)
    print("mean over layers: active %.2f%%  ever %.1f%%  reuse %.2f  union k=1/2/4/8 "
          "%.2f/%.2f/%.2f/%.2f%%  new-vs-win4 %.2f%%  top5%% share %.2f" % (
              100 * summary["active"], 100 * summary["ever_active"], summary["reuse"],
              *[100 * summary["window_union"][str(k)] for k in WINDOWS],
              100 * summary["new_vs_window4"], summary["top5pct_share"]))
    print("wrote %s: %.1f MB in %.1f s (report: synthetic_report.json)" % (
        args.out, size / 1e6, seconds))


if __name__ == "__main__":
    main()
