"""Draw the sample article images with nothing but zlib and struct.

The PNGs in ``images/`` are committed; this module is how they were made, so they
can be redrawn (``python -m digest.samples._images``) instead of being opaque
binaries. Drawing is deterministic: the same code gives the same bytes, which the
tests check.

Pictures are a muted vertical gradient plus a few anti-aliased circles and lines;
flat areas and smooth gradients keep each file well under 20 KB.
"""

from __future__ import annotations

import itertools
import math
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

WIDTH = 600
HEIGHT = 300

Colour = tuple[int, int, int]


class Canvas:
    """An RGB float framebuffer with coverage-blended shapes."""

    def __init__(self, top: Colour, bottom: Colour) -> None:
        self.pixels: list[list[float]] = []
        for y in range(HEIGHT):
            t = y / (HEIGHT - 1)
            # Rounded per row so each row is flat: the PNG "Up"/"Sub" filters then
            # turn it into runs of zeros that deflate to almost nothing.
            row = [round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)]
            self.pixels.append([float(c) for _ in range(WIDTH) for c in row])

    def _blend(self, x: int, y: int, colour: Colour, alpha: float) -> None:
        if alpha <= 0.0 or not (0 <= x < WIDTH and 0 <= y < HEIGHT):
            return
        alpha = min(alpha, 1.0)
        row = self.pixels[y]
        for i, c in enumerate(colour):
            row[3 * x + i] += (c - row[3 * x + i]) * alpha

    def _cover(
        self, box: tuple[float, float, float, float], colour: Colour, dist: Callable[..., float]
    ) -> None:
        # Coverage is 1 inside, 0 outside and linear over one pixel of edge: cheap
        # anti-aliasing that looks clean at newsletter sizes.
        x0, y0, x1, y1 = box
        for y in range(max(0, int(y0) - 1), min(HEIGHT, int(y1) + 2)):
            for x in range(max(0, int(x0) - 1), min(WIDTH, int(x1) + 2)):
                self._blend(x, y, colour, 0.5 - dist(x + 0.5, y + 0.5))

    def disc(self, cx: float, cy: float, r: float, colour: Colour) -> None:
        self._cover(
            (cx - r, cy - r, cx + r, cy + r),
            colour,
            lambda x, y: math.hypot(x - cx, y - cy) - r,
        )

    def ring(self, cx: float, cy: float, r: float, width: float, colour: Colour) -> None:
        half = width / 2
        self._cover(
            (cx - r - half, cy - r - half, cx + r + half, cy + r + half),
            colour,
            lambda x, y: abs(math.hypot(x - cx, y - cy) - r) - half,
        )

    def line(self, a: tuple[float, float], b: tuple[float, float], width: float, c: Colour) -> None:
        (ax, ay), (bx, by) = a, b
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy or 1.0
        half = width / 2

        def dist(x: float, y: float) -> float:
            t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / length2))
            return math.hypot(x - (ax + t * dx), y - (ay + t * dy)) - half

        box = (min(ax, bx) - half, min(ay, by) - half, max(ax, bx) + half, max(ay, by) + half)
        self._cover(box, c, dist)

    def rect(self, x0: float, y0: float, x1: float, y1: float, colour: Colour) -> None:
        self._cover(
            (x0, y0, x1, y1),
            colour,
            lambda x, y: max(x0 - x, x - x1, y0 - y, y - y1),
        )

    def png(self) -> bytes:
        raw = [bytes(round(v) for v in row) for row in self.pixels]
        return encode_png(raw, WIDTH, HEIGHT)


def _filter_rows(rows: list[bytes], kind: int) -> bytes:
    out = bytearray()
    previous = bytes(len(rows[0]))
    for row in rows:
        out.append(kind)
        if kind == 1:  # Sub: difference to the pixel on the left
            out += bytes((row[i] - (row[i - 3] if i >= 3 else 0)) & 0xFF for i in range(len(row)))
        else:  # Up: difference to the pixel above
            out += bytes((a - b) & 0xFF for a, b in zip(row, previous, strict=True))
        previous = row
    return bytes(out)


