#!/usr/bin/env bash
# Refreshes translations/flashchat_{ko,en}.ts from the GUI sources (ui/, app/gui/) with Qt 6's
# lupdate: new tr() strings arrive as unfinished entries, strings gone from the code are dropped
# (-no-obsolete), and the statistics are printed. Translate the new entries with Qt Linguist
# (`linguist translations/flashchat_ko.ts`) or by editing the XML, then run
# `ctest -R translations_complete` (it fails while any entry is unfinished or missing).
set -euo pipefail
cd "$(dirname "$0")/.."
qt_bin=$(qtpaths6 --query QT_HOST_BINS 2>/dev/null || echo /usr/lib/qt6/bin)
lupdate="$qt_bin/lupdate"
[ -x "$lupdate" ] || { echo "update_translations: no Qt 6 lupdate at $lupdate (apt install qt6-l10n-tools)" >&2; exit 1; }
"$lupdate" -locations none -no-obsolete -source-language en_US ui app/gui \
  -ts translations/flashchat_ko.ts translations/flashchat_en.ts "$@"
for ts in translations/flashchat_ko.ts translations/flashchat_en.ts; do
  echo "$ts: $(grep -c 'type="unfinished"' "$ts" || true) unfinished"
done
