"""System checks for what the PDFs need from the machine (WeasyPrint facts measured here)."""

from __future__ import annotations

import shutil
import subprocess

from django.core.checks import Error, register


@register()
def check_pdf_toolchain(app_configs=None, **kwargs):
    problems = []
    try:
        from weasyprint.text import ffi
    except Exception as exc:  # pragma: no cover - only on a broken machine
        return [Error(f"WeasyPrint 无法加载：{exc}", hint="安装 WeasyPrint 所需的 Pango 库（Debian: libpango-1.0-0）。", id="yidi.E001")]
    if getattr(ffi, "harfbuzz_subset", None) is None:
        problems.append(
            Error(
                "缺少 HarfBuzz 字体子集库：每页中文 PDF 将耗时约15秒而不是0.4秒。",
                hint="安装 Debian 软件包 libharfbuzz-subset0（apt-get install libharfbuzz-subset0）。",
                id="yidi.E002",
            )
        )
    if shutil.which("fc-list"):
        found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False).stdout
        if "Noto Serif CJK SC" not in found and "Noto Sans CJK SC" not in found:
            problems.append(
                Error(
                    "没有找到 Noto CJK 中文字体，PDF 中的汉字将无法显示。",
                    hint="安装 fonts-noto-cjk（apt-get install fonts-noto-cjk）后运行 fc-cache -f。",
                    id="yidi.E003",
                )
            )
    return problems


@register()
def check_home_province(app_configs=None, **kwargs):
    """YIDI_HOME_PROVINCE must name a province whose prefecture-level cities are known."""
    from django.conf import settings

    from core.reference import city_rows, province_rows

    code = settings.YIDI_HOME_PROVINCE
    if code not in {row[0] for row in province_rows()}:
        return [Error(f"YIDI_HOME_PROVINCE={code} 不是省级行政区划代码（GB/T 2260，如 320000、360000、650000）。", id="yidi.E010")]
    if not any(row[0][:2] == code[:2] for row in city_rows()):
        return [Error(f"YIDI_HOME_PROVINCE={code}：该省级区划没有地级行政区，不能作为部署省份。", id="yidi.E011")]
    return []


@register()
def check_field_keys(app_configs=None, **kwargs):
    """The encryption keys parse (every start); production names its own (check --deploy)."""
    from django.core.exceptions import ImproperlyConfigured

    from core import crypto

    try:
        crypto.keyring()
    except ImproperlyConfigured as exc:
        return [Error(f"加密密钥配置有误：{exc}", hint="每个密钥为32字节随机数的 base64：manage.py rotate_field_keys --new-key 可生成。",
                      id="yidi.E020")]
    return []


@register(deploy=True)
def check_field_keys_deploy(app_configs=None, **kwargs):
    from django.conf import settings

    missing = [name for name in ("YIDI_FIELD_KEYS", "YIDI_BLIND_INDEX_KEY") if not getattr(settings, name, "")]
    if missing:
        return [Error(
            f"生产环境须设置 {'、'.join(missing)}：否则身份证号和银行账号用公开的开发密钥加密，等于没有加密。",
            hint="用 manage.py rotate_field_keys --new-key 生成密钥，写入环境变量（见 docs/security.md）。",
            id="yidi.E021",
        )]
    return []
