#!/usr/bin/python3
"""bench_report.py - analysis and Markdown for bench/run.sh: results.json -> results.md.

Usage: bench_report.py OUT_DIR/results.json
Adds to results.json, per model: the physical floor and the achieved/limit ratios of every
matrix run ("analysis" of each run) and the status of the issue's targets ("targets"); then
writes results.md (Table 3, Table 2, hardware limits, sweeps, targets, findings) next to it,
linking the PNGs that plot_bench wrote into OUT_DIR/plots.
"""
import json
import os
import sys

TARGET_FRACTION = 0.5  # the targets are stated at a budget of 50% of the model size
# External reference measured on this machine (issue 5): llama.cpp, 7B F16, 2 threads.
LLAMA_CPP_S_PER_TOKEN = {"whole model in RAM": 1.035, "capped at 50%": 8.79}


def fmt_bytes(b):
    if b is None:
        return "-"
    for unit, div in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(b) >= div:
            return f"{b / div:.2f} {unit}"
    return f"{b:.0f} B"


def pct(x, digits=1):
    return "-" if x is None else f"{100 * x:.{digits}f}%"


def num(x, digits=2):
    return "-" if x is None else f"{x:.{digits}f}"


# ---------------------------------------------------------------------------------------------
# Analysis

def analyse_run(model, run, bandwidth_gbs):
    """Floor and achieved/limit ratios of one ok run (None fields where a limit is missing)."""
    m = run["metrics"]
    out = {}
    fio = (run.get("fio") or {}).get("effective_qd", {})
    fio64 = (run.get("fio") or {}).get("qd64", {})
    if fio.get("mb_per_s"):
        out["fio_mb_per_s"] = fio["mb_per_s"]
        out["fio_iodepth"] = fio["iodepth"]
        out["read_vs_fio"] = m["read_mb_per_s"] / fio["mb_per_s"]
    if fio64.get("mb_per_s"):
        out["fio_qd64_mb_per_s"] = fio64["mb_per_s"]
        out["read_vs_fio_qd64"] = m["read_mb_per_s"] / fio64["mb_per_s"]
    # Bytes every token must stream from DRAM: resident weights (embedding tables one row),
    # the predictors (flash only), the neurons computed, and the KV cache up to the position.
    mem_bytes = (model["resident_read_bytes_per_token"]
                 + (m["predictor_bytes"] if run["mode"] == "flash" else 0)
                 + m["neurons_computed_per_token"] * model["bundle_bytes"]
                 + m["kv_read_bytes_per_token"])
    out["floor_memory_bytes_per_token"] = mem_bytes
    if bandwidth_gbs:
        out["floor_memory_ms"] = mem_bytes / (bandwidth_gbs * 1e9) * 1e3
    if run["mode"] in ("naive", "flash") and fio.get("mb_per_s"):
        out["floor_io_ms"] = m["bytes_read_per_token"] / (fio["mb_per_s"] * 1e6) * 1e3
    elif run["mode"] == "dram":
        out["floor_io_ms"] = 0.0
    if "floor_memory_ms" in out and "floor_io_ms" in out:
        # The engine overlaps a layer's reads only with the multiplication of its cached rows
        # (attention and the new rows wait for them), so the floor it is held to is the sum;
        # the max is the floor of an engine that overlapped everything.
        out["floor_serial_ms"] = out["floor_memory_ms"] + out["floor_io_ms"]
        out["floor_overlap_ms"] = max(out["floor_memory_ms"], out["floor_io_ms"])
        out["time_vs_floor"] = m["total_ms"] / out["floor_serial_ms"]
    if run["mode"] == "mmap":
        tokens = m.get("prompt_tokens", 0) + m.get("generated_tokens", 0)
        out["mmap_disk_bytes_per_token"] = run["kernel_read_bytes"] / tokens if tokens else None
    return out


