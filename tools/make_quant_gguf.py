#!/usr/bin/env python3
"""make_quant_gguf.py - a small GGUF of block-quantised tensors with their expected values.

For each type (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K) it writes a tensor
"<type>.weight" (3 rows of 2 blocks; random block contents from a fixed seed, plus an all-zero
block and an all-ones-bits block) and beside it an F32 tensor "<type>.expected" holding the
values computed here, independently of the engine, from the formats' definitions (ggml's block
layouts), in IEEE single precision with every product and sum rounded separately.

With --model it writes instead a tiny Llama GGUF (dim 256, one layer, a byte vocabulary) whose
matrices are of these types (random blocks, small scales), for loading and running the engine on
quantised weights.

Pure Python (no numpy). Usage: make_quant_gguf.py OUT.gguf [--seed N] [--model]
"""
import argparse
import random
import struct

GGUF_ALIGN = 32

# name: (ggml type id, elements per block, bytes per block)
TYPES = {
    "Q8_0": (8, 32, 34), "Q4_0": (2, 32, 18), "Q4_1": (3, 32, 20), "Q5_0": (6, 32, 22),
    "Q5_1": (7, 32, 24), "Q2_K": (10, 256, 84), "Q3_K": (11, 256, 110), "Q4_K": (12, 256, 144),
    "Q5_K": (13, 256, 176), "Q6_K": (14, 256, 210),
}


