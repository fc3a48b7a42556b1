#!/usr/bin/python3
"""bench_run.py - runs the FlashChat benchmark matrix for bench/run.sh and writes results.json.

Usage (normally through bench/run.sh, which prepares the models):
  bench_run.py --cli BUILD/app/flashchat-cli --out DIR --model NAME=FLASH_DIR [--model ...]
               [--quick] [--matvec-bench BUILD/bench/matvec_bench] [overrides, see --help]

Per model, each item one `flashchat-cli generate --telemetry` run (a budget the CLI refuses is
recorded with the minimum it printed, never an error of the harness):
  * minimum budget of every mode (`flashchat-cli info --ctx`, short-chat column);
  * the mode matrix (Table 3 / Table 2) at each --matrix-fractions budget: naive, mmap (page
    cache capped by a cgroup v1 memory cgroup, started cold), flash, flash --no-bundling,
    flash --window 1, dram;
  * references without a budget: dram and flash (--references);
  * the budget sweep (flash, default window) and the window sweep (k = 1, 2, 4, ...);
Flash and dram rows use --prompt-tokens and --gen-tokens; the naive and mmap baselines, which
read the whole FFN per token, may be shortened with --baseline-prompt-tokens and
--baseline-gen-tokens. Every run gets the same --ctx (the longest of the two + 8), so the KV
cache takes the same share of every budget. Then fio at the request sizes and concurrency the
matrix runs used, and the memory-read bandwidth (matvec_bench). Budgets are fractions of the
model size = dram.safetensors + ffn.bin of the converted model (the dense model's weights;
predictors are the method's addition, inside the budget but not in the size). Analysis and
Markdown: bench_report.py.
"""
import argparse
import json
import os
import re
import resource
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from telemetry_summary import summarise  # noqa: E402  (one definition of the per-token means)

# baseline_prompt_tokens / baseline_gen_tokens: the naive and mmap rows (0 = same as the flash
# and dram rows). references: the runs without a budget ("none" for neither).
QUICK = dict(prompt_tokens=32, gen_tokens=48, baseline_prompt_tokens=0, baseline_gen_tokens=48,
             skip_tokens=8, matrix_fractions=[0.5, 1.5],
             sweep_fractions=[0.3, 0.5, 0.7, 0.9, 1.3, 1.5, 2.0], window_fraction=1.5,
             window_ks=[1, 2, 4, 8, 16], window=4, references=["dram", "flash"], fio_seconds=2,
             run_timeout_s=120)
FULL = dict(prompt_tokens=128, gen_tokens=256, baseline_prompt_tokens=0, baseline_gen_tokens=256,
            skip_tokens=8, matrix_fractions=[0.5],
            sweep_fractions=[0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], window_fraction=0.5,
            window_ks=[1, 2, 4, 8, 16], window=4, references=["dram", "flash"], fio_seconds=10,
            run_timeout_s=0)
BASELINE_MODES = ("naive", "mmap")
UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}
SIZE_RE = r"([\d.]+) (B|KiB|MiB|GiB|TiB)"
# Generated text need not be valid UTF-8 (byte-level tokens): never let decoding fail a run.
TEXT = {"encoding": "utf-8", "errors": "replace"}


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def size_parse(number, unit):
    return int(float(number) * UNITS[unit])


# ---------------------------------------------------------------------------------------------
# Model facts