def print_resolution(b):
    """Half a unit of the last digit the engine prints (size_format_bytes: 2 decimals)."""
    unit = 1
    while abs(b) >= 1024 * unit and unit < 2**40:
        unit *= 1024
    return 0 if unit == 1 else 0.005 * unit


def rss_check(run):
    """Peak RSS above start against the budget: (verdict, exact bytes over the budget or None).
    The CLI prints the kernel's peak (VmHWM) to 2 decimals; the telemetry's per-token RSS is
    exact but sampled (a lower bound of the peak). Verdict: over / within / unresolved (the
    printed peak is within its print resolution of the budget and no sample is above it)."""
    m, budget = run["metrics"], run["budget_bytes"]
    printed = m.get("peak_rss_above_start_bytes", 0)
    sampled = m.get("process_rss_peak_bytes")
    if sampled is None and os.path.isfile(run.get("telemetry", "")):  # results of older runs
        sampled = max(json.loads(l).get("process_rss_bytes", 0)
                      for l in open(run["telemetry"]) if l.strip())
    sampled_above = sampled - m.get("start_rss_bytes", 0) if sampled else None
    if sampled_above is not None and sampled_above > budget:
        return "over", sampled_above - budget
    res = print_resolution(printed)
    if printed - res > budget:
        return "over", None
    if printed + res <= budget:
        return "within", None
    return "unresolved", None


def find_run(model, group, label_prefix):
    for r in model["runs"]:
        if group in r["groups"] and r["label"].startswith(label_prefix):
            return r
    return None


def memory_rows(model):
    """Issue 9, over every successful flash run with a budget (all fractions and windows)."""
    rows = []

    def add(name, target, value, met, shown):
        rows.append({"name": name, "target": target, "value": value, "met": met,
                     "shown": shown})

    flash_runs = [r for r in model["runs"] if r["mode"] == "flash" and r["status"] == "ok"
                  and r["budget_bytes"]]
    # Peak RSS above start <= budget + 8 MiB, and the accounted DRAM within 2% (or
    # 1 MiB) of the RSS growth since the session measured its fixed overhead.
    slack = 8 << 20
    over8 = [r["label"] for r in flash_runs
             if r["metrics"].get("peak_rss_above_start_bytes", 0) > r["budget_bytes"] + slack]
    add("peak RSS above start <= budget + 8 MiB, every flash run", "all", len(over8), not over8,
        f"{len(flash_runs) - len(over8)} of {len(flash_runs)} within" +
        (f"; over: {', '.join(over8)}" if over8 else ""))
    gaps = [(r["label"], r["metrics"]["accounted_bytes"] - r["metrics"]["rss_growth_bytes"],
             r["metrics"]["rss_growth_bytes"]) for r in flash_runs
            if r["metrics"].get("rss_growth_bytes") and "accounted_bytes" in r["metrics"]]
    off = [f"{label} ({fmt_bytes(abs(g))} {'above' if g > 0 else 'below'})"
           for label, g, growth in gaps if abs(g) > max(0.02 * growth, 1 << 20)]
    add("accounted DRAM within 2% (or 1 MiB) of the RSS growth, every flash run", "all",
        len(off), not off if gaps else None,
        f"{len(gaps) - len(off)} of {len(gaps)} within" + (f"; off: {', '.join(off)}" if off else ""))
    return rows


