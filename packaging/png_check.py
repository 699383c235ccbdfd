"""Is a PNG a real picture, not a blank one? Standard library only (it never imports the bundle or the venv).

    python3 packaging/png_check.py FILE [--min-size WxH] [--region X0,Y0,X1,Y1] [--min-colours N] [--min-std S]

Decodes the PNG (8-bit grey/RGB/RGBA, not interlaced: what Qt and Pillow write), then checks, over the whole
picture and, with --region (fractions of width and height), over that part of it: the number of distinct colours
and the standard deviation of the grey levels. Prints what it measured; exit 1 when a check fails.
"""
from __future__ import annotations

import argparse
import struct
import sys
import zlib

CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}     # colour type -> samples per pixel


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def decode(path: str) -> tuple[int, int, int, list[bytes]]:
    """(width, height, channels, rows of raw samples)."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, head = 8, [], None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + n
    if head is None:
        raise ValueError("no IHDR")
    w, h, depth, ctype, _, _, interlace = head
    if depth != 8 or ctype not in CHANNELS or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, colour type {ctype}, interlace {interlace})")
    ch = CHANNELS[ctype]
    raw = zlib.decompress(b"".join(idat))
    stride = w * ch
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        cur = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(ch, stride):
                cur[i] = (cur[i] + cur[i - ch]) & 255
        elif f == 2:
            cur = bytearray((a + b) & 255 for a, b in zip(cur, prev))
        elif f == 3:
            for i in range(stride):
                cur[i] = (cur[i] + (((cur[i - ch] if i >= ch else 0) + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = cur[i - ch] if i >= ch else 0
                c = prev[i - ch] if i >= ch else 0
                cur[i] = (cur[i] + _paeth(a, prev[i], c)) & 255
        rows.append(bytes(cur))
        prev = cur
    return w, h, ch, rows


def measure(w: int, ch: int, rows: list[bytes], x0: int, x1: int) -> tuple[int, float]:
    """(distinct colours, std of grey level) over rows[:, x0:x1]."""
    colours, n, s, s2 = set(), 0, 0.0, 0.0
    for row in rows:
        for x in range(x0, x1, 2):                 # every other pixel and row: plenty for these checks
            px = row[x * ch:(x + 1) * ch]
            colours.add(px)
            g = sum(px[:3]) / min(ch, 3)
            n, s, s2 = n + 1, s + g, s2 + g * g
    mean = s / max(n, 1)
    return len(colours), max(s2 / max(n, 1) - mean * mean, 0.0) ** 0.5


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="png_check.py")
    ap.add_argument("file")
    ap.add_argument("--min-size", default="8x8", help="WxH the picture must at least be")
    ap.add_argument("--region", default=None, help="X0,Y0,X1,Y1 as fractions of the picture, checked as well")
    ap.add_argument("--min-colours", type=int, default=16)
    ap.add_argument("--min-std", type=float, default=8.0)
    args = ap.parse_args(argv)
    try:
        w, h, ch, rows = decode(args.file)
    except (OSError, ValueError, zlib.error) as exc:
        print(f"{args.file}: FAIL: {exc}")
        return 1
    mw, mh = (int(v) for v in args.min_size.lower().split("x"))
    ok = w >= mw and h >= mh
    parts = [f"{w}x{h}"]
    areas = [("whole", 0, 0, w, h)]
    if args.region:
        fx0, fy0, fx1, fy1 = (float(v) for v in args.region.split(","))
        areas.append(("region", int(fx0 * w), int(fy0 * h), int(fx1 * w), int(fy1 * h)))
    for name, x0, y0, x1, y1 in areas:
        colours, std = measure(w, ch, rows[y0:y1:2], x0, x1)
        ok = ok and colours >= args.min_colours and std >= args.min_std
        parts.append(f"{name}: {colours} colours, grey std {std:.1f}")
    print(f"{args.file}: {'ok' if ok else 'FAIL'}: " + "; ".join(parts))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
