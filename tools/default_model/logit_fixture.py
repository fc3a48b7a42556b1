#!/usr/bin/python3
"""logit_fixture.py - the PyTorch reference logits the C++ test compares the engine against.

Reads an exported HF checkpoint (OUT/hf of train.py: config.json, model.safetensors F16,
tokenizer.json), loads exactly those stored weights into train.py's torch model (F16 values
widened to float32, so both sides use the same numbers), runs a fixed prompt and writes
tests/data/default_model_logits.json:

  prompt, tokens (BOS + bpe.Tokenizer ids; the test checks the engine's tokenizer agrees),
  argmax per position, and the full logits vector at a few positions (float32 values).

    /usr/bin/python3 tools/default_model/logit_fixture.py /tmp/fc_full/hf \\
        tests/data/default_model_logits.json
"""

import json
import os
import struct
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bpe  # noqa: E402
from train import OPT, hf_names  # noqa: E402

import hf_writer  # noqa: E402  (tools/, on the path train.py sets)

PROMPT = ("The old man walked along the river and looked at the water. In the morning the "
          "people of the city went out to the fields. A computer is a machine that")
POSITIONS_WITH_FULL_LOGITS = (0, 5, 17, -1)  # -1: the last position


def read_safetensors(path):
    """name -> float32 numpy array (F16/F32 only, which is all train.py writes)."""
    return {k: v.astype(np.float32) for k, v in hf_writer.read_safetensors(path).items()}


def load_model(hf):
    with open(os.path.join(hf, "config.json")) as f:
        c = json.load(f)
    model = OPT(c["vocab_size"], c["hidden_size"], c["num_hidden_layers"], c["num_attention_heads"],
                c["ffn_dim"], c["max_position_embeddings"])
    w = read_safetensors(os.path.join(hf, "model.safetensors"))
    sd = {mine: w[hf_name] for hf_name, mine in hf_names(c["num_hidden_layers"])}
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in sd.items()})
    return model.eval()


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: logit_fixture.py HF_DIR OUT.json")
    hf, out = sys.argv[1], sys.argv[2]
    torch.manual_seed(0)
    model = load_model(hf)
    tok = bpe.Tokenizer.load(hf)
    ids = [bpe.BOS_ID] + tok.encode(PROMPT)
    with torch.no_grad():
        logits = model(torch.tensor([ids]))[0].numpy()
    positions = sorted({p % len(ids) for p in POSITIONS_WITH_FULL_LOGITS})
    fixture = {
        "source": "tools/default_model/logit_fixture.py on the exported default model",
        "prompt": PROMPT, "tokens": ids,
        "argmax": [int(a) for a in logits.argmax(-1)],
        "positions": positions,
        "logits": [[round(float(v), 6) for v in logits[p]] for p in positions],
    }
    with open(out + ".tmp", "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    os.replace(out + ".tmp", out)
    print("%s: %d tokens, full logits at positions %s" % (out, len(ids), positions))


if __name__ == "__main__":
    main()
