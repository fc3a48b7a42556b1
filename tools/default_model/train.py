#!/usr/bin/python3
"""train.py - train FlashChat's default OPT-style ReLU model and export it as an HF checkpoint.

Pipeline (each step reuses its output if present, so a rerun with the same --out resumes cheaply):
  1. corpus.py        -> OUT/corpus/{train,heldout}.txt, manifest.json
  2. bpe.py           -> OUT/hf/tokenizer.json (byte-level BPE trained on train.txt only)
  3. tokenise         -> OUT/tokens_{train,heldout}.npy (uint16; documents joined by </s>)
  4. train (torch)    OPT decoder: pre-LN, learned positions (offset 2), ReLU FFN, tied head
  5. evaluate         held-out perplexity vs a unigram baseline, per-layer FFN sparsity
  6. export           OUT/hf/config.json (model_type opt), model.safetensors via tools/hf_writer.py,
                      OUT/hf/training_report.json

    /usr/bin/python3 tools/default_model/train.py --smoke --out /tmp/fc_smoke   # ~1-2 min
    /usr/bin/python3 tools/default_model/train.py --out /tmp/fc_full            # full run

Seeded (torch, numpy, data order); torch runs with 2 threads. Training windows always start with
</s> at position 0, the BOS the engine (like HF OPT) prepends, so generation sees what training saw.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
import bpe  # noqa: E402
from corpus import DOC_SEP  # noqa: E402
from hf_writer import store, write_json, write_safetensors  # noqa: E402

L1_FULL = 2e-3

CONFIGS = {
    # full run: ~1,100 tokens/s measured here for this shape (torch keeps ~1.2 of the 2 cores
    # busy), so 800 steps of batch*seq = 4,096 tokens (3.3 M tokens, ~1.1 epochs) take ~50 min.
    # l1 = weight of the mean per-token sum of ReLU outputs, ramped in linearly over the first
    # l1_ramp fraction of training (pushes FFN sparsity past 90%).
    "full": dict(vocab=4096, d=256, layers=4, heads=4, ffn=1536, seq=128, batch=32, lr=1.5e-3,
                 warmup=60, time_budget_s=None, max_steps=800, eval_windows=400,
                 l1=L1_FULL, l1_ramp=0.3, dtype="F16", corpus_max_chars=0),
    "smoke": dict(vocab=1024, d=128, layers=2, heads=4, ffn=512, seq=128, batch=16, lr=2e-3,
                  warmup=30, time_budget_s=60, max_steps=100000, eval_windows=40,
                  l1=0.0, l1_ramp=0.3, dtype="F32", corpus_max_chars=200_000),
}


class Block(nn.Module):
    def __init__(self, d, h, ffn):
        super().__init__()
        self.h = h
        self.ln1 = nn.LayerNorm(d)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.ln2 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, ffn)
        self.fc2 = nn.Linear(ffn, d)
        self.act = nn.ReLU()

    def forward(self, x):
        B, T, d = x.shape
        hd = d // self.h
        y = self.ln1(x)
        q, k, v = (m(y).view(B, T, self.h, hd).transpose(1, 2) for m in (self.q, self.k, self.v))
        att = (q @ k.transpose(-1, -2)) * hd ** -0.5
        mask = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
        att = att.masked_fill(mask, float("-inf")).softmax(-1)
        x = x + self.o((att @ v).transpose(1, 2).reshape(B, T, d))
        h = self.act(self.fc1(self.ln2(x)))
        self.act_sum = h.sum(-1).mean()  # mean over tokens of the sum over neurons (L1 term)
        self.zero_frac = float((h.detach() == 0).float().mean())  # for the training log
        return x + self.fc2(h)


class OPT(nn.Module):
    def __init__(self, V, d, layers, heads, ffn, max_pos):
        super().__init__()
        self.embed = nn.Embedding(V, d)
        self.pos = nn.Embedding(max_pos + 2, d)  # OPT: position p uses row p + 2
        self.blocks = nn.ModuleList(Block(d, heads, ffn) for _ in range(layers))
        self.lnf = nn.LayerNorm(d)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)
        for b in self.blocks:  # GPT-2 style scaled init of the residual projections
            nn.init.normal_(b.o.weight, std=0.02 / math.sqrt(2 * layers))
            nn.init.normal_(b.fc2.weight, std=0.02 / math.sqrt(2 * layers))

    def forward(self, idx):
        T = idx.shape[1]
        x = self.embed(idx) + self.pos(torch.arange(T, device=idx.device) + 2)
        for b in self.blocks:
            x = b(x)
        return self.lnf(x) @ self.embed.weight.T  # tied head


def tokenise(tok, path):
    with open(path, encoding="ascii") as f:
        docs = f.read().split("\n" + DOC_SEP + "\n")
    ids = []
    for doc in docs:
        ids += tok.encode(doc.strip("\n")) + [bpe.EOS_ID]
    return np.array(ids, dtype=np.uint16)


def batch(data, rng, B, T):
    """B windows of T tokens: </s> then T-1 corpus tokens; targets shifted by one."""
    starts = rng.integers(0, len(data) - T, size=B)
    x = np.stack([np.concatenate([[bpe.BOS_ID], data[s:s + T - 1]]) for s in starts])
    y = np.stack([data[s:s + T] for s in starts])
    return torch.from_numpy(x.astype(np.int64)), torch.from_numpy(y.astype(np.int64))


@torch.no_grad()
def evaluate(model, held, T, n_windows):
    """Mean held-out NLL over consecutive windows (each with BOS) and per-layer FFN sparsity
    (fraction of ReLU outputs that are exactly zero)."""
    model.eval()
    zeros = [0] * len(model.blocks)
    count = [0] * len(model.blocks)
    hooks = []
    for li, b in enumerate(model.blocks):
        def hook(_m, _inp, out, li=li):
            zeros[li] += int((out == 0).sum())
            count[li] += out.numel()
        hooks.append(b.act.register_forward_hook(hook))
    nll, n = 0.0, 0
    for w in range(min(n_windows, (len(held) - 1) // (T - 1))):
        s = w * (T - 1)
        x = torch.from_numpy(np.concatenate([[bpe.BOS_ID], held[s:s + T - 1]]).astype(np.int64))[None]
        y = torch.from_numpy(held[s:s + T].astype(np.int64))[None]
        nll += float(F.cross_entropy(model(x)[0], y[0], reduction="sum"))
        n += T
    for h in hooks:
        h.remove()
    model.train()
    return nll / n, [z / c for z, c in zip(zeros, count)], n


def unigram_nll(train, held, T, n_tokens, V):
    """Add-one unigram model from the training tokens, scored on the same held-out targets."""
    counts = np.bincount(train, minlength=V).astype(np.float64) + 1.0
    logp = np.log(counts / counts.sum())
    targets = []
    for w in range(n_tokens // T):
        targets.append(held[w * (T - 1):w * (T - 1) + T])
    t = np.concatenate(targets).astype(np.int64)
    return float(-logp[t].mean())


def hf_names(n_layers):
    """(HF OPT tensor name, this module's state_dict name) for every exported tensor."""
    p = "model.decoder."
    names = [(p + "embed_tokens.weight", "embed.weight"), (p + "embed_positions.weight", "pos.weight")]
    for li in range(n_layers):
        q, s = p + "layers.%d." % li, "blocks.%d." % li
        for hf, mine in (("self_attn.q_proj", "q"), ("self_attn.k_proj", "k"),
                         ("self_attn.v_proj", "v"), ("self_attn.out_proj", "o"),
                         ("self_attn_layer_norm", "ln1"), ("fc1", "fc1"), ("fc2", "fc2"),
                         ("final_layer_norm", "ln2")):
            names += [(q + hf + ".weight", s + mine + ".weight"), (q + hf + ".bias", s + mine + ".bias")]
    names += [(p + "final_layer_norm.weight", "lnf.weight"), (p + "final_layer_norm.bias", "lnf.bias")]
    return names


def export(model, cfg, c, out, dtype):
    sd = {k: v.detach().double().numpy() for k, v in model.state_dict().items()}
    tensors = []
    for hf, mine in hf_names(c["layers"]):
        a = sd[mine]
        dt = "F32" if a.ndim == 1 else dtype  # norms and biases stay F32
        data, _ = store(a, dt)
        tensors.append((hf, dt, list(a.shape), data))
    write_safetensors(os.path.join(out, "model.safetensors"), tensors)
    write_json(os.path.join(out, "config.json"), cfg, indent=2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--smoke", action="store_true", help="tiny config that runs in ~1-2 minutes")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--time-budget-s", type=float,
                    help="train for this many seconds instead (the schedule follows elapsed time; "
                         "not bit-reproducible)")
    ap.add_argument("--max-steps", type=int, help="override the config's step count")
    ap.add_argument("--l1", type=float, help="override the config's activation L1 weight")
    a = ap.parse_args()
    c = dict(CONFIGS["smoke" if a.smoke else "full"])
    if a.max_steps is not None:
        c["max_steps"], c["time_budget_s"] = a.max_steps, None
    if a.time_budget_s:
        c["time_budget_s"], c["max_steps"] = a.time_budget_s, 10**9
    if a.l1 is not None:
        c["l1"] = a.l1
    by_steps = c["time_budget_s"] is None
    time_limit_s = float("inf") if by_steps else c["time_budget_s"]
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    rng = np.random.default_rng(a.seed)
    t_start = time.time()
    cdir, hf = os.path.join(a.out, "corpus"), os.path.join(a.out, "hf")
    os.makedirs(hf, exist_ok=True)

    if not os.path.exists(os.path.join(cdir, "manifest.json")):
        cmd = [sys.executable, os.path.join(HERE, "corpus.py"), "--out", cdir]
        if c["corpus_max_chars"]:
            cmd += ["--max-chars-per-package", str(c["corpus_max_chars"])]
        subprocess.run(cmd, check=True)
    if not os.path.exists(os.path.join(hf, "tokenizer.json")):
        with open(os.path.join(cdir, "train.txt"), encoding="ascii") as f:
            text = f.read().replace(DOC_SEP, "")
        t0 = time.time()
        tok_json, tok_cfg = bpe.train_bpe(text, c["vocab"], c["seq"])
        write_json(os.path.join(hf, "tokenizer.json"), tok_json)
        write_json(os.path.join(hf, "tokenizer_config.json"), tok_cfg, indent=2)
        print("bpe: %d tokens in %.1f s" % (len(tok_json["model"]["vocab"]), time.time() - t0))
    tok = bpe.Tokenizer.load(hf)
    V = len(tok.vocab)
    data = {}
    for split in ("train", "heldout"):
        path = os.path.join(a.out, "tokens_%s.npy" % split)
        if not os.path.exists(path):
            np.save(path, tokenise(tok, os.path.join(cdir, split + ".txt")))
        data[split] = np.load(path)
    print("tokens: train %d, held-out %d, vocab %d" % (len(data["train"]), len(data["heldout"]), V))

    model = OPT(V, c["d"], c["layers"], c["heads"], c["ffn"], c["seq"])
    n_params = sum(p.numel() for p in model.parameters())
    print("model: %.2fM parameters %s" % (n_params / 1e6, {k: c[k] for k in ("d", "layers", "heads", "ffn", "seq")}))
    opt = torch.optim.AdamW(model.parameters(), lr=c["lr"], betas=(0.9, 0.95), weight_decay=0.1)
    t0, step, seen_tokens, losses = time.time(), 0, 0, []
    while step < c["max_steps"] and time.time() - t0 < time_limit_s:
        # cosine decay over the time budget (elapsed fraction), linear warmup over steps
        frac = step / c["max_steps"] if by_steps else (time.time() - t0) / c["time_budget_s"]
        lr = c["lr"] * min(1.0, (step + 1) / c["warmup"]) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0))))
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = batch(data["train"], rng, c["batch"], c["seq"])
        ce = F.cross_entropy(model(x).view(-1, V), y.view(-1))
        l1 = c["l1"] * min(1.0, frac / c["l1_ramp"])
        loss = ce + l1 * sum(b.act_sum for b in model.blocks) / len(model.blocks) if l1 > 0 else ce
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        seen_tokens += x.numel()
        losses.append(float(ce))
        if step % 50 == 0:
            el = time.time() - t0
            zeros = " ".join("%.3f" % b.zero_frac for b in model.blocks)
            print("step %d loss %.3f lr %.2e l1 %.1e zeros [%s] %.0f tok/s %.0f s" % (
                step, np.mean(losses[-50:]), lr, l1, zeros, seen_tokens / el, el), flush=True)
    train_s = time.time() - t0

    nll, sparsity, n_eval = evaluate(model, data["heldout"], c["seq"], c["eval_windows"])
    uni = unigram_nll(data["train"], data["heldout"], c["seq"], n_eval, V)
    model.eval()
    samples = {}
    for prompt in ("The", "In the beginning", "A computer is"):
        ids = [bpe.BOS_ID] + tok.encode(prompt)
        with torch.no_grad():
            for _ in range(20):
                ids.append(int(model(torch.tensor([ids[-c["seq"]:]]))[0, -1].argmax()))
        samples[prompt] = tok.decode(ids[1:])
    report = {
        "config": "smoke" if a.smoke else "full", "seed": a.seed, "hyper": c, "parameters": n_params,
        "train_tokens_available": int(len(data["train"])), "heldout_tokens": int(len(data["heldout"])),
        "steps": step, "tokens_seen": seen_tokens, "train_seconds": round(train_s, 1),
        "tokens_per_second": round(seen_tokens / train_s, 1),
        "final_train_loss": round(float(np.mean(losses[-50:])), 4),
        "heldout_eval_tokens": n_eval, "heldout_ppl": round(math.exp(nll), 2),
        "unigram_ppl": round(math.exp(uni), 2),
        "ffn_sparsity_per_layer": [round(s, 4) for s in sparsity],
        "ffn_sparsity_mean": round(float(np.mean(sparsity)), 4),
        "greedy_samples_torch": samples, "total_seconds": round(time.time() - t_start, 1)}
    cfg = {"_name_or_path": "flashchat-default", "architectures": ["OPTForCausalLM"],
           "model_type": "opt", "activation_function": "relu", "hidden_size": c["d"],
           "ffn_dim": c["ffn"], "num_hidden_layers": c["layers"], "num_attention_heads": c["heads"],
           "max_position_embeddings": c["seq"], "vocab_size": V, "word_embed_proj_dim": c["d"],
           "do_layer_norm_before": True, "enable_bias": True, "layer_norm_elementwise_affine": True,
           "dropout": 0.0, "bos_token_id": 2, "eos_token_id": 2, "pad_token_id": 1,
           "tie_word_embeddings": True,
           "torch_dtype": "float32" if c["dtype"] == "F32" else "float16"}
    export(model, cfg, c, hf, c["dtype"])
    torch.save(model.state_dict(), os.path.join(a.out, "model.pt"))
    write_json(os.path.join(hf, "training_report.json"), report, indent=2)
    print(json.dumps({k: report[k] for k in ("steps", "tokens_per_second", "heldout_ppl", "unigram_ppl",
                                             "ffn_sparsity_per_layer", "ffn_sparsity_mean")}))
    for p, s in samples.items():
        print("greedy %r -> %r" % (p, s))


if __name__ == "__main__":
    main()
