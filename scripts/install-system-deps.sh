#!/usr/bin/env bash
# Installs the system packages docflow needs when they are missing (Debian/Ubuntu).
#   scripts/install-system-deps.sh          runtime: Tesseract OCR with English data, and the
#                                           German, French, Dutch, Spanish and Italian data that
#                                           pages in those languages are read again with
#   scripts/install-system-deps.sh --test   also Chromium (browser tests) and qpdf
set -euo pipefail

packages=()
command -v tesseract >/dev/null 2>&1 || packages+=(tesseract-ocr)
installed_langs="$(tesseract --list-langs 2>/dev/null || true)"
for lang in eng deu fra nld spa ita; do
  grep -qx "$lang" <<<"$installed_langs" || packages+=("tesseract-ocr-$lang")
done
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
