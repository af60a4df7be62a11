"""Text and layout helpers for the Pillow figures: fonts, text bands, stacking.

Text is drawn with DejaVu Sans when the system has it (most Linux desktops do,
and it covers symbols such as "×" and accented letters); otherwise with Pillow's
built-in font. Characters the chosen font cannot draw are replaced by a close
ASCII spelling instead of an empty box.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

BACKGROUND = (255, 255, 255)
INK = (20, 20, 20)
PAD = 4
_SYSTEM_FONT = "DejaVuSans.ttf"
_SPELLINGS = {"×": "x", "−": "-", "–": "-", "—": "-", "→": "->", "≈": "~", "µ": "u", "…": "..."}
_NOT_A_CHARACTER = "\U0010fffd"  # private use: no font draws it, so it shows .notdef


@lru_cache(maxsize=16)
def font(size: int = 12) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans at ``size`` pixels if installed, else Pillow's scalable default."""
    try:
        return ImageFont.truetype(_SYSTEM_FONT, size)
    except OSError:
        return ImageFont.load_default(size=size)


@lru_cache(maxsize=4096)
def _drawable(character: str, size: int) -> bool:
    if character.isspace() or character.isascii():
        return True
    face = font(size)
    missing = face.getmask(_NOT_A_CHARACTER)
    mask = face.getmask(character)
    return mask.size != missing.size or bytes(mask) != bytes(missing)


def printable(text: str, size: int = 13) -> str:
    """``text`` with every character that ``font(size)`` lacks spelled in ASCII."""
    out = []
    for character in text:
        if _drawable(character, size):
            out.append(character)
            continue
        spelled = _SPELLINGS.get(character)
        if spelled is None:
            base = unicodedata.normalize("NFKD", character).encode("ascii", "ignore").decode()
            spelled = base or "?"
        out.append(spelled)
    return "".join(out)


def text_width(text: str, size: int = 13) -> int:
    """Width in pixels of ``text`` as ``draw_text`` draws it."""
    return math.ceil(font(size).getlength(printable(text, size)))


def draw_text(
    draw: ImageDraw.ImageDraw, xy: tuple[int, int], text: str, size: int = 13, fill=INK
) -> None:
    """Draw one line of text with its top-left corner at ``xy``."""
    draw.text(xy, printable(text, size), fill=fill, font=font(size))


def fit_text(text: str, width: int, size: int = 13) -> str:
    """``text`` shortened in the middle with ``...`` so that it fits ``width`` pixels."""
    if text_width(text, size) <= width:
        return text
    keep = len(text)
    while keep > 2:
        keep -= 1
        short = f"{text[: (keep + 1) // 2]}...{text[len(text) - keep // 2 :]}"
        if text_width(short, size) <= width:
            return short
    return text[:1]


def split_text(text: str, width: int, size: int = 13, lines: int = 2) -> list[str]:
    """``text`` broken into exactly ``lines`` lines that fit ``width`` pixels.

    Lines are filled greedily character by character (layer names have no
    spaces to break at); the last line is shortened with ``...`` if needed, and
    unused lines are empty strings.
    """
    out: list[str] = []
    rest = text
    while rest and len(out) < lines - 1 and text_width(rest, size) > width:
        cut = 1
        while cut < len(rest) and text_width(rest[: cut + 1], size) <= width:
            cut += 1
        out.append(rest[:cut])
        rest = rest[cut:]
    out.append(fit_text(rest, width, size) if rest else "")
    return out + [""] * (lines - len(out))


def text_band(lines: Sequence[str], width: int = 0, size: int = 13) -> Image.Image:
    """A white band holding ``lines`` of text, at least ``width`` pixels wide."""
    line_height = size + 5
    width = max([width, *(text_width(line, size) + 2 * PAD for line in lines)])
    band = Image.new("RGB", (width, line_height * len(lines) + 2 * PAD), BACKGROUND)
    draw = ImageDraw.Draw(band)
    for i, line in enumerate(lines):
        draw_text(draw, (PAD, PAD + i * line_height), line, size)
    return band


def fit_width(image: Image.Image, width: int) -> Image.Image:
    """``image`` on a white canvas exactly ``width`` wide (cropped on the right if wider)."""
    canvas = Image.new("RGB", (width, image.size[1]), BACKGROUND)
    canvas.paste(image.convert("RGB"), (0, 0))
    return canvas


def stack(images: Sequence[Image.Image], *, vertical: bool = True, gap: int = 0) -> Image.Image:
    """Paste images one after another, top-aligned or left-aligned, on white."""
    sizes = [image.size for image in images]
    if vertical:
        size = (max(w for w, _ in sizes), sum(h for _, h in sizes) + gap * (len(images) - 1))
    else:
        size = (sum(w for w, _ in sizes) + gap * (len(images) - 1), max(h for _, h in sizes))
    canvas = Image.new("RGB", size, BACKGROUND)
    offset = 0
    for image in images:
        canvas.paste(image.convert("RGB"), (0, offset) if vertical else (offset, 0))
        offset += (image.size[1] if vertical else image.size[0]) + gap
    return canvas


def wrap(pieces: Sequence[Image.Image], width: int, gap: int = 6) -> Image.Image:
    """Lay ``pieces`` left to right, starting a new row before ``width`` is passed."""
    rows, row, used = [], [], 0
    for piece in pieces:
        if row and used + piece.size[0] > width:
            rows.append(stack(row, vertical=False, gap=gap))
            row, used = [], 0
        row.append(piece)
        used += piece.size[0] + gap
    if row:
        rows.append(stack(row, vertical=False, gap=gap))
    return stack(rows, gap=gap) if rows else Image.new("RGB", (width, 1), BACKGROUND)
