"""Draw the app icons (a white coin with a star on the brand blue) as PNGs, with zlib only.

Run ``python static/icons/generate.py`` after changing the design; the PNGs are committed.
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

BRAND = (11, 92, 173)
WHITE = (255, 255, 255)
HERE = Path(__file__).resolve().parent
SAMPLES = 3  # supersampling per axis, for smooth edges


def _star(cx: float, cy: float, outer: float, inner: float) -> list[tuple[float, float]]:
    return [
        (
            cx + (outer if i % 2 == 0 else inner) * math.sin(i * math.pi / 5),
            cy - (outer if i % 2 == 0 else inner) * math.cos(i * math.pi / 5),
        )
        for i in range(10)
    ]


def _inside(x: float, y: float, polygon) -> bool:
    inside = False
    for (x1, y1), (x2, y2) in zip(polygon, polygon[1:] + polygon[:1]):
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def _colour(u: float, v: float, scale: float, rounded: bool) -> tuple[int, int, int, int]:
    """Colour at (u, v) in [0, 1]²; ``scale`` shrinks the art into a maskable safe zone."""
    if rounded:  # a rounded square, transparent outside
        r, edge = 0.18, 0.5 - 0.18
        dx, dy = max(abs(u - 0.5) - edge, 0), max(abs(v - 0.5) - edge, 0)
        if dx * dx + dy * dy > r * r:
            return (0, 0, 0, 0)
    d = math.hypot(u - 0.5, v - 0.5) / scale
    if 0.30 <= d <= 0.36 or _inside((u - 0.5) / scale, (v - 0.5) / scale, STAR):
        return (*WHITE, 255)
    return (*BRAND, 255)


STAR = _star(0, 0.015, 0.22, 0.09)


def draw(size: int, *, scale: float = 1.0, rounded: bool = True) -> bytes:
    rows = []
    for y in range(size):
        row = bytearray([0])  # filter type None
        for x in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    c = _colour((x + (sx + 0.5) / SAMPLES) / size, (y + (sy + 0.5) / SAMPLES) / size, scale, rounded)
                    for i in range(4):
                        acc[i] += c[i]
            row += bytes(round(a / SAMPLES**2) for a in acc)
        rows.append(bytes(row))
    return _png(size, b"".join(rows))


def _png(size: int, raw: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


if __name__ == "__main__":
    (HERE / "icon-192.png").write_bytes(draw(192))
    (HERE / "icon-512.png").write_bytes(draw(512))
    # Maskable: full bleed, the art inside the central 80 % safe zone.
    (HERE / "icon-maskable-512.png").write_bytes(draw(512, scale=0.8, rounded=False))
