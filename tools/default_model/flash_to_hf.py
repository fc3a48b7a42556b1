#!/usr/bin/env python3
"""flash_to_hf.py - the shipped default model's Hugging Face checkpoint, rebuilt from its flash
model directory (resources/models/default), so its predictors can be trained again without the
47-minute training run.

    /usr/bin/python3 tools/default_model/flash_to_hf.py resources/models/default /tmp/fc_hf
    build/app/flashchat-cli convert /tmp/fc_hf -o /tmp/fc_flash --rank 32

Lossless: the flash model stores the F16 weights and F32 norms/biases train.py exported, and
this writes them back under the OPT names train.py used (fc1 rows and fc2 columns from the
up|down bundles of ffn.bin). The tokenizer.json is rebuilt from the manifest's vocabulary and
merges on hf_writer's byte-level BPE skeleton. Only OPT-style, ungated (up|down) F16 flash
models are handled (what train.py makes).
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from hf_writer import (make_byte_bpe_tokenizer, read_safetensors, write_json,  # noqa: E402
                       write_safetensors)

NUMPY_DTYPES = {"F16": "<f2", "F32": "<f4"}


def token_text(t):
    return bytes.fromhex(t["hex"]).decode("utf-8") if isinstance(t, dict) else t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("flash_dir")
    ap.add_argument("out_dir")
    a = ap.parse_args()
    with open(os.path.join(a.flash_dir, "manifest.json"), encoding="utf-8") as f:
        m = json.load(f)
    c, ffn, tk = m["config"], m["ffn"], m["tokenizer"]
    if c["arch"] != "opt" or ffn["gated"] or ffn["dtype"] != "F16":
        sys.exit("error: only OPT models with F16 up|down bundles are handled")
    d, n, layers = c["dim"], c["ffn_dim"], c["n_layers"]
    res = read_safetensors(os.path.join(a.flash_dir, "dram.safetensors"))
    raw = np.fromfile(os.path.join(a.flash_dir, ffn["file"]), dtype="<f2")

    tensors = []

    def put(name, arr):
        arr = np.ascontiguousarray(arr)
        dt = "F16" if arr.dtype == np.float16 else "F32"
        tensors.append((name, dt, list(arr.shape), arr.astype(NUMPY_DTYPES[dt]).tobytes()))

    p = "model.decoder."
    put(p + "embed_tokens.weight", res["token_embd.weight"])
    put(p + "embed_positions.weight", res["pos_embd.weight"])
    for li in range(layers):
        q, b = p + "layers.%d." % li, "blk.%d." % li
        for hf, mine in (("self_attn.q_proj", "attn_q"), ("self_attn.k_proj", "attn_k"),
                         ("self_attn.v_proj", "attn_v"), ("self_attn.out_proj", "attn_output"),
                         ("self_attn_layer_norm", "attn_norm"), ("final_layer_norm", "ffn_norm")):
            put(q + hf + ".weight", res[b + mine + ".weight"])
            put(q + hf + ".bias", res[b + mine + ".bias"])
        first = ffn["layer_offsets"][li] // 2
        bundles = raw[first:first + n * 2 * d].reshape(n, 2, d)  # neuron: up row | down column
        put(q + "fc1.weight", bundles[:, 0, :])
        put(q + "fc1.bias", res[b + "ffn_up.bias"])
        put(q + "fc2.weight", bundles[:, 1, :].T)
        put(q + "fc2.bias", res[b + "ffn_down.bias"])
    put(p + "final_layer_norm.weight", res["output_norm.weight"])
    put(p + "final_layer_norm.bias", res["output_norm.bias"])

    os.makedirs(a.out_dir, exist_ok=True)
    write_safetensors(os.path.join(a.out_dir, "model.safetensors"), tensors)
    cfg = {"_name_or_path": c["name"], "architectures": ["OPTForCausalLM"], "model_type": "opt",
           "activation_function": c["activation"], "hidden_size": d, "ffn_dim": n,
           "num_hidden_layers": layers, "num_attention_heads": c["n_heads"],
           "max_position_embeddings": c["max_seq_len"], "vocab_size": c["vocab_size"],
           "word_embed_proj_dim": d, "do_layer_norm_before": True, "enable_bias": True,
           "layer_norm_elementwise_affine": True, "dropout": 0.0, "bos_token_id": tk["bos_id"],
           "eos_token_id": tk["eos_id"], "pad_token_id": tk["pad_id"],
           "tie_word_embeddings": c["tied_output"], "torch_dtype": "float16"}
    write_json(os.path.join(a.out_dir, "config.json"), cfg, indent=2)
    tok, tok_cfg, _, _ = make_byte_bpe_tokenizer("", 0, c["max_seq_len"])
    tok["model"]["vocab"] = {token_text(t): i for i, t in enumerate(tk["tokens"])}
    tok["model"]["merges"] = [token_text(x) for x in tk["merges"]]
    write_json(os.path.join(a.out_dir, "tokenizer.json"), tok)
    write_json(os.path.join(a.out_dir, "tokenizer_config.json"), tok_cfg, indent=2)
    print("%s: %d tensors, %d tokens" % (a.out_dir, len(tensors), len(tk["tokens"])))


if __name__ == "__main__":
    main()
