#!/usr/bin/python3
"""corpus.py - licence-clean English training text from installed Debian packages.

Reads the text files of the packages in SOURCES (see tools/default_model/requirements-debian.txt;
install them with apt first), extracts plain prose (info/HTML/dictd markup stripped), normalises to
ASCII, drops short and duplicate paragraphs, and writes

  OUT/train.txt, OUT/heldout.txt   documents separated by a line holding only DOC_SEP
  OUT/manifest.json                every package (version, licence lines of its copyright file),
                                   every file used, its paragraph/character counts, the split

The split is deterministic: paragraphs are grouped into blocks of BLOCK_PARAS consecutive
paragraphs (documents), and every round(1/heldout_fraction)-th block, counted over the whole
corpus, goes to the held-out set (whole blocks, so held-out text is not interleaved with training
text).

    /usr/bin/python3 tools/default_model/corpus.py --out OUT/corpus
"""

import argparse
import gzip
import hashlib
import html.parser
import json
import os
import re
import subprocess
import unicodedata

DOC_SEP = "<|doc|>"
BLOCK_PARAS = 16

# package -> (file filter regex on dpkg -L paths, extractor name, max characters taken (None: all))
SOURCES = {
    "bible-kjv-text": (None, "bible", None),   # read through the `bible` program (bible-kjv)
    "dict-devil": (r"\.dict\.dz$", "dictd", None),
    "dict-jargon": (r"\.dict\.dz$", "dictd", None),
    "dict-gcide": (r"gcide\.dict\.dz$", "dictd", 3_000_000),
    "debian-faq": (r"/debian-faq\.en\.txt(\.gz)?$", "text", None),
    "doc-debian": (r"\.txt(\.gz)?$|/(constitution|social-contract|debian-manifesto)[^/]*$", "text", None),
    "debian-reference-en": (r"\.en\.txt(\.gz)?$", "text", None),
    "gnu-standards": (r"\.text\.gz$", "text", None),
}


