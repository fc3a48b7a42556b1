#!/usr/bin/env python3
"""Summarise flashchat-cli --telemetry JSON lines as one Markdown table row per file.

Usage: bench/telemetry_summary.py LABEL=FILE [LABEL=FILE ...]
Averages over generated tokens (prompt tokens and the first `--skip` generated tokens, which
fill the cache, are left out): ms split, bytes read, requests, read MB/s, FFN fraction loaded
per token, window in force and DRAM accounted.
"""
import argparse
import json


def summarise(path, skip):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    gen = [r for r in rows if not r["prompt"]][skip:]
    if not gen:
        raise SystemExit(f"{path}: no generated tokens after skipping {skip}")
    n = len(gen)
    mean = lambda f: sum(f(r) for r in gen) / n
    io_ms = mean(lambda r: r["ms"]["io"])
    return {
        "tokens": n,
        "total_ms": mean(lambda r: r["ms"]["total"]),
        "io_ms": io_ms,
        "memory_ms": mean(lambda r: r["ms"]["memory"]),
        "compute_ms": mean(lambda r: r["ms"]["compute"]),
        "predictor_ms": mean(lambda r: r["ms"]["predictor"]),
        "bytes_read": mean(lambda r: r["bytes_read"]),
        "requests": mean(lambda r: r["read_requests"]),
        "mb_per_s": mean(lambda r: r["bytes_read"]) / 1e3 / io_ms if io_ms > 0 else 0.0,
        "ffn_loaded": mean(lambda r: r["ffn_neurons_loaded"] / r["ffn_neurons_total"]
                           if r["ffn_neurons_total"] else 0.0),
        "window": mean(lambda r: r["window"]["in_force"]),
        "dram_mib": max(r["dram"]["total"] for r in gen) / 2**20,
        "rss_mib": max(r.get("process_rss_bytes", 0) for r in gen) / 2**20,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("runs", nargs="+", help="LABEL=FILE")
    ap.add_argument("--skip", type=int, default=8, help="generated tokens to skip (warm-up)")
    args = ap.parse_args()
    print("| run | ms/token | I/O | mem mgmt | compute | predictor | bytes/token | requests/token "
          "| MB/s | FFN loaded/token | window in force | DRAM accounted MiB | RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for run in args.runs:
        label, path = run.split("=", 1)
        s = summarise(path, args.skip)
        print(f"| {label} | {s['total_ms']:.2f} | {s['io_ms']:.2f} | {s['memory_ms']:.2f} | "
              f"{s['compute_ms']:.2f} | {s['predictor_ms']:.2f} | {s['bytes_read'] / 1024:.1f} KiB | "
              f"{s['requests']:.1f} | {s['mb_per_s']:.0f} | {100 * s['ffn_loaded']:.2f}% | "
              f"{s['window']:.1f} | {s['dram_mib']:.1f} | {s['rss_mib']:.1f} |")


if __name__ == "__main__":
    main()
