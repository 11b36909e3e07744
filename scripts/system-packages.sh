#!/usr/bin/env bash
# Installs the Debian packages Yidi needs beyond Python, when they are missing:
#   fonts-noto-cjk        Chinese glyphs in the PDFs
#   libharfbuzz-subset0   font subsetting (without it a Chinese PDF page takes ~15 s instead of ~0.4 s)
#   poppler-utils         pdftotext/pdftoppm, used by tests that read PDFs back
#   chromium              browser tests (only with --browser)
# As root it installs them with apt; otherwise it says exactly what to run.
# Then it refreshes the font cache so the first PDF does not wait for it.
set -euo pipefail

want=(fonts-noto-cjk libharfbuzz-subset0 poppler-utils fontconfig)
if [[ "${1:-}" == "--browser" ]]; then want+=(chromium); fi

missing=()
for pkg in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "==> 安装系统软件包：${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "!! 缺少系统软件包：${missing[*]}" >&2
    echo "!! 请以 root 身份运行：apt-get install -y ${missing[*]}" >&2
    if printf '%s\n' "${missing[@]}" | grep -qv '^chromium$'; then exit 1; fi
  fi
fi

if command -v fc-cache >/dev/null; then
  fc-cache -f >/dev/null 2>&1 || true
fi