def safetensors_tensor_bytes(path):
    """{tensor name: payload bytes} from a safetensors header."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    return {k: v["data_offsets"][1] - v["data_offsets"][0]
            for k, v in header.items() if k != "__metadata__"}


def model_info(name, flash_dir):
    manifest_path = os.path.join(flash_dir, "manifest.json")
    try:
        manifest = json.load(open(manifest_path))
    except (OSError, ValueError) as e:
        raise SystemExit(f"bench_run: {manifest_path}: not a flash model directory ({e})")
    files = manifest["files"]
    ffn = manifest["ffn"]
    dram_tensors = safetensors_tensor_bytes(os.path.join(flash_dir, "dram.safetensors"))
    # Embedding tables are read one row per token (unless the output head is tied to the token
    # embedding); every other resident tensor is read whole.
    tied = manifest["config"].get("tied_output", False)
    table = re.compile(r"(pos_embd)\.weight$" if tied else r"(token_embd|pos_embd)\.weight$")
    resident_read = sum(b for k, b in dram_tensors.items() if not table.search(k))
    pred_file = manifest.get("predictors", {}).get("file")
    return {
        "name": name, "flash_dir": os.path.abspath(flash_dir), "source": manifest.get("source"),
        "config": manifest["config"],
        "model_bytes": files["dram.safetensors"] + files[ffn["file"]],
        "model_bytes_how": "dram.safetensors + ffn.bin file sizes (the dense weights; "
                           "predictors excluded)",
        "resident_file_bytes": files["dram.safetensors"],
        "resident_read_bytes_per_token": resident_read,
        "ffn_bytes": files[ffn["file"]],
        "predictor_file_bytes": files.get(pred_file, 0) if pred_file else 0,
        "bundle_bytes": ffn["bundle_bytes"], "neurons": ffn["neurons"],
        "n_layers": len(ffn["layer_offsets"]), "ffn_dtype": ffn["dtype"], "gated": ffn["gated"],
        "files": [os.path.join(flash_dir, f) for f in files],
        "ffn_path": os.path.join(flash_dir, ffn["file"]),
    }


def page_cache_drop(paths):
    """Drops the files' clean cached pages (so a run starts cold); returns bytes still cached."""
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    try:
        out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES"] + paths,
                             capture_output=True, **TEXT, check=True).stdout
        return sum(int(x) for x in out.split())
    except (OSError, subprocess.CalledProcessError, ValueError):
        return None  # fincore (util-linux) missing: residency not verified


# ---------------------------------------------------------------------------------------------
# cgroup v1 memory cap for the mmap baseline

class MemoryCgroup:
    """A child memory cgroup of this process's own memory cgroup (so whatever limits and
    accounting sit above stay in force), with memory.limit_in_bytes = the cap. The page cache a
    process faults in is charged to its cgroup, so the cap bounds the mmap baseline's cache."""
    ROOT = "/sys/fs/cgroup/memory"
    counter = 0

    @staticmethod
    def parent():
        """(parent dir, None) or (None, reason it is unavailable)."""
        forced = os.environ.get("FLASHCHAT_BENCH_CGROUP_PARENT")  # e.g. /sys/fs/cgroup/memory
        if forced:
            ok = os.path.isfile(os.path.join(forced, "memory.limit_in_bytes"))
            return (forced, None) if ok and os.access(forced, os.W_OK) else (
                None, f"FLASHCHAT_BENCH_CGROUP_PARENT={forced}: not a writable memory cgroup")
        try:
            for line in open("/proc/self/cgroup"):
                _, controllers, path = line.rstrip("\n").split(":", 2)
                if "memory" in controllers.split(","):
                    d = MemoryCgroup.ROOT + path.rstrip("/")
                    if not os.path.isfile(os.path.join(d, "memory.limit_in_bytes")):
                        return None, f"{d}: no cgroup v1 memory controller files"
                    if not os.access(d, os.W_OK):
                        return None, f"{d}: not writable (run as root to cap the page cache)"
                    return d, None
        except OSError as e:
            return None, f"/proc/self/cgroup: {e}"
        return None, "no cgroup v1 memory controller mounted at " + MemoryCgroup.ROOT

    def __init__(self, parent_dir, limit_bytes):
        MemoryCgroup.counter += 1
        self.path = os.path.join(parent_dir, f"flashchat-bench-{os.getpid()}-{self.counter}")
        os.mkdir(self.path)
        try:
            self._write("memory.limit_in_bytes", str(limit_bytes))
        except OSError:
            os.rmdir(self.path)
            raise
        self.limit_bytes = limit_bytes

    def _write(self, name, value):
        with open(os.path.join(self.path, name), "w") as f:
            f.write(value)

    def _read(self, name):
        return open(os.path.join(self.path, name)).read()

    def wrap(self, cmd):
        """The command, started inside this cgroup (the shell joins it, then execs)."""
        return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"',
                os.path.join(self.path, "cgroup.procs")] + cmd

    def stats(self):
        stat = dict(line.split() for line in self._read("memory.stat").splitlines())
        oom = dict(line.split() for line in self._read("memory.oom_control").splitlines())
        return {"limit_bytes": self.limit_bytes, "path": self.path,
                "max_usage_bytes": int(self._read("memory.max_usage_in_bytes")),
                "failcnt": int(self._read("memory.failcnt")),
                "cache_bytes_at_exit": int(stat.get("total_cache", stat.get("cache", 0))),
                "major_faults": int(stat.get("total_pgmajfault", stat.get("pgmajfault", 0))),
                "oom_kills": int(oom.get("oom_kill", 0))}

    def remove(self):
        for _ in range(50):  # the exited process's charges move to the parent on rmdir
            try:
                os.rmdir(self.path)
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.1)
        log(f"warning: could not remove {self.path}; remove it with rmdir")


