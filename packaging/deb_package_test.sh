#!/usr/bin/env bash
# deb_package_test.sh BUILD_DIR - the Debian package works: from an already built Release tree,
# `cpack -G DEB` builds the .deb (into a scratch folder); its control data has a shlibdeps-made
# Depends plus the Qt platform plugins and the CJK font; it holds the programs, the desktop entry,
# icon, metainfo, man pages, default model and calibration text, each valid; unpacked with
# `dpkg-deb -x` into a scratch root, the programs run from there, find the packaged default model
# (not the build or source tree) and need nothing from the build tree.
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(realpath "$(mktemp -d)")
trap 'rm -rf "$scratch"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

start_ms=$(($(date +%s%N) / 1000000))
(cd "$build" && cpack -G DEB -B "$scratch/out" >"$scratch/cpack.log" 2>&1) ||
  { cat "$scratch/cpack.log"; fail "cpack -G DEB failed"; }
debs=("$scratch"/out/*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "cpack made no single .deb: ${debs[*]}"
deb=${debs[0]}
echo "built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB) in $(($(date +%s%N) / 1000000 - start_ms)) ms"

# Control data.
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
depend_names=$(echo "$depends" | tr ',|' '\n\n' | sed -E 's/^ *([^ ]+).*/\1/')
for need in libc6 libstdc++6 libqt6core6 libqt6widgets6 libtbb12 liburing2 qt6-qpa-plugins fonts-noto-cjk; do
  grep -qxF "$need" <<<"$depend_names" || fail "Depends lacks $need"
done
version=$(dpkg-deb -f "$deb" Version)
[ "$(dpkg-deb -f "$deb" Architecture)" = "$(dpkg --print-architecture)" ] || fail "wrong Architecture"

# Contents, unpacked into a scratch root.
root=$scratch/root
dpkg-deb -x "$deb" "$root"
for f in usr/bin/flashchat usr/bin/flashchat-cli usr/share/applications/flashchat.desktop \
         usr/share/icons/hicolor/scalable/apps/flashchat.svg \
         usr/share/metainfo/io.github.flashchat.FlashChat.metainfo.xml \
         usr/share/man/man1/flashchat.1.gz usr/share/man/man1/flashchat-cli.1.gz \
         usr/share/flashchat/calib/default.txt; do
  [ -s "$root/$f" ] || fail "package lacks $f"
done
diff -r "$src/resources/models/default" "$root/usr/share/flashchat/models/default" >/dev/null ||
  fail "packaged default model differs from resources/models/default"
cmp -s "$src/resources/calib/default.txt" "$root/usr/share/flashchat/calib/default.txt" ||
  fail "packaged calibration text differs from resources/calib/default.txt"
desktop-file-validate "$root/usr/share/applications/flashchat.desktop" || fail "desktop entry invalid"
appstreamcli validate --no-net "$root/usr/share/metainfo/io.github.flashchat.FlashChat.metainfo.xml" \
  >"$scratch/as.log" 2>&1 || { cat "$scratch/as.log"; fail "metainfo invalid"; }
python3 -c 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); sys.exit(r.tag != "{http://www.w3.org/2000/svg}svg")' \
  "$root/usr/share/icons/hicolor/scalable/apps/flashchat.svg" || fail "icon is not an SVG document"
for page in flashchat flashchat-cli; do
  warnings=$(zcat "$root/usr/share/man/man1/$page.1.gz" | groff -man -Tutf8 -ww -z 2>&1)
  [ -z "$warnings" ] || fail "$page.1 renders with warnings: $warnings"
done

# The programs need no library from the build tree and none is missing.
for exe in flashchat flashchat-cli; do
  libs=$(env -u LD_LIBRARY_PATH ldd "$root/usr/bin/$exe")
  echo "$libs" | grep -q "not found" && fail "$exe: missing libraries: $(echo "$libs" | grep 'not found')"
  echo "$libs" | grep -qF "$build" && fail "$exe links a library from the build tree"
  [ -z "$(readelf -d "$root/usr/bin/$exe" | grep -E 'RPATH|RUNPATH')" ] || fail "$exe has an RPATH/RUNPATH"
done

# Run from the scratch root, with no environment pointing at resources or models.
run() { env -u LD_LIBRARY_PATH -u FLASHCHAT_RESOURCES -u FLASHCHAT_MODEL "$@"; }
cli_version=$(run "$root/usr/bin/flashchat-cli" --version)
[ "$cli_version" = "flashchat-cli ${version%-*}" ] || fail "flashchat-cli --version says '$cli_version', package is $version"
gui_version=$(run env QT_QPA_PLATFORM=offscreen "$root/usr/bin/flashchat" --version)
[ "$gui_version" = "FlashChat ${version%-*}" ] || fail "flashchat --version says '$gui_version', package is $version"

run "$root/usr/bin/flashchat-cli" generate -n 8 --temp 0 -p "The old man walked along the river" \
  >"$scratch/gen.out" 2>"$scratch/gen.err" || { cat "$scratch/gen.err"; fail "flashchat-cli generate failed"; }
grep -qF "model: $root/usr/share/flashchat/models/default " "$scratch/gen.err" ||
  { cat "$scratch/gen.err"; fail "generate did not use the packaged default model"; }
generated=$(sed -nE 's/.*generated: ([0-9]+) tokens.*/\1/p' "$scratch/gen.err")
[ -n "$generated" ] && [ "$generated" -ge 1 ] && [ "$generated" -le 8 ] ||
  { cat "$scratch/gen.err"; fail "generate -n 8 made '$generated' tokens"; }
[ -n "$(tr -d '[:space:]' <"$scratch/gen.out")" ] || fail "generate wrote no text"
grep -q "^mode: flash " "$scratch/gen.err" || { cat "$scratch/gen.err"; fail "generate did not run in flash mode"; }
echo "generate -n 8 from the package: $generated tokens: $(tr '\n' ' ' <"$scratch/gen.out")"
echo "ok: $cli_version, $gui_version, package $version runs from $root"