def target_rows(model, fraction):
    """The issue's targets, evaluated on the matrix at `fraction` (None: not measurable)."""
    g = f"matrix@{fraction:g}"
    flash = find_run(model, g, "flash k=")
    rows = []

    def add(name, target, value, met, shown):
        rows.append({"name": name, "target": target, "value": value, "met": met,
                     "shown": shown})

    if not flash or flash["status"] != "ok":
        why = "no flash run" if not flash else f"{flash['status']}: {flash.get('message', '')}"
        add("all targets", "flash at this budget", None, None, f"not measured ({why})")
        return rows
    m, an = flash["metrics"], flash.get("analysis", {})
    add("s/token", "<= 0.9 s", m["total_ms"] / 1e3, m["total_ms"] <= 900,
        f"{m['total_ms'] / 1e3:.4f} s")
    for base in ("naive", "mmap"):
        r = find_run(model, g, base)
        if r and r["status"] == "ok" and m["total_ms"] > 0:
            x = r["metrics"]["total_ms"] / m["total_ms"]
            note = "" if base != "mmap" or r.get("capped") else " (mmap UNCAPPED)"
            add(f"speed-up vs {r['label']}", ">= 10x", x, x >= 10, f"{x:.2f}x{note}")
        else:
            add(f"speed-up vs {base}", ">= 10x", None, None,
                f"not measured ({r['status'] if r else 'no run'})")
    add("FFN loaded/token", "<= 2.5%", m["ffn_loaded_fraction"],
        m["ffn_loaded_fraction"] <= 0.025, pct(m["ffn_loaded_fraction"], 2))
    v = an.get("read_vs_fio")
    add("read throughput / device limit (same request size, concurrency)", ">= 90%", v,
        None if v is None else v >= 0.9,
        "not measured" if v is None else
        f"{pct(v)} ({m['read_mb_per_s']:.0f} of {an['fio_mb_per_s']:.0f} MB/s, "
        f"{fmt_bytes(m['request_bytes'])} requests, qd {an['fio_iodepth']})")
    v = an.get("time_vs_floor")
    add("token time / physical floor", "<= 1.5x", v, None if v is None else v <= 1.5,
        "not measured" if v is None else
        f"{v:.2f}x (floor {an['floor_serial_ms']:.3f} ms = memory {an['floor_memory_ms']:.3f} "
        f"+ I/O {an['floor_io_ms']:.3f})")
    for part in ("memory", "predictor"):
        share = m[f"{part}_ms"] / m["total_ms"] if m["total_ms"] else None
        add(f"{part} share of token time", "<= 5%", share, share is not None and share <= 0.05,
            pct(share))
    checked = [(r, rss_check(r)) for r in model["runs"] if r["mode"] == "flash"
               and r["status"] == "ok" and r["budget_bytes"]]
    over = [f"{r['label']}" + (f" (+{fmt_bytes(x)})" if x else "") for r, (v, x) in checked
            if v == "over"]
    unresolved = [r["label"] for r, (v, _) in checked if v == "unresolved"]
    within = sum(1 for _, (v, _) in checked if v == "within")
    add("peak RSS <= budget + fixed overhead (start RSS), every flash run", "all", len(over),
        False if over else (None if unresolved else True),
        f"{within} of {len(checked)} within" + (f"; over: {', '.join(over)}" if over else "")
        + (f"; within print resolution: {', '.join(unresolved)}" if unresolved else ""))
    for ref, s in LLAMA_CPP_S_PER_TOKEN.items():
        x = s / (m["total_ms"] / 1e3)
        add(f"vs llama.cpp 7B F16 {ref} ({s} s/token, this machine)", "reference", x, None,
            (f"{x:.2f}x faster" if x >= 1 else f"{1 / x:.2f}x slower")
            + ("" if model["name"] == "opt-6.7b" else
                                  " (different model size: not comparable)"))
    return rows


def analyse(results):
    bw = results.get("memory_bandwidth", {}).get("gb_per_s")
    for model in results["models"]:
        for r in model["runs"]:
            if r["status"] == "ok":
                r["analysis"] = analyse_run(model, r, bw)
        fractions = results["settings"]["matrix_fractions"]
        model["targets"] = {"fraction": TARGET_FRACTION,
                            "rows": target_rows(model, TARGET_FRACTION)}
        model["memory_checks"] = memory_rows(model)
        main = find_run(model, f"matrix@{TARGET_FRACTION:g}", "flash k=")
        if (not main or main["status"] != "ok") and len(fractions) > 1:
            # Quick mode on tiny shapes: 50% is below the engine's minimum; evaluate the same
            # checks at the next matrix budget so that the code path is exercised.
            alt = next((f for f in fractions if f != TARGET_FRACTION), None)
            model["targets_alt"] = {"fraction": alt, "rows": target_rows(model, alt)}