# ---------------------------------------------------------------------------------------------
# One generate run

def run_label(spec):
    if spec["mode"] == "flash":
        label = f"flash k={spec['window']}" + ("" if spec["bundling"] else " no bundling")
    elif spec["mode"] == "mmap":
        label = "mmap capped" if spec.get("cap") else "mmap"
    else:
        label = spec["mode"]
    frac = spec["fraction"]
    return label + (f" @{round(100 * frac)}%" if frac is not None else " (no budget)")


def stderr_stats(text):
    out = {}
    m = re.search(r"prompt: (\d+) tokens in ([\d.]+) ms \| generated: (\d+) tokens in ([\d.]+) ms "
                  r"\(([\d.]+) tokens/s\) \| stop: (\w+)", text)
    if m:
        out.update(prompt_tokens=int(m[1]), generated_tokens=int(m[3]),
                   tokens_per_s=float(m[5]), stop_reason=m[6])
    m = re.search(r"peak RSS above start " + SIZE_RE + r" \(start " + SIZE_RE + r"\)", text)
    if m:
        out.update(peak_rss_above_start_bytes=size_parse(m[1], m[2]),
                   start_rss_bytes=size_parse(m[3], m[4]))
    return out


def telemetry_extras(path, skip, ctx):
    """Per-token means the shared summary does not have: what the floor needs."""
    rows = [json.loads(line) for line in open(path) if line.strip()]
    gen = [r for r in rows if not r["prompt"]][skip:]
    n = len(gen)
    return {
        "prompt_rows": sum(1 for r in rows if r["prompt"]),
        "neurons_computed_per_token": sum(sum(l["predicted"] for l in r["layers"]) for r in gen) / n,
        # KV blocks are allocated as the context fills: what is held bounds what is read.
        "kv_read_bytes_per_token": sum(r["dram"]["kv_cache"] for r in gen) / n,
        "predictor_bytes": gen[-1]["dram"]["predictors"],
        "window_in_force_min": min(r["window"]["in_force"] for r in gen),
        "sampling_ms": sum(r["ms"]["sampling"] for r in gen) / n,
        # Exact bytes (the CLI prints its VmHWM peak with 2 decimals): a lower bound of the peak.
        "process_rss_peak_bytes": max(r.get("process_rss_bytes", 0) for r in rows),
        # The last token: RSS growth since the Session measured its fixed overhead, against the
        # DRAM the engine accounts for (issue 9: within 2% or 1 MiB).
        "rss_growth_bytes": gen[-1].get("process_rss_bytes", 0)
                            - gen[-1].get("process_base_rss_bytes", 0),
        "accounted_bytes": gen[-1]["dram"]["total"],
    }


