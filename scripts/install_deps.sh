#!/usr/bin/env bash
# Installs the Debian 12 packages FlashChat needs to build, test and run (only the missing ones).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  qt6-base-dev qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools
  libqcustomplot-dev libqcustomplot2.1-qt6
  libeigen3-dev libtbb-dev libsqlite3-dev nlohmann-json3-dev liburing-dev libcli11-dev libicu-dev zlib1g-dev
  clang-14 libclang-rt-14-dev
  python3-numpy fio
  # the .deb and its test (packaging/): dpkg-shlibdeps, desktop entry / AppStream / man checks
  dpkg-dev desktop-file-utils appstream groff-base fonts-noto-cjk qt6-qpa-plugins
  # Qt's own strings (standard buttons, file dialogs) in Korean
  qt6-translations-l10n
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