def encode_png(rows: list[bytes], width: int, height: int) -> bytes:
    """An 8-bit RGB PNG; whichever of two row filters deflates smaller wins."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    data = min((zlib.compress(_filter_rows(rows, kind), 9) for kind in (1, 2)), key=len)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


# Muted palette, shared so the five pictures read as one family.
INK: Colour = (46, 58, 74)
SLATE: Colour = (92, 110, 130)
SAGE: Colour = (134, 160, 140)
SAND: Colour = (222, 208, 180)
RUST: Colour = (184, 112, 84)
MIST: Colour = (232, 236, 238)


def network() -> Canvas:
    """KI: a small graph of nodes and edges, like a neural network diagram."""
    canvas = Canvas((214, 222, 228), (176, 190, 204))
    layers = [(150, (90, 150, 210)), (300, (60, 120, 180, 240)), (450, (110, 190))]
    for (xa, ya_list), (xb, yb_list) in itertools.pairwise(layers):
        for ya in ya_list:
            for yb in yb_list:
                canvas.line((xa, ya), (xb, yb), 2.0, SLATE)
    for x, ys in layers:
        for y in ys:
            canvas.disc(x, y, 17, INK)
            canvas.disc(x, y, 9, SAND if x != 450 else RUST)
    return canvas


def chip() -> Canvas:
    """Chips: a die with pins and traces running to the edges."""
    canvas = Canvas((56, 70, 84), (34, 44, 56))
    for i in range(9):
        y = 70 + i * 20
        canvas.line((40, y), (200, y), 2.0, SAGE)
        canvas.line((400, y), (560, y), 2.0, SAGE)
        canvas.disc(40, y, 4, SAND)
        canvas.disc(560, y, 4, SAND)
    canvas.rect(200, 50, 400, 250, SLATE)
    canvas.rect(222, 72, 378, 228, INK)
    canvas.rect(262, 112, 338, 188, RUST)
    return canvas


def robot() -> Canvas:
    """Robotik: a jointed arm over a work surface."""
    canvas = Canvas(MIST, (200, 206, 204))
    canvas.rect(0, 250, 600, 300, SLATE)
    canvas.rect(150, 225, 250, 252, INK)
    joints = [(200, 220), (250, 130), (370, 95), (440, 150)]
    for a, b in itertools.pairwise(joints):
        canvas.line(a, b, 20.0, INK)
    for x, y in joints:
        canvas.disc(x, y, 16, RUST)
        canvas.disc(x, y, 6, SAND)
    canvas.line((440, 150), (425, 185), 6.0, INK)
    canvas.line((440, 150), (462, 182), 6.0, INK)
    canvas.rect(405, 205, 485, 250, SAGE)
    return canvas


def waves() -> Canvas:
    """Forschung: stacked sine curves, as on a measurement plot."""
    canvas = Canvas((236, 232, 222), (214, 206, 190))
    for k, colour in enumerate((SLATE, SAGE, RUST)):
        base = 90 + k * 60
        amplitude = 38 - k * 9
        points = [
            (float(x), base + amplitude * math.sin(x / (46 + 14 * k) + k)) for x in range(0, 601, 6)
        ]
        for a, b in itertools.pairwise(points):
            canvas.line(a, b, 4.0, colour)
    return canvas


def city() -> Canvas:
    """Mobilität: a skyline at dusk and a road running into the distance."""
    canvas = Canvas((196, 178, 168), (104, 118, 140))
    canvas.disc(470, 90, 36, SAND)
    for x, w, h in ((30, 60, 110), (100, 40, 150), (150, 70, 90), (230, 50, 170), (290, 80, 120)):
        canvas.rect(x, 210 - h, x + w, 210, SLATE)
    for x, w, h in ((380, 45, 140), (430, 70, 100), (510, 60, 160)):
        canvas.rect(x, 210 - h, x + w, 210, INK)
    canvas.rect(0, 210, 600, 300, (70, 80, 92))
    canvas.line((300, 212), (150, 300), 4.0, MIST)
    canvas.line((300, 212), (450, 300), 4.0, MIST)
    for i in range(4):
        y0 = 218 + i * 20
        canvas.line((300, y0), (300, y0 + 9 + 2 * i), 2.0 + i, SAND)
    return canvas


PICTURES: dict[str, Callable[[], Canvas]] = {
    "network.png": network,
    "chip.png": chip,
    "robot.png": robot,
    "waves.png": waves,
    "city.png": city,
}


def draw_all(folder: Path) -> list[Path]:
    """(Re)write every picture into folder and return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in PICTURES.items():
        path = folder / name
        path.write_bytes(draw().png())
        written.append(path)
    return written


if __name__ == "__main__":
    for path in draw_all(Path(__file__).parent / "images"):
        print(f"{path.name}: {path.stat().st_size} bytes")
