#!/usr/bin/env bash
# translations_check.sh LUPDATE LRELEASE SOURCE_DIR - the ctest translations_complete: the Qt
# Linguist files translations/flashchat_{ko,en}.ts hold every tr() string of the GUI, each one
# finished. lupdate runs over ui/ and app/gui/ into scratch copies of the .ts files (so a string
# added to the code shows up as a new unfinished entry, one removed from the code as vanished);
# then every entry of the copies must be finished (no unfinished, vanished or obsolete ones),
# non-empty, keep the source's %1/%L1/%n placeholders, and carry the language's numerus forms
# (ko: 1, en: 2). lrelease's statistics are printed. Fix: scripts/update_translations.sh, translate.
set -euo pipefail
lupdate=$1 lrelease=$2 src=$3
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp "$src"/translations/flashchat_ko.ts "$src"/translations/flashchat_en.ts "$scratch"/
cd "$src"
# No -no-obsolete here: strings gone from the code must show as vanished and fail the check.
"$lupdate" -locations none -source-language en_US ui app/gui \
  -ts "$scratch"/flashchat_ko.ts "$scratch"/flashchat_en.ts
status=0
for lang in ko en; do
  echo "== flashchat_$lang.ts"
  "$lrelease" "$src/translations/flashchat_$lang.ts" -qm "$scratch/flashchat_$lang.qm" | tee "$scratch/stats"
  grep -qE 'Generated [0-9]+ translation\(s\) \([0-9]+ finished and 0 unfinished\)' "$scratch/stats" ||
    { echo "FAIL flashchat_$lang.ts: lrelease counts unfinished entries"; status=1; }
  python3 - "$scratch/flashchat_$lang.ts" "$src/translations/flashchat_$lang.ts" "$lang" <<'PY' || status=1
import re, sys, xml.etree.ElementTree as ET
updated, committed, lang = sys.argv[1], sys.argv[2], sys.argv[3]
forms = {"ko": 1, "en": 2}[lang]
placeholder = re.compile(r"%L?[0-9]+|%n")
problems = []
def check(path, what):
    n = 0
    for ctx in ET.parse(path).getroot().iter("context"):
        name = ctx.findtext("name")
        for m in ctx.iter("message"):
            n += 1
            src = m.findtext("source") or ""
            tr = m.find("translation")
            kind = tr.get("type")
            if kind in ("unfinished", "vanished", "obsolete"):
                why = {"unfinished": "missing or unfinished", "vanished": "no longer in the code",
                       "obsolete": "obsolete"}[kind]
                problems.append(f"{what}: {kind} ({why}) in {name}: {src!r}")
                continue
            texts = [f.text or "" for f in tr.findall("numerusform")] if m.get("numerus") == "yes" else [tr.text or ""]
            if m.get("numerus") == "yes" and len(texts) != forms:
                problems.append(f"{what}: {len(texts)} numerus forms (want {forms}) in {name}: {src!r}")
            for t in texts:
                if not t.strip():
                    problems.append(f"{what}: empty translation in {name}: {src!r}")
                elif sorted(set(placeholder.findall(t))) != sorted(set(placeholder.findall(src))):
                    problems.append(f"{what}: placeholders differ in {name}: {src!r} -> {t!r}")
    return n
n_code = check(updated, "code vs .ts")
n_file = check(committed, "committed .ts")
print(f"{lang}: {n_file} entries in the committed file, {n_code} after lupdate over the code, "
      f"{len(problems)} problem(s)")
for p in problems: print("FAIL", p)
sys.exit(1 if problems or n_code != n_file else 0)
PY
done
[ $status -eq 0 ] && echo "translations complete" || echo "translations incomplete: run scripts/update_translations.sh and translate the entries above"
exit $status