# ---------------------------------------------------------------------------------------------
# Markdown

def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def status_cell(model, r):
    if r["status"] == "ok":
        return "ok"
    if r["status"] == "refused":
        return (f"refused: minimum {fmt_bytes(r['minimum_bytes'])} "
                f"({pct(r['minimum_bytes'] / model['model_bytes'], 0)} of model)")
    return f"{r['status']}: {r.get('message', '')}"


def tokens_cell(r):
    """Prompt + generated tokens of the run (measured: generated after the skipped warm-up)."""
    m = r.get("metrics")
    if m and "prompt_tokens" in m:
        return f"{m['prompt_tokens']}+{m['generated_tokens']} ({m['tokens_measured']})"
    if "prompt_tokens_requested" in r:
        return f"{r['prompt_tokens_requested']}+{r['gen_tokens_requested']}"
    return "-"


def table3(model, runs):
    rows = []
    for r in runs:
        m = r.get("metrics")
        if not m:
            rows.append([r["label"], status_cell(model, r)] + ["-"] * 7 + [tokens_cell(r)])
            continue
        rows.append([r["label"], "ok", num(m["total_ms"]), num(m["io_ms"]), num(m["memory_ms"]),
                     num(m["compute_ms"]), num(m["predictor_ms"]), num(m["other_ms"]),
                     num(m.get("tokens_per_s"), 1), tokens_cell(r)])
    return table(["run", "status", "ms/token", "I/O", "mem mgmt", "compute", "predictor",
                  "other", "tokens/s", "tokens: prompt+gen (measured)"], rows)


def table2(model, runs):
    rows = []
    for r in runs:
        m, an = r.get("metrics"), r.get("analysis", {})
        if not m:
            continue
        read = fmt_bytes(m["bytes_read_per_token"])
        if r["mode"] == "mmap":
            read = f"{fmt_bytes(an.get('mmap_disk_bytes_per_token'))} (kernel, page faults)"
        rss = m.get("peak_rss_above_start_bytes")
        budget = fmt_bytes(r["budget_bytes"]) if r["budget_bytes"] else "-"
        memory = f"{fmt_bytes(rss)} / {budget}"
        cg = r.get("cgroup")
        if cg:  # the cap, not the engine, bounds the mmap baseline
            memory = (f"cgroup max {fmt_bytes(cg.get('max_usage_bytes'))} / limit "
                      f"{fmt_bytes(cg['limit_bytes'])}, {cg.get('major_faults', '?')} "
                      "major faults")
        window = (f"{m['window_in_force']:.1f} (min {m['window_in_force_min']})"
                  if r["mode"] == "flash" else "-")
        rows.append([
            r["label"], read, num(m["requests_per_token"], 1), fmt_bytes(m["request_bytes"]),
            num(m["read_mb_per_s"], 0), num(an.get("fio_mb_per_s"), 0),
            pct(an.get("read_vs_fio"), 0), pct(m["ffn_loaded_fraction"], 2),
            pct(m["neurons_computed_fraction"], 2),
            window, fmt_bytes(m["dram_accounted_bytes"]), memory])
    return table(["run", "read/token", "requests/token", "request size", "read MB/s",
                  "fio MB/s (same size, qd)", "achieved/limit", "FFN loaded/token",
                  "FFN computed/token", "window in force", "DRAM accounted",
                  "peak RSS above start / budget"], rows) if rows else "(no successful run)"


def floor_table(runs):
    rows = []
    for r in runs:
        an = r.get("analysis", {})
        if "floor_serial_ms" not in an:
            continue
        rows.append([r["label"], num(r["metrics"]["total_ms"]), fmt_bytes(
            an["floor_memory_bytes_per_token"]), num(an["floor_memory_ms"], 3),
            num(an["floor_io_ms"], 3), num(an["floor_serial_ms"], 3),
            num(an["floor_overlap_ms"], 3), f"{an['time_vs_floor']:.2f}x"])
    return table(["run", "ms/token", "DRAM bytes/token", "memory floor ms", "I/O floor ms",
                  "floor (serial) ms", "floor (overlapped) ms", "time / floor"],
                 rows) if rows else "(no run with both limits measured)"


