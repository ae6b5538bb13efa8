#!/usr/bin/env bash
# Installs the system packages docflow needs when they are missing (Debian/Ubuntu).
#   scripts/install-system-deps.sh          runtime: Tesseract OCR with English data
#   scripts/install-system-deps.sh --test   also Chromium (browser tests) and qpdf
set -euo pipefail

packages=()
command -v tesseract >/dev/null 2>&1 || packages+=(tesseract-ocr tesseract-ocr-eng)
if [ "${1:-}" = "--test" ]; then
  command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || packages+=(chromium)
  command -v pdftotext >/dev/null 2>&1 || packages+=(poppler-utils)
fi
[ ${#packages[@]} -eq 0 ] && exit 0

echo "installing system packages: ${packages[*]}" >&2
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: apt-get not found; install these packages by hand: ${packages[*]}" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "error: run as root or install sudo (needed: ${packages[*]})" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q --no-install-recommends "${packages[@]}" >/dev/null
echo "system packages installed" >&2