def run_lengths(a, mode):
    """(prompt tokens, generated tokens) of a run in `mode`: the baselines may be shorter."""
    if mode in BASELINE_MODES:
        return a.baseline_prompt_tokens or a.prompt_tokens, a.baseline_gen_tokens
    return a.prompt_tokens, a.gen_tokens


def run_ctx(a):
    """One context length for every run (the KV cache is inside the budget, so shorter baseline
    runs must not get a smaller KV cache and thus more room for weights)."""
    return max(sum(run_lengths(a, mode)) for mode in ("flash",) + BASELINE_MODES) + 8


def generate_run(a, model, spec, budget_bytes, prompt, gen_tokens, run_dir, cgroup_limit=None):
    """Runs one generate; returns the run record (status ok / refused / oom / failed / timeout)."""
    rid = re.sub(r"[^A-Za-z0-9_.=-]+", "_", run_label(spec)).strip("_")
    tel = os.path.join(run_dir, rid + ".jsonl")
    ctx = run_ctx(a)
    cmd = [a.cli, "generate", "-m", model["flash_dir"], "--mode", spec["mode"], "--ctx", str(ctx),
           "--temp", "0", "-n", str(gen_tokens), "-p", prompt, "--telemetry", tel,
           "--window", str(spec["window"])]
    if budget_bytes:
        cmd += ["--budget", str(budget_bytes)]
    if not spec["bundling"]:
        cmd.append("--no-bundling")
    rec = {"id": rid, "label": run_label(spec), "mode": spec["mode"], "window": spec["window"],
           "bundling": spec["bundling"], "budget_fraction": spec["fraction"],
           "budget_bytes": budget_bytes or None, "ctx": ctx, "command": cmd, "telemetry": tel}
    rec["cache_bytes_before"] = page_cache_drop(model["files"])
    cg = None
    if spec["mode"] == "mmap":
        rec["capped"] = False
        if cgroup_limit and a.cgroup_parent:
            try:
                cg = MemoryCgroup(a.cgroup_parent, cgroup_limit)
                cmd = cg.wrap(cmd)
                rec["capped"] = True
            except OSError as e:
                rec["uncapped_reason"] = f"cannot create a memory cgroup: {e}"
        if not rec["capped"] and (cgroup_limit or not a.cgroup_parent):  # say so everywhere
            rec["label"] = rec["label"].replace("mmap capped", "mmap UNCAPPED")
        if not rec["capped"] and "uncapped_reason" not in rec:
            rec["uncapped_reason"] = a.cgroup_reason or (
                "budget below the engine's minimum (the CLI refuses it)" if budget_bytes
                else "no budget")
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **TEXT,
                           timeout=a.run_timeout_s or None)
        rc, err = p.returncode, p.stderr
    except subprocess.TimeoutExpired as e:
        raw = e.stderr or b""
        rc, err = None, raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    finally:  # also on Ctrl-C / SIGTERM: never leave a cgroup behind
        if cg:
            try:
                rec["cgroup"] = cg.stats()
            except (OSError, ValueError) as e:
                rec["cgroup"] = {"limit_bytes": cg.limit_bytes, "error": str(e)}
            cg.remove()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    rec["wall_s"] = round(time.monotonic() - t0, 3)
    rec["kernel_read_bytes"] = (ru1.ru_inblock - ru0.ru_inblock) * 512
    rec["major_faults"] = ru1.ru_majflt - ru0.ru_majflt
    with open(os.path.join(run_dir, rid + ".stderr"), "w") as f:
        f.write(err)
    refused = re.search(r"below the (?:minimum of )?(?:at least )?" + SIZE_RE, err)
    if rc is None:
        rec.update(status="timeout", message=f"killed after {a.run_timeout_s} s (--run-timeout)")
    elif rc == 0:
        rec["status"] = "ok"
    elif refused and "error: budget" in err:
        rec.update(status="refused", minimum_bytes=size_parse(refused[1], refused[2]))
    elif rc in (-9, 137) and rec.get("cgroup", {}).get("oom_kills", 0) > 0:
        limit_mib = rec["cgroup"]["limit_bytes"] / 2**20
        rec.update(status="oom", message=f"killed by its memory cgroup's OOM killer at the "
                   f"{limit_mib:.2f} MiB cap (budget + start RSS): the process needs more "
                   "than the engine accounts for")
    else:
        rec["status"] = "failed"
    if rec["status"] != "ok":
        last = [l for l in err.strip().splitlines() if l.strip()][-1:] or [f"exit code {rc}"]
        rec.setdefault("message", last[0].strip())
        log(f"{model['name']}: {rec['label']}: {rec['status']}: {rec['message']}")
        return rec
    m = stderr_stats(err)
    # The first generated tokens fill the cache (warm-up); keep at least one measured token.
    skip = min(a.skip_tokens, max(0, m.get("generated_tokens", 1) - 2))
    m["skipped_tokens"] = skip
    try:
        s = summarise(tel, skip)
    except SystemExit as e:  # too few generated tokens (e.g. an early stop token)
        rec.update(status="failed", message=str(e))
        return rec
    m.update(tokens_measured=s["tokens"], total_ms=s["total_ms"], io_ms=s["io_ms"],
             memory_ms=s["memory_ms"], compute_ms=s["compute_ms"],
             predictor_ms=s["predictor_ms"], bytes_read_per_token=s["bytes_read"],
             requests_per_token=s["requests"], read_mb_per_s=s["mb_per_s"],
             ffn_loaded_fraction=s["ffn_loaded"], window_in_force=s["window"],
             dram_accounted_bytes=int(s["dram_mib"] * 2**20),
             process_rss_max_bytes=int(s["rss_mib"] * 2**20))
    m.update(telemetry_extras(tel, skip, ctx))
    m["other_ms"] = m["total_ms"] - (m["io_ms"] + m["memory_ms"] + m["compute_ms"]
                                     + m["predictor_ms"])
    m["request_bytes"] = (m["bytes_read_per_token"] / m["requests_per_token"]
                          if m["requests_per_token"] else 0)
    m["neurons_computed_fraction"] = (m["neurons_computed_per_token"]
                                      / (model["neurons"] * model["n_layers"]))
    rec["metrics"] = m
    log(f"{model['name']}: {rec['label']}: {m['total_ms']:.2f} ms/token, "
        f"{m['bytes_read_per_token'] / 1024:.1f} KiB/token, {rec['wall_s']:.1f} s")
    return rec