def sweep_table(model, runs, key_head, key):
    rows = []
    for r in runs:
        m = r.get("metrics")
        k = key(r)
        if not m:
            rows.append([k, status_cell(model, r)] + ["-"] * 6)
            continue
        rows.append([k, "ok", num(m["total_ms"]), num(m["io_ms"]),
                     fmt_bytes(m["bytes_read_per_token"]), pct(m["ffn_loaded_fraction"], 2),
                     f"{m['window_in_force']:.1f}",
                     fmt_bytes(m.get("peak_rss_above_start_bytes"))])
    return table([key_head, "status", "ms/token", "I/O ms", "read/token", "FFN loaded/token",
                  "window in force", "peak RSS above start"], rows)


def findings(model):
    out = []
    for r in model["runs"]:
        m = r.get("metrics", {})
        if r["status"] not in ("ok", "refused"):
            out.append(f"{r['label']}: {r['status']} ({r.get('message', '')})")
        if r["mode"] == "mmap" and r["status"] == "ok" and not r.get("capped"):
            out.append(f"{r['label']}: page cache NOT capped ({r.get('uncapped_reason')})")
        if m and m.get("stop_reason") not in (None, "max_tokens"):
            out.append(f"{r['label']}: generation stopped early ({m['stop_reason']}, "
                       f"{m['generated_tokens']} tokens)")
        if m and r["mode"] == "flash" and m["window_in_force_min"] < r["window"]:
            out.append(f"{r['label']}: the budget shrank the window from {r['window']} to "
                       f"{m['window_in_force_min']} (mean {m['window_in_force']:.1f})")
        if m and r["budget_bytes"] and r["mode"] != "mmap" and r["status"] == "ok":
            verdict, excess = rss_check(r)
            if verdict == "over":
                out.append(f"{r['label']}: peak RSS above start "
                           f"{fmt_bytes(m['peak_rss_above_start_bytes'])} exceeds the budget "
                           f"{fmt_bytes(r['budget_bytes'])}" + (
                               f" (a per-token RSS sample is {excess} B = {fmt_bytes(excess)} "
                               "above it: memory the engine does not account for)"
                               if excess else ""))
    refused = sorted({(r["mode"], r["minimum_bytes"]) for r in model["runs"]
                      if r["status"] == "refused"})
    for mode, minimum in refused:
        out.append(f"{mode}: budgets below {fmt_bytes(minimum)} "
                   f"({pct(minimum / model['model_bytes'], 0)} of the model) are refused by the CLI")
    return out


