#!/usr/bin/env bash
# Installs the Debian packages Yidi needs beyond its Python and npm packages, when missing:
#   python3-venv                     the virtualenv (Debian's python3 lacks ensurepip without it)
#   nodejs, npm                      `npm ci` installs Bootstrap, htmx and Chart.js, served locally
#   libpango-1.0-0, libpangoft2-1.0-0  WeasyPrint's text layout
#   fonts-noto-cjk, fontconfig       Chinese glyphs in the PDFs
#   libharfbuzz-subset0              font subsetting (without it a Chinese PDF page takes ~15 s, not ~0.4 s)
#   poppler-utils                    pdftotext/pdftoppm, used by tests that read PDFs back
#   chromium                         browser tests (only with --browser)
# As root it installs them with apt; otherwise it prints the exact apt-get line.
# Then it refreshes the font cache so the first PDF does not wait for it.
set -euo pipefail

python=${PYTHON:-$(command -v python3.11 || command -v python3 || true)}
want=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
need_pkg() { have_pkg "$1" || want+=("$1"); }

if [[ -z "$python" ]] || ! "$python" -c "import ensurepip, venv" >/dev/null 2>&1; then want+=(python3-venv); fi
command -v npm >/dev/null || want+=(nodejs npm)
ldconfig -p 2>/dev/null | grep -q "libpango-1.0.so" || want+=(libpango-1.0-0)
ldconfig -p 2>/dev/null | grep -q "libpangoft2-1.0.so" || want+=(libpangoft2-1.0-0)
for pkg in fonts-noto-cjk fontconfig libharfbuzz-subset0 poppler-utils; do need_pkg "$pkg"; done
if [[ "${1:-}" == "--browser" ]] && [[ ! -x /usr/bin/chromium ]]; then want+=(chromium); fi

if ((${#want[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "==> 安装系统软件包：${want[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
  else
    echo "!! 缺少系统软件包：${want[*]}" >&2
    echo "!! 请以 root 身份运行：apt-get install -y ${want[*]}" >&2
    # Only the browser is optional (its tests skip with a reason outside CI).
    if printf '%s\n' "${want[@]}" | grep -qv '^chromium$'; then exit 1; fi
  fi
fi

if command -v fc-cache >/dev/null; then
  fc-cache -f >/dev/null 2>&1 || true
fi