def sh(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def read_bytes(path):
    opener = gzip.open if path.endswith((".gz", ".dz")) else open
    with opener(path, "rb") as f:
        return f.read()


def to_ascii(s):
    s = s.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    s = s.replace("\u2014", " - ").replace("\u2013", "-").replace("\u2026", "...")
    s = unicodedata.normalize("NFKD", s)
    return s.encode("ascii", "ignore").decode("ascii")


class _HtmlText(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.out, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        if tag in ("p", "br", "div", "li", "h1", "h2", "h3", "h4", "pre", "tr"):
            self.out.append("\n\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)

    def handle_data(self, data):
        if not self.skip:
            self.out.append(data)


def extract(kind, raw):
    text = raw.decode("utf-8", errors="replace")
    if kind == "info":  # drop node headers, menus and index lines; keep prose paragraphs
        text = re.sub(r"\x1f\n?File: [^\n]*\n", "\n\n", text)
        text = text.replace("\x1f", "\n")
        text = re.sub(r"^\* [^\n]*::[^\n]*$", "", text, flags=re.M)
        text = re.sub(r"\*[Nn]ote ([^:]*)::?", r"\1", text)
    elif kind == "dictd":  # entries: headword line, then indented definition lines
        text = re.sub(r"<[^>]{0,40}>", "", text)  # gcide markup remnants
        text = re.sub(r"\[(1913 Webster|PJC|WordNet[^\]]*|[A-Z]{2,4})\]", "", text)  # source tags
        text = re.sub(r"\{([^{}]*)\}", r"\1", text)  # jargon cross-references
    elif kind == "html":
        p = _HtmlText()
        p.feed(text)
        text = "".join(p.out)
    return text


def paragraphs(text):
    for para in re.split(r"\n\s*\n", text):
        lines = [ln.strip() for ln in para.split("\n")]
        para = " ".join(ln for ln in lines if ln)
        para = re.sub(r"[ \t]+", " ", para).strip()
        if len(para) < 40:
            continue
        letters = sum(ch.isalpha() for ch in para)
        if letters < 0.6 * len(para):  # tables, code, ascii art
            continue
        if re.search(r"[=_\-*#]{6,}", para):
            continue
        yield para


def bible_text():
    """The whole KJV through the bible program: one paragraph per chapter."""
    out = sh("bible", "-f", "gen1:1-rev22:21")
    chapters, cur, last = [], [], None
    for ln in out.splitlines():
        m = re.match(r"^([1-3]?\s?[A-Za-z]+)\s*(\d+):(\d+)\s+(.*)$", ln.strip())
        if m:
            key = (m.group(1), m.group(2))
            if key != last and cur:
                chapters.append(" ".join(cur))
                cur = []
            last = key
            cur.append(m.group(4))
        elif ln.strip() and cur:
            cur.append(ln.strip())
    if cur:
        chapters.append(" ".join(cur))
    return "\n\n".join(chapters)


def licence_lines(pkg):
    path = "/usr/share/doc/%s/copyright" % pkg
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            txt = f.read()
    except OSError:
        return {"copyright_file": None, "licences": []}
    lic = sorted(set(m.strip() for m in re.findall(r"^License:\s*(.+)$", txt, flags=re.M)))
    if not lic:  # old-style copyright files: keep the first lines that name a licence
        lic = [ln.strip() for ln in txt.splitlines()
               if re.search(r"licen[cs]e|public domain|GPL|copyright", ln, re.I)][:6]
    return {"copyright_file": path, "licences": lic}


def package_version(pkg):
    try:
        return sh("dpkg-query", "-W", "-f=${Version}", pkg)
    except subprocess.CalledProcessError:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--heldout-fraction", type=float, default=0.02)
    ap.add_argument("--max-chars-per-package", type=int, default=0,
                    help="take at most this many characters from each package (0: the caps in "
                         "SOURCES only; small values give a mixed corpus for smoke runs)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    seen = set()
    manifest = {"doc_separator": DOC_SEP, "block_paragraphs": BLOCK_PARAS,
                "heldout_fraction": a.heldout_fraction, "packages": [], "skipped": []}
    train, held = [], []
    every = max(1, round(1 / a.heldout_fraction))
    n_blocks = 0
    for pkg, (pattern, kind, cap) in SOURCES.items():
        ver = package_version(pkg)
        if ver is None:
            manifest["skipped"].append({"package": pkg, "reason": "not installed"})
            continue
        entry = {"package": pkg, "version": ver, **licence_lines(pkg), "files": []}
        if kind == "bible":
            try:
                docs = [("bible -f gen1:1-rev22:21 (bible-kjv)", bible_text())]
            except (OSError, subprocess.CalledProcessError) as e:
                manifest["skipped"].append({"package": pkg, "reason": str(e)})
                continue
        else:
            files = sorted(p for p in sh("dpkg", "-L", pkg).splitlines()
                           if os.path.isfile(p) and re.search(pattern, p))
            docs = [(p, extract(kind, read_bytes(p))) for p in files]
        taken = 0
        if a.max_chars_per_package:
            cap = min(cap or a.max_chars_per_package, a.max_chars_per_package)
        for path, text in docs:
            paras = []
            for para in paragraphs(to_ascii(text)):
                h = hashlib.sha1(para.lower().encode()).digest()
                if h in seen:
                    continue
                seen.add(h)
                paras.append(para)
                taken += len(para)
                if cap and taken >= cap:
                    break
            n_tr = n_he = 0
            for i in range(0, len(paras), BLOCK_PARAS):
                doc = "\n".join(paras[i:i + BLOCK_PARAS])
                n_blocks += 1
                if n_blocks % every == every // 2:  # every `every`-th block, counted globally
                    held.append(doc)
                    n_he += len(doc)
                else:
                    train.append(doc)
                    n_tr += len(doc)
            entry["files"].append({"path": path, "paragraphs": len(paras),
                                   "train_chars": n_tr, "heldout_chars": n_he})
            if cap and taken >= cap:
                break
        manifest["packages"].append(entry)
    sep = "\n" + DOC_SEP + "\n"
    for name, docs in (("train.txt", train), ("heldout.txt", held)):
        with open(os.path.join(a.out, name), "w", encoding="ascii") as f:
            f.write(sep.join(docs) + "\n")
    manifest["train_chars"] = sum(map(len, train))
    manifest["heldout_chars"] = sum(map(len, held))
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print("corpus: train %d chars, held-out %d chars, %d packages -> %s" % (
        manifest["train_chars"], manifest["heldout_chars"], len(manifest["packages"]), a.out))


if __name__ == "__main__":
    main()