def model_section(results, model, plots):
    s = results["settings"]
    lines = [f"## {model['name']}", "",
             f"`{model['flash_dir']}` ({model['config'].get('name', '?')}, "
             f"{model['n_layers']} layers x {model['neurons']} neurons, "
             f"{model['ffn_dtype']} {'gate|up|down' if model['gated'] else 'up|down'} bundles of "
             f"{model['bundle_bytes']} B). Model size {fmt_bytes(model['model_bytes'])} = "
             f"{model['model_bytes_how']}: resident {fmt_bytes(model['resident_file_bytes'])}, "
             f"FFN {fmt_bytes(model['ffn_bytes'])}; predictors "
             f"{fmt_bytes(model['predictor_file_bytes'])}. CLI fixed overhead (start RSS) "
             f"{fmt_bytes(model.get('start_rss_bytes'))}.", "",
             "Minimum budget per mode (CLI): " + ", ".join(
                 f"{k} {fmt_bytes(v)} ({pct(v / model['model_bytes'], 0)})"
                 for k, v in model["minimum_budget_bytes"].items() if v) + ".", ""]
    for f in s["matrix_fractions"]:
        runs = [r for r in model["runs"] if f"matrix@{f:g}" in r["groups"]]
        lines += [f"### Table 3 - ms/token at a budget of {pct(f, 0)} of the model "
                  f"({fmt_bytes(int(model['model_bytes'] * f))})", "", table3(model, runs), "",
                  f"### Table 2 - reads at {pct(f, 0)}", "", table2(model, runs), "",
                  f"### Physical floor at {pct(f, 0)}", "", floor_table(runs), ""]
    refs = [r for r in model["runs"] if "reference" in r["groups"]]
    lines += ["### References without a budget", "", table3(model, refs), "",
              table2(model, refs), ""]
    sweep = sorted((r for r in model["runs"] if "budget_sweep" in r["groups"]),
                   key=lambda r: r["budget_fraction"])
    lines += [f"### Budget sweep (flash, k={s['window']})", "",
              sweep_table(model, sweep, "budget", lambda r: f"{pct(r['budget_fraction'], 0)} "
                          f"({fmt_bytes(r['budget_bytes'])})"), ""]
    win = sorted((r for r in model["runs"] if "window_sweep" in r["groups"]),
                 key=lambda r: r["window"])
    lines += [f"### Window sweep (flash, budget {pct(s['window_fraction'], 0)} of the model)", "",
              sweep_table(model, win, "k", lambda r: r["window"]), ""]
    for key in ("targets", "targets_alt"):
        t = model.get(key)
        if not t:
            continue
        note = "" if key == "targets" else (" - NOT the target's budget: 50% is below the "
                                            "engine's minimum here, so the checks run at this one")
        lines += [f"### Targets at {pct(t['fraction'], 0)}{note}", "",
                  "" if model["name"] == "opt-6.7b" else
                  "_The targets are stated for the opt-6.7b shape; shown here for information._",
                  "", table(["target", "wanted", "measured", "status"],
                            [[r["name"], r["target"], r["shown"],
                              {True: "met", False: "**not met**", None: "-"}[r["met"]]]
                             for r in t["rows"]]), ""]
    if model.get("memory_checks"):
        lines += ["### Memory accounting (every flash run with a budget)", "",
                  table(["check", "wanted", "measured", "status"],
                        [[r["name"], r["target"], r["shown"],
                          {True: "met", False: "**not met**", None: "-"}[r["met"]]]
                         for r in model["memory_checks"]]), ""]
    order = ["breakdown", "latency-vs-budget", "bytes-vs-budget", "latency-vs-window",
             "bytes-vs-window"]
    own = sorted((p for p in plots if os.path.basename(p).startswith(model["name"] + "-")),
                 key=lambda p: next((i for i, k in enumerate(order) if k in p), len(order)))
    if own:
        lines += ["### Plots", ""] + [f"![{os.path.basename(p)}](plots/{os.path.basename(p)})"
                                      for p in own] + [""]
    lines += ["### Findings", ""] + [f"- {x}" for x in findings(model) or ["none"]] + [""]
    return lines


def fio_table(results):
    head = ["model", "request size", "queue depth", "MB/s", "IOPS", "mean latency us"]
    again = results.get("limits_remeasured")
    rows = []
    for m in results["models"]:
        before = {(f["bs_bytes"], f["iodepth"]): f for f in m.get("fio_previous", [])}
        for f in m.get("fio", []):
            row = [m["name"], fmt_bytes(f["bs_bytes"]), f["iodepth"], num(f.get("mb_per_s"), 0),
                   num(f.get("iops"), 0), num(f.get("clat_mean_us"), 0)]
            if again:
                row.append(num(before.get((f["bs_bytes"], f["iodepth"]), {}).get("mb_per_s"), 0))
            rows.append(row)
    if not again:
        return table(head, rows)
    bw = results.get("memory_bandwidth_previous") or {}
    return (f"Re-measured {again['at']} (load average {' '.join(again['loadavg'])}): "
            f"{again['reason'] or 'no reason given'}. The ratios below use these; the figures "
            "measured right after the runs are in the last column (memory bandwidth then: "
            f"{num(bw.get('gb_per_s'))} GB/s).\n\n"
            + table(head + ["MB/s right after the runs"], rows))