# ---------------------------------------------------------------------------------------------
# Hardware limits

def fio_randread(path, bs_bytes, iodepth, seconds):
    """fio random reads, O_DIRECT, io_uring: {mb_per_s, iops, ...} or {error}."""
    size = os.path.getsize(path)
    bs = max(4096, min(int(round(bs_bytes / 4096)) * 4096, size // 4096 * 4096))
    cmd = ["fio", "--name=bench", f"--filename={path}", "--readonly", "--rw=randread",
           f"--bs={bs}", "--direct=1", "--ioengine=io_uring", f"--iodepth={iodepth}",
           f"--runtime={seconds}", "--time_based", f"--size={size}", "--output-format=json"]
    res = {"file": path, "bs_bytes": bs, "iodepth": iodepth, "runtime_s": seconds,
           "command": " ".join(cmd)}
    try:
        p = subprocess.run(cmd, capture_output=True, **TEXT, timeout=seconds + 60)
        j = json.loads(p.stdout[p.stdout.index("{"):])
        rd = j["jobs"][0]["read"]
        res.update(mb_per_s=rd["bw_bytes"] / 1e6, iops=rd["iops"],
                   clat_mean_us=rd["clat_ns"]["mean"] / 1e3)
    except FileNotFoundError:
        res["error"] = "fio not found (apt-get install fio)"
    except (subprocess.TimeoutExpired, ValueError, KeyError, IndexError) as e:
        res["error"] = f"fio failed: {e}"
    log(f"fio bs={bs} qd={iodepth}: " + (f"{res['mb_per_s']:.0f} MB/s" if "mb_per_s" in res
                                         else res["error"]))
    return res


def memory_bandwidth(matvec_bench, quick):
    if not matvec_bench or not os.access(matvec_bench, os.X_OK):
        return {"error": f"matvec_bench not found ({matvec_bench}); build target matvec_bench"}
    # 2 GiB: larger than any cache this VM reports (getconf claims a 508 MiB L3). The floor uses
    # what the engine's own kernel reaches: the F16 matvec over an FFN-sized matrix (4096 x
    # 16384, 128 MiB) rotating through copies larger than any cache, not a float sum.
    args = ["--buffer-mib", "2048", "--slice-mib", "64", "--bandwidth-runs", "3" if quick else "7",
            "--shape", "4096x16384", "--dtype", "F16", "--iters", "3" if quick else "7",
            "--footprint-mib", "1024"]
    p = subprocess.run([matvec_bench] + args, capture_output=True, **TEXT)
    m = re.search(r"memory read bandwidth: ([\d.]+) GB/s best (\d+) MiB slice, ([\d.]+) GB/s "
                  r"best full pass", p.stdout)
    k = re.search(r"^F16\s+4096x16384\s.*?best\s+[\d.]+ ms \(\s*([\d.]+) GB/s", p.stdout, re.M)
    if p.returncode != 0 or not m or not k:
        return {"error": f"matvec_bench failed: {p.stderr.strip()[-300:]}"}
    return {"gb_per_s": float(k[1]), "kernel_f16_gb_per_s": float(k[1]),
            "slice_gb_per_s": float(m[1]), "full_pass_gb_per_s": float(m[3]),
            "command": " ".join([matvec_bench] + args)}


# ---------------------------------------------------------------------------------------------
# The plan

def make_prompt(a, model, tokens):
    """A prompt of `tokens` tokens (with BOS) from the calibration text's stories."""
    text = open(a.prompt_file, encoding="utf-8").read()
    text = text[text.find("\n\n") + 2:][:16 * tokens]
    ids = subprocess.run([a.cli, "tokenize", "-m", model["flash_dir"], "--text", text],
                         capture_output=True, **TEXT, check=True).stdout.split()
    want = tokens - 1  # the CLI adds BOS
    out = subprocess.run([a.cli, "tokenize", "-m", model["flash_dir"], "--decode", "--text",
                          " ".join(ids[:want])], capture_output=True, **TEXT, check=True)
    return out.stdout


def model_plan(a):
    """(spec, groups) in run order; identical specs are run once and carry several groups."""
    plan = {}

    def add(group, mode, fraction, window=a.window, bundling=True, cap=False):
        key = (mode, window, bundling, fraction, cap)
        plan.setdefault(key, {"spec": dict(mode=mode, window=window, bundling=bundling,
                                           fraction=fraction, cap=cap), "groups": []})
        plan[key]["groups"].append(group)

    for f in a.matrix_fractions:
        g = f"matrix@{f:g}"
        add(g, "naive", f)
        add(g, "mmap", f, cap=True)
        add(g, "flash", f)
        add(g, "flash", f, bundling=False)
        add(g, "flash", f, window=1)
        add(g, "dram", f)
    for mode in a.references:
        add("reference", mode, None)
    for f in a.sweep_fractions:
        add("budget_sweep", "flash", f)
    for k in a.window_ks:
        add("window_sweep", "flash", a.window_fraction, window=k)
    return list(plan.values())


def bench_model(a, model):
    run_dir = os.path.join(a.out, "runs", model["name"])
    os.makedirs(run_dir, exist_ok=True)
    prompts = {n: make_prompt(a, model, n)
               for n in {run_lengths(a, mode)[0] for mode in ("flash",) + BASELINE_MODES}}
    mb = model["model_bytes"]
    model["minimum_budget_bytes"] = {}
    # `info --ctx` prints each mode's minimum with a full KV cache and for a short chat (one KV
    # block): the latter is what a session admits at its start.
    p = subprocess.run([a.cli, "info", "-m", model["flash_dir"], "--ctx", str(run_ctx(a))],
                       capture_output=True, **TEXT)
    for mode in ("dram", "naive", "mmap", "flash"):
        m = re.search(r"^  " + mode + r"\s+" + SIZE_RE + r" \([0-9.]+%\) / " + SIZE_RE,
                      p.stdout, re.M)
        model["minimum_budget_bytes"][mode] = size_parse(m[3], m[4]) if m else None
    log(f"{model['name']}: model {mb / 2**20:.1f} MiB, minimum budgets "
        + ", ".join(f"{k} {v / 2**20:.1f} MiB" for k, v in model["minimum_budget_bytes"].items()
                    if v))
    # The CLI's fixed overhead (binary, libraries, runtime: RSS before the model loads), which
    # sits outside the engine's budget; the capped mmap run gets the same allowance.
    model["start_rss_bytes"] = None
    for mode in ("flash", "naive"):
        p = subprocess.run([a.cli, "generate", "-m", model["flash_dir"], "--mode", mode,
                            "-n", "2", "-p", "a", "--ctx", "16"], capture_output=True, **TEXT)
        model["start_rss_bytes"] = stderr_stats(p.stderr).get("start_rss_bytes")
        if model["start_rss_bytes"]:
            break
    runs = []
    for item in model_plan(a):
        spec = item["spec"]
        budget = int(mb * spec["fraction"]) if spec["fraction"] is not None else 0
        prompt_tokens, gen = run_lengths(a, spec["mode"])
        # Capped mmap: budget + fixed overhead. Below the engine's minimum the CLI refuses the
        # budget itself; running that uncapped records the refusal, not an OOM kill at start.
        minimum = model["minimum_budget_bytes"].get(spec["mode"]) or 0
        limit = None
        if spec["cap"] and budget and budget >= minimum:
            limit = budget + (model["start_rss_bytes"] or 0)
        rec = generate_run(a, model, spec, budget, prompts[prompt_tokens], gen, run_dir, limit)
        rec.update(groups=item["groups"], prompt_tokens_requested=prompt_tokens,
                   gen_tokens_requested=gen)
        if rec.get("capped"):
            rec["cgroup_limit_how"] = "budget + the CLI's start RSS (fixed overhead)"
        runs.append(rec)
    model["runs"] = runs
    device_limits(a, model)
    return model


def device_limits(a, model):
    """fio at the request size and concurrency each matrix run actually had (after a warm-up:
    the first cold reads of a VM disk are slow; not a result)."""
    model["fio_warmup"] = fio_randread(model["ffn_path"], 65536, 32, 1 if a.quick else 5)
    fio_cache = {}
    for rec in model["runs"]:
        m = rec.get("metrics")
        if not m or not m["requests_per_token"] or not any(g.startswith("matrix")
                                                           for g in rec["groups"]):
            continue
        per_layer = m["requests_per_token"] / model["n_layers"]
        qd_effective = max(1, min(64, int(round(per_layer))))
        rec["fio"] = {}
        for kind, qd in (("effective_qd", qd_effective), ("qd64", 64)):
            key = (int(round(m["request_bytes"] / 4096)), qd)
            if key not in fio_cache:
                fio_cache[key] = fio_randread(model["ffn_path"], m["request_bytes"], qd,
                                              a.fio_seconds)
            rec["fio"][kind] = fio_cache[key]
    model["fio"] = list(fio_cache.values())


def limits_remeasure(a):
    """--remeasure-limits: fio and the memory bandwidth again for an existing results.json
    (e.g. other work disturbed them), the earlier figures kept under *_previous."""
    path = a.remeasure_limits
    results = json.load(open(path))
    a.quick = results["quick"]
    a.fio_seconds = results["settings"]["fio_seconds"]
    for model in results["models"]:
        model["fio_previous"] = model.get("fio", [])
        for rec in model["runs"]:
            if "fio" in rec:
                rec["fio_previous"] = rec.pop("fio")
        device_limits(a, model)
    results["memory_bandwidth_previous"] = results.get("memory_bandwidth")
    results["memory_bandwidth"] = memory_bandwidth(a.matvec_bench, a.quick)
    results["limits_remeasured"] = {
        "at": time.strftime("%Y-%m-%d %H:%M:%S %z"), "reason": a.reason or "",
        "loadavg": open("/proc/loadavg").read().split()[:3]}
    with open(path + ".tmp", "w") as f:
        json.dump(results, f, indent=1)
    os.replace(path + ".tmp", path)
    log(f"updated {path} (rerun bench_report.py on it)")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", help="flashchat-cli binary (required unless --remeasure-limits)")
    ap.add_argument("--matvec-bench", help="matvec_bench binary (memory bandwidth)")
    ap.add_argument("--out")
    ap.add_argument("--model", action="append", help="NAME=FLASH_DIR")
    ap.add_argument("--remeasure-limits", metavar="RESULTS_JSON",
                    help="only run fio and the memory bandwidth again for this results.json "
                         "(keeps the earlier figures as *_previous); with --reason")
    ap.add_argument("--reason", help="why the limits were re-measured (recorded)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--prompt-file", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "resources", "calib", "default.txt"))
    for k, v in FULL.items():  # overrides of the quick / full settings
        opt = "--" + k.replace("_", "-")
        if isinstance(v, list):
            ap.add_argument(opt, type=lambda s, t=type(v[0]): [t(x) for x in s.split(",")])
        else:
            ap.add_argument(opt, type=type(v))
    a = ap.parse_args()
    if a.remeasure_limits:
        return limits_remeasure(a)
    if not (a.cli and a.out and a.model):
        ap.error("--cli, --out and --model are required")
    settings = dict(QUICK if a.quick else FULL)
    for k in settings:
        if getattr(a, k) is not None:
            settings[k] = getattr(a, k)
        setattr(a, k, settings[k])
    if a.references == ["none"]:
        a.references = settings["references"] = []
    if set(a.references) - {"dram", "flash"}:
        raise SystemExit("bench_run: --references: a list of dram, flash (or none)")
    settings["ctx"] = run_ctx(a)
    if not os.access(a.cli, os.X_OK):
        raise SystemExit(f"bench_run: {a.cli}: flashchat-cli not found or not executable")
    os.makedirs(a.out, exist_ok=True)
    a.cgroup_parent, a.cgroup_reason = MemoryCgroup.parent()
    if a.cgroup_reason:
        log(f"mmap runs will be uncapped: {a.cgroup_reason}")
    # SIGTERM unwinds like Ctrl-C, so the finally blocks remove the cgroups.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    results = {"schema": 1, "quick": a.quick, "settings": settings,
               "started": time.strftime("%Y-%m-%d %H:%M:%S %z"), "host": host_facts(),
               "cgroup": {"available": a.cgroup_parent is not None,
                          "parent": a.cgroup_parent, "reason": a.cgroup_reason},
               "models": []}
    for item in a.model:
        name, _, path = item.partition("=")
        if not path:
            raise SystemExit(f"bench_run: --model {item}: expected NAME=FLASH_DIR")
        results["models"].append(bench_model(a, model_info(name, path)))
    results["memory_bandwidth"] = memory_bandwidth(a.matvec_bench, a.quick)
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %z")
    results["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    path = os.path.join(a.out, "results.json")
    with open(path + ".tmp", "w") as f:
        json.dump(results, f, indent=1)
    os.replace(path + ".tmp", path)
    log(f"wrote {path}")


def host_facts():
    mem = next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), "?")
    return {"cpus": os.cpu_count(), "cpu": cpu, "mem_total_bytes": int(mem) * 1024,
            "kernel": os.uname().release, "loadavg_start": open("/proc/loadavg").read().split()[:3]}


if __name__ == "__main__":
    main()
