#!/usr/bin/env python3
"""Checks a PNG screenshot of a report: not blank, and every given colour
covers at least MIN pixels. Standard library only (zlib), so CI needs no
imaging package.
Usage: check_screenshot.py FILE.png MIN '#1f77b4' '#ff7f0e' ..."""
import struct
import sys
import zlib


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG")
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour_type = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    if depth != 8 or colour_type not in (2, 6):
        sys.exit(f"{path}: expected 8-bit RGB or RGBA, got depth {depth} type {colour_type}")
    channels = 3 if colour_type == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):  # undo the PNG row filter
            left = line[i - channels] if i >= channels else 0
            up, up_left = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else up_left)) & 255
        rows.append(line)
        previous = line
    return width, height, channels, rows


def main(argv):
    path, minimum, colours = argv[0], int(argv[1]), argv[2:]
    width, height, channels, rows = read_png(path)
    wanted = {tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)): 0 for c in colours}
    not_white = 0
    for line in rows:
        for x in range(0, len(line), channels):
            pixel = (line[x], line[x + 1], line[x + 2])
            if pixel != (255, 255, 255):
                not_white += 1
            if pixel in wanted:
                wanted[pixel] += 1
    failed = False
    share = not_white / (width * height)
    print(f"{path}: {width}x{height}, {100 * share:.1f}% not white")
    if share < 0.02:
        print("FAIL: the page is (nearly) blank")
        failed = True
    for colour, count in zip(colours, wanted.values()):
        print(f"  {colour}: {count} pixels")
        if count < minimum:
            print(f"FAIL: {colour} covers fewer than {minimum} pixels")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