def markdown(results, plots):
    s, h = results["settings"], results["host"]
    base_prompt = s.get("baseline_prompt_tokens") or s["prompt_tokens"]
    ctx = s.get("ctx", s["prompt_tokens"] + s["gen_tokens"] + 8)
    bw = results.get("memory_bandwidth", {})
    cg = results["cgroup"]
    lines = [f"# FlashChat benchmark ({'quick' if results['quick'] else 'full'} mode)", "",
             f"Started {results['started']}, finished {results['finished']}. Host: {h['cpus']} "
             f"CPUs ({h['cpu']}), {fmt_bytes(h['mem_total_bytes'])} RAM, Linux {h['kernel']}; "
             f"load average {' '.join(h['loadavg_start'])} at start, "
             f"{' '.join(results['loadavg_end'])} at end (other work on the machine skews "
             "every time below).", "",
             f"Each run: `flashchat-cli generate --temp 0 --ctx {ctx}`, batch 1 (prompt tokens "
             "are processed in blocks). Flash and dram rows: "
             f"{s['prompt_tokens']}-token prompt (BOS included), {s['gen_tokens']} generated "
             f"tokens; naive and mmap rows: {base_prompt}-token prompt, "
             f"{s['baseline_gen_tokens']} generated tokens (the tables' last column gives each "
             "row's). The context is the same for every row (the KV cache is inside the budget). "
             f"Means over generated tokens after the first {s['skip_tokens']} (cache fill; "
             "fewer when a run generates fewer than "
             f"{s['skip_tokens'] + 2}, so that two are measured). Model page cache dropped "
             "(posix_fadvise DONTNEED) before every run. How each figure is computed: "
             "bench/README.md, section bench/run.sh.", "",
             "## Hardware limits", "",
             ("Memory bandwidth the floor uses: " + (
                 f"{bw['gb_per_s']:.2f} GB/s, the engine's own F16 matvec over 4096x16384 "
                 "weights rotating through 1 GiB (matvec_bench, best run); a float sum over 2 GiB "
                 f"reaches {bw['full_pass_gb_per_s']:.2f} GB/s (best 64 MiB slice "
                 f"{bw['slice_gb_per_s']:.2f})"
                 if "kernel_f16_gb_per_s" in bw else
                 f"{bw['gb_per_s']:.2f} GB/s (float sum, older results)" if "gb_per_s" in bw
                 else bw.get("error", "?"))), "",
             "mmap page cache cap: " + (f"cgroup v1 memory cgroups under `{cg['parent']}`"
                                        if cg["available"] else
                                        f"UNAVAILABLE ({cg['reason']}): mmap rows are uncapped"),
             "", "fio random reads, O_DIRECT, io_uring, on each model's ffn.bin:", "",
             fio_table(results), ""]
    for model in results["models"]:
        lines += model_section(results, model, plots)
    return "\n".join(lines)


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: bench_report.py OUT_DIR/results.json")
    path = sys.argv[1]
    try:
        results = json.load(open(path))
    except (OSError, ValueError) as e:
        raise SystemExit(f"bench_report: {path}: {e}")
    analyse(results)
    with open(path + ".tmp", "w") as f:
        json.dump(results, f, indent=1)
    os.replace(path + ".tmp", path)
    plot_dir = os.path.join(os.path.dirname(path), "plots")
    plots = sorted(os.path.join(plot_dir, p) for p in os.listdir(plot_dir)
                   if p.endswith(".png")) if os.path.isdir(plot_dir) else []
    md = os.path.join(os.path.dirname(path), "results.md")
    with open(md, "w") as f:
        f.write(markdown(results, plots) + "\n")
    print(f"[bench] wrote {md}", file=sys.stderr)


if __name__ == "__main__":
    main()