def f32(x):
    """x rounded to IEEE single (x is exact in double here: see mul/add)."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def mul(a, b):  # a, b single: the double product is exact, one rounding to single
    return f32(a * b)


def add(a, b):  # exponents kept within 29 bits of each other by the generator: exact in double
    return f32(a + b)


def half(b, off):
    return struct.unpack_from("<e", b, off)[0]


def random_half(rng, e_min=-14, e_max=4):
    """A normal half in magnitude [2^e_min, 2^(e_max+1)), random sign, or occasionally 0."""
    if rng.random() < 0.05:
        return struct.pack("<e", 0.0)
    e = rng.randint(e_min, e_max)
    m = rng.randint(0, 1023)
    v = (1 + m / 1024.0) * 2.0 ** e * (-1 if rng.random() < 0.5 else 1)
    return struct.pack("<e", v)


def bits(byte_seq, i):
    """Bit i of a little-endian byte sequence."""
    return (byte_seq[i // 8] >> (i % 8)) & 1


# --- dequantisation from the definitions ------------------------------------------------------
# 32-element types: element j < 16 is the low nibble of qs[j], element 16 + j its high nibble;
# the 5-bit types take bit j of qh (32 bits) as the quant's bit 4.

def nibble(qs, j):
    return qs[j] & 15 if j < 16 else qs[j - 16] >> 4


def deq_q8_0(b):
    d = half(b, 0)
    return [mul(float(struct.unpack_from("<b", b, 2 + j)[0]), d) for j in range(32)]


def deq_q4_0(b):
    d = half(b, 0)
    return [mul(float(nibble(b[2:18], j) - 8), d) for j in range(32)]


def deq_q4_1(b):
    d, m = half(b, 0), half(b, 2)
    return [add(mul(float(nibble(b[4:20], j)), d), m) for j in range(32)]


def deq_q5_0(b):
    d = half(b, 0)
    qh, qs = b[2:6], b[6:22]
    return [mul(float((nibble(qs, j) + 16 * bits(qh, j)) - 16), d) for j in range(32)]


def deq_q5_1(b):
    d, m = half(b, 0), half(b, 2)
    qh, qs = b[4:8], b[8:24]
    return [add(mul(float(nibble(qs, j) + 16 * bits(qh, j)), d), m) for j in range(32)]


def deq_q2_k(b):
    # 16 sub-blocks of 16: scale/min nibbles in scales[s]; element e's 2 bits: 128-element half
    # h = e // 128, within it group g = (e % 128) // 32 picks the bit pair, the byte is
    # qs[32 h + e % 32].
    scales, qs = b[0:16], b[16:80]
    d, dmin = half(b, 80), half(b, 82)
    out = []
    for e in range(256):
        s = e // 16
        h, g, l = e // 128, (e % 128) // 32, e % 32
        q = (qs[32 * h + l] >> (2 * g)) & 3
        dl = mul(d, float(scales[s] & 15))
        ml = mul(dmin, float(scales[s] >> 4))
        out.append(add(mul(dl, float(q)), -ml))
    return out


def scale6_q3k(sc, s):
    # 16 six-bit scales: the low 4 bits are nibbles of bytes 0..7 (scales 0..7 low nibbles,
    # 8..15 high nibbles), the high 2 bits are the bit pairs of bytes 8..11 (scale s: byte
    # 8 + s % 4, pair s // 4).
    low = sc[s] & 15 if s < 8 else sc[s - 8] >> 4
    high = (sc[8 + s % 4] >> (2 * (s // 4))) & 3
    return low + 16 * high


def deq_q3_k(b):
    hmask, qs, sc = b[0:32], b[32:96], b[96:108]
    d = half(b, 108)
    out = []
    for e in range(256):
        s = e // 16
        h, g, l = e // 128, (e % 128) // 32, e % 32
        low = (qs[32 * h + l] >> (2 * g)) & 3
        hbit = (hmask[l] >> (4 * h + g)) & 1  # mask bit 4h + g of byte l
        q = low - (0 if hbit else 4)
        dl = mul(d, float(scale6_q3k(sc, s) - 32))
        out.append(mul(dl, float(q)))
    return out


def scale_min_k4(sc, s):
    # 8 six-bit scales and 8 six-bit mins in 12 bytes: for s < 4, scale = sc[s] & 63 and
    # min = sc[s + 4] & 63; for s >= 4, the low 4 bits come from sc[s + 4] (scale: low nibble,
    # min: high nibble) and the top 2 bits from the top bits of sc[s - 4] (scale) and sc[s] (min).
    if s < 4:
        return sc[s] & 63, sc[s + 4] & 63
    return (sc[s + 4] & 15) | ((sc[s - 4] >> 6) << 4), (sc[s + 4] >> 4) | ((sc[s] >> 6) << 4)


def deq_q45_k(b, five):
    d, dmin = half(b, 0), half(b, 2)
    sc = b[4:16]
    qh = b[16:48] if five else None
    qs = b[48:176] if five else b[16:144]
    out = []
    for e in range(256):
        s = e // 32  # sub-block of 32; pairs of sub-blocks share 32 bytes: low then high nibbles
        byte = qs[32 * (s // 2) + e % 32]
        q = byte & 15 if s % 2 == 0 else byte >> 4
        if five:
            q += 16 * ((qh[e % 32] >> s) & 1)
        scale, mn = scale_min_k4(sc, s)
        out.append(add(mul(mul(d, float(scale)), float(q)), -mul(dmin, float(mn))))
    return out


def deq_q6_k(b):
    ql, qh, sc = b[0:128], b[128:192], struct.unpack_from("<16b", b, 192)
    d = half(b, 208)
    out = []
    for e in range(256):
        h, r = e // 128, e % 128
        g, l = r // 32, r % 32  # group g of 4 in this half: ql byte l (+32 for g odd), nibble g // 2
        lo_byte = ql[64 * h + l + (32 if g % 2 else 0)]
        low = lo_byte & 15 if g < 2 else lo_byte >> 4
        high = (qh[32 * h + l] >> (2 * g)) & 3
        q = (low | (high << 4)) - 32
        s = 8 * h + 2 * g + l // 16
        out.append(mul(mul(d, float(sc[s])), float(q)))
    return out


DEQUANT = {
    "Q8_0": deq_q8_0, "Q4_0": deq_q4_0, "Q4_1": deq_q4_1, "Q5_0": deq_q5_0, "Q5_1": deq_q5_1,
    "Q2_K": deq_q2_k, "Q3_K": deq_q3_k, "Q4_K": lambda b: deq_q45_k(b, False),
    "Q5_K": lambda b: deq_q45_k(b, True), "Q6_K": deq_q6_k,
}

# Byte offsets of the half-precision scale fields of each block layout.
HALF_FIELDS = {
    "Q8_0": [0], "Q4_0": [0], "Q4_1": [0, 2], "Q5_0": [0], "Q5_1": [0, 2], "Q2_K": [80, 82],
    "Q3_K": [108], "Q4_K": [0, 2], "Q5_K": [0, 2], "Q6_K": [208],
}


def random_block(rng, name, kind, e_range=(-14, 4)):
    _, _, nbytes = TYPES[name]
    if kind == "zeros":
        b = bytearray(nbytes)
    elif kind == "ones":
        b = bytearray(b"\xff" * nbytes)
    else:
        b = bytearray(rng.getrandbits(8) for _ in range(nbytes))
    for off in HALF_FIELDS[name]:  # finite scales (the all-ones block's 0xffff would be NaN)
        b[off:off + 2] = random_half(rng, *e_range) if kind != "zeros" else struct.pack("<e", 1.5)
    return bytes(b)


# --- GGUF writer ------------------------------------------------------------------------------

def gguf_string(s):
    data = s.encode()
    return struct.pack("<Q", len(data)) + data


def gguf_value(value):
    """Type id and bytes of a metadata value: str, int (u32), float (f32) or list of str."""
    if isinstance(value, str):
        return 8, gguf_string(value)
    if isinstance(value, bool):
        return 7, struct.pack("<B", value)
    if isinstance(value, int):
        return 4, struct.pack("<I", value)
    if isinstance(value, float):
        return 6, struct.pack("<f", value)
    return 9, struct.pack("<IQ", 8, len(value)) + b"".join(gguf_string(s) for s in value)


def write_gguf(path, tensors, kv):
    """tensors: list of (name, ne list innermost first, ggml type id, bytes)."""
    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv)))
    for key, value in kv:
        type_id, data = gguf_value(value)
        out += gguf_string(key) + struct.pack("<I", type_id) + data
    offset = 0
    offsets = []
    for name, ne, type_id, data in tensors:
        offsets.append(offset)
        out += gguf_string(name) + struct.pack("<I", len(ne))
        out += b"".join(struct.pack("<Q", n) for n in ne)
        out += struct.pack("<IQ", type_id, offset)
        offset += (len(data) + GGUF_ALIGN - 1) // GGUF_ALIGN * GGUF_ALIGN
    out += bytes(-len(out) % GGUF_ALIGN)
    for (_, _, _, data), off in zip(tensors, offsets):
        out += data + bytes(-len(data) % GGUF_ALIGN)
    with open(path, "wb") as f:
        f.write(out)


def quant_matrix(rng, name, rows, cols):
    """(rows, cols) of random `name` blocks with scales of 2^-9..2^-6 (activations stay tame)."""
    _, be, _ = TYPES[name]
    return b"".join(random_block(rng, name, "random", (-9, -7)) for _ in range(rows * cols // be))


def write_model(path, rng):
    dim, ffn, vocab = 256, 256, 259
    tokens = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % i for i in range(256)]
    ones = lambda n: struct.pack("<%df" % n, *[1.0 + 0.1 * rng.uniform(-1, 1) for _ in range(n)])
    # Every type but Q4_0 once; the embedding and the head are (vocab, dim), the rest (dim, dim).
    layout = [("token_embd.weight", "Q8_0", vocab), ("output.weight", "Q5_0", vocab),
              ("blk.0.attn_q.weight", "Q2_K", dim), ("blk.0.attn_k.weight", "Q3_K", dim),
              ("blk.0.attn_v.weight", "Q4_K", dim), ("blk.0.attn_output.weight", "Q5_K", dim),
              ("blk.0.ffn_gate.weight", "Q6_K", ffn), ("blk.0.ffn_up.weight", "Q4_1", ffn),
              ("blk.0.ffn_down.weight", "Q5_1", dim), ("blk.0.ffn_norm.weight", None, dim),
              ("blk.0.attn_norm.weight", None, dim), ("output_norm.weight", None, dim)]
    tensors = []
    for name, qtype, rows in layout:
        if qtype is None:
            tensors.append((name, [dim], 0, ones(dim)))
        else:
            tensors.append((name, [dim, rows], TYPES[qtype][0], quant_matrix(rng, qtype, rows, dim)))
    kv = [("general.architecture", "llama"), ("general.name", "quant tiny llama"),
          ("llama.embedding_length", dim), ("llama.block_count", 1),
          ("llama.feed_forward_length", ffn), ("llama.attention.head_count", 4),
          ("llama.context_length", 64), ("tokenizer.ggml.model", "llama"),
          ("tokenizer.ggml.tokens", tokens), ("tokenizer.ggml.bos_token_id", 1),
          ("tokenizer.ggml.eos_token_id", 2)]
    write_gguf(path, tensors, kv)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--model", action="store_true", help="write the tiny quantised Llama instead")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    if args.model:
        write_model(args.out, rng)
        return
    rows, blocks_per_row = 3, 2
    tensors = []
    for name, (type_id, be, _) in TYPES.items():
        kinds = ["zeros", "ones"] + ["random"] * (rows * blocks_per_row - 2)
        blocks = [random_block(rng, name, k) for k in kinds]
        values = [v for blk in blocks for v in DEQUANT[name](blk)]
        cols = be * blocks_per_row
        tensors.append((name.lower() + ".weight", [cols, rows], type_id, b"".join(blocks)))
        tensors.append((name.lower() + ".expected", [cols, rows], 0,
                        struct.pack("<%df" % len(values), *values)))
    write_gguf(args.out, tensors, [("general.name", "quant blocks")])


if __name__ == "__main__":
    main()
