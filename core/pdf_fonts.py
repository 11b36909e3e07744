"""Small CJK font subsets in WeasyPrint's PDFs.

WeasyPrint subsets every embedded font with HarfBuzz but keeps the original glyph ids
(`HB_SUBSET_FLAGS_RETAIN_GIDS`), because its content streams address glyphs by those ids (they are
the CIDs of the Identity-H encoding). It then trims only the ids above the highest one drawn. Noto
CJK (a CID-keyed CFF font, fontconfig picks it from the .ttc collections) has 40,000–65,000 glyphs
and the ideographs sit high up, so the subset of a one-page notice still has a CFF CharStrings INDEX
entry for nearly every glyph of the font: each dropped glyph is a one-byte `endchar` with its own
2-byte offset. Those steadily increasing offsets are what deflate cannot shrink: ~80 KB per font in
the PDF, four fonts (宋体/黑体, regular/bold) make the ~420 KB one-page notice. The hmtx/vmtx tables
of the same fonts are as long but all zeros for the dropped glyphs, and compress to a few hundred
bytes; the full_fonts, hinting and optimize_images options of `write_pdf` do not touch any of this.

A glyph that is never drawn needs no program at all: `compact_cff_font` gives every dropped glyph a
zero-length CharStrings entry, so the offsets become long runs of one value (a few bytes once
deflated). The drawn glyphs keep their exact programs and ids, so the rendering, the widths and the
text extraction are unchanged. The INDEX is rewritten in place and the bytes it no longer needs are
zeroed, so no other offset in the font moves; the checksums are updated.

Why not fontTools' subsetter with `retain_gids` (it is installed, WeasyPrint needs it): it decompiles
the whole font in Python — measured 1.8 s for one Noto Serif CJK face, four faces per notice —
where this rewrite of one INDEX costs ~15 ms per document.

`compact_embedded_fonts` is a WeasyPrint *finisher* (a documented `write_pdf` hook that receives the
document and the pydyf PDF before it is written): it rewrites the embedded CFF font streams.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterable

logger = logging.getLogger(__name__)

_CHARSTRINGS = 17  # Top DICT operator
_CHARSTRING_TYPE = 1206  # 12 6
_ROS = 1230  # 12 30: the font is CID-keyed


class _NotCompactable(ValueError):
    pass


def _u16(data: bytes, pos: int) -> int:
    return int.from_bytes(data[pos : pos + 2], "big")


def _index_entries(data: bytes, pos: int) -> tuple[list[tuple[int, int]], int]:
    """The (start, end) of each object of the CFF INDEX at `pos`, and where the INDEX ends."""
    count = _u16(data, pos)
    if count == 0:
        return [], pos + 2
    size = data[pos + 2]
    if not 1 <= size <= 4:
        raise _NotCompactable(f"offset size {size}")
    first = pos + 3
    base = first + (count + 1) * size - 1
    offsets = [int.from_bytes(data[first + i * size : first + (i + 1) * size], "big") for i in range(count + 1)]
    return [(base + a, base + b) for a, b in zip(offsets[:-1], offsets[1:], strict=True)], base + offsets[-1]


def _dict_operators(data: bytes) -> dict[int, list[float]]:
    """The operators of a CFF DICT with their operands (Technote #5176, section 4)."""
    result: dict[int, list[float]] = {}
    operands: list[float] = []
    i = 0
    while i < len(data):
        b0 = data[i]
        if b0 <= 21:
            if b0 == 12:
                operator, i = 1200 + data[i + 1], i + 2
            else:
                operator, i = b0, i + 1
            result[operator], operands = operands, []
        elif b0 == 28:
            operands.append(int.from_bytes(data[i + 1 : i + 3], "big", signed=True))
            i += 3
        elif b0 == 29:
            operands.append(int.from_bytes(data[i + 1 : i + 5], "big", signed=True))
            i += 5
        elif b0 == 30:  # real number: nibbles up to the 0xf terminator (its value is not needed here)
            i += 1
            while (data[i] >> 4) != 0xF and (data[i] & 0xF) != 0xF:
                i += 1
            i += 1
            operands.append(0.0)
        elif 32 <= b0 <= 246:
            operands.append(b0 - 139)
            i += 1
        elif 247 <= b0 <= 250:
            operands.append((b0 - 247) * 256 + data[i + 1] + 108)
            i += 2
        elif 251 <= b0 <= 254:
            operands.append(-(b0 - 251) * 256 - data[i + 1] - 108)
            i += 2
        else:
            raise _NotCompactable(f"reserved DICT byte {b0}")
    return result


def _compact_cff_table(cff: bytes, keep: set[int]) -> tuple[bytes, int, int]:
    """The table with the dropped glyphs' charstrings emptied, and the span of bytes that changed."""
    if cff[0] != 1:
        raise _NotCompactable(f"CFF major version {cff[0]}")
    _, after_names = _index_entries(cff, cff[2])
    top_dicts, _ = _index_entries(cff, after_names)
    if len(top_dicts) != 1:
        raise _NotCompactable(f"{len(top_dicts)} fonts in one CFF")
    start, end = top_dicts[0]
    top = _dict_operators(cff[start:end])
    if top.get(_CHARSTRING_TYPE, [2]) != [2] or _CHARSTRINGS not in top:
        raise _NotCompactable("not Type 2 charstrings")
    pos = int(top[_CHARSTRINGS][0])
    count = _u16(cff, pos)
    size = cff[pos + 2]
    if count == 0 or not 1 <= size <= 4:
        raise _NotCompactable("empty CharStrings INDEX")
    first = pos + 3
    base = first + (count + 1) * size - 1

    def offset(i: int) -> int:
        return int.from_bytes(cff[first + i * size : first + (i + 1) * size], "big")

    old_end = base + offset(count)
    offsets = bytearray()
    data = bytearray()
    current, written = 1, 0
    for gid in sorted({0, *(g for g in keep if 0 <= g < count)}):
        offsets += current.to_bytes(size, "big") * (gid - written + 1)
        program = cff[base + offset(gid) : base + offset(gid + 1)]
        data += program
        current += len(program)
        written = gid + 1
    offsets += current.to_bytes(size, "big") * (count - written + 1)
    index = cff[pos : pos + 3] + offsets + data
    result = bytearray(cff)
    result[pos : pos + len(index)] = index
    result[pos + len(index) : old_end] = bytes(old_end - pos - len(index))
    return bytes(result), pos, old_end


def _checksum(data: bytes | bytearray) -> int:
    """OpenType checksum: the sum of the big-endian 32-bit words, zero-padded, modulo 2**32."""
    padded = bytes(data) + bytes(-len(data) % 4)
    return sum(struct.unpack(f">{len(padded) // 4}I", padded)) & 0xFFFFFFFF


def compact_cff_font(font: bytes, keep: Iterable[int]) -> bytes:
    """`font` (an OpenType font) with every CFF glyph outside `keep` (and .notdef) emptied.

    Glyph ids do not change. A TrueType-outline font, a font this code cannot read, or anything
    unexpected is returned unchanged (WeasyPrint's own subset is still valid, only bigger).
    """
    if font[:4] != b"OTTO":
        return font
    try:
        tables = {}
        for entry in range(12, 12 + 16 * _u16(font, 4), 16):
            offset, length = struct.unpack(">II", font[entry + 8 : entry + 16])
            tables[font[entry : entry + 4]] = (entry, offset, length)
        entry, offset, length = tables[b"CFF "]
        if offset % 4:
            raise _NotCompactable("CFF table not on a 4-byte boundary")
        old = font[offset : offset + length]
        compact, changed_from, changed_to = _compact_cff_table(old, set(keep))
    except (_NotCompactable, KeyError, IndexError, struct.error) as error:
        logger.warning("PDF font left as WeasyPrint subset it (%s)", error)
        return font
    # The checksums change by what the changed words add up to (the rest of a ~1 MB font is not
    # summed again): the table's own by `delta`, the whole file's by 2 × delta (the table's words
    # and its checksum in the directory), which head.checkSumAdjustment makes up for.
    span = slice(changed_from & ~3, changed_to + 3 & ~3)
    delta = _checksum(compact[span]) - _checksum(old[span])
    result = bytearray(font)
    result[offset : offset + length] = compact
    table_checksum = int.from_bytes(font[entry + 4 : entry + 8], "big")
    result[entry + 4 : entry + 8] = ((table_checksum + delta) & 0xFFFFFFFF).to_bytes(4, "big")
    if b"head" in tables:
        head = tables[b"head"][1]
        adjustment = int.from_bytes(font[head + 8 : head + 12], "big")
        result[head + 8 : head + 12] = ((adjustment - 2 * delta) & 0xFFFFFFFF).to_bytes(4, "big")
    return bytes(result)


def compact_embedded_fonts(document, pdf) -> None:
    """WeasyPrint finisher: shrink every embedded CFF font subset to the glyphs the pages draw."""
    import pydyf

    drawn: dict[str, set[int]] = {}
    by_content: dict[int, str] = {}
    in_forms = {font.hash for font in document.fonts.values() if font.used_in_forms}
    for font in document.fonts.values():
        if font.hash in in_forms:  # a form field may type any glyph: WeasyPrint embeds the whole font
            continue
        drawn.setdefault(font.hash, set()).update(font.widths, font.to_unicode)
        by_content[id(font.file_content)] = font.hash
    for pdf_object in pdf.objects:
        if not isinstance(pdf_object, pydyf.Stream) or pdf_object.extra.get("Subtype") != "/OpenType":
            continue
        if len(pdf_object.stream) == 1 and id(pdf_object.stream[0]) in by_content:
            pdf_object.stream = [compact_cff_font(pdf_object.stream[0], drawn[by_content[id(pdf_object.stream[0])]])]
