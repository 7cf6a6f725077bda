"""ant-map's SVG as a browser draws it: headless Chromium takes a
screenshot of the map of a known heap, and the pixels where the scale puts
each block, the wilderness and a damaged block's mark have their colours.
Chromium is required (Debian's package chromium, which .ci/run installs):
without it this test fails.
"""
import os
import shutil
import struct
import subprocess
import tempfile
import unittest
import zlib

import gdbpath  # noqa: F401
import heapimage as H
from antgdb import svgmap
from antgdb.sites import Sites

BROWSERS = ("chromium", "chromium-browser")
TOLERANCE = 12  # per channel: anti-aliasing and colour management


def decode_png(data):
    """(width, height, rows of (r, g, b) tuples) of an 8-bit RGB or RGBA,
    non-interlaced PNG, as Chromium writes its screenshots."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    at, chunks, header = 8, [], None
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        at += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        elif kind == b"IEND":
            break
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError("PNG of depth %d, colour type %d, interlace %d not read here"
                         % (depth, colour, interlace))
    step = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * step
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up = previous[i]
            corner = previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                guess = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + guess) & 0xFF
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, step)])
        previous = line
    return width, height, rows


def browser():
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


class BrowserTest(unittest.TestCase):
    def setUp(self):
        image = H.Image()
        arena = image.arena()
        region = arena.region(0x8000)
        self.used = region.used(3000)
        self.free = region.free(4000)
        self.damaged = region.used(2000)
        self.small = region.used(8)
        image.build()
        image.write(self.damaged.mem + self.damaged.requested, b"!")  # an overflow
        self.heap = H.walk(image)
        self.region = self.heap.regions[0]
        self.svg = "\n".join(svgmap.map_lines(self.heap, Sites()))
        self.per_px = svgmap.scale(self.heap)

    def screenshot(self):
        path = browser()
        if path is None:
            self.fail("no chromium found (%s): install Debian's package chromium"
                      % ", ".join(BROWSERS))
        width, height = (int(v) for v in self.svg.split('viewBox="0 0 ')[1].split('"')[0].split())
        with tempfile.TemporaryDirectory() as work:
            page = os.path.join(work, "map.svg")
            shot = os.path.join(work, "map.png")
            with open(page, "w", encoding="utf-8") as f:
                f.write(self.svg)
            done = subprocess.run(
                [path, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                 "--force-device-scale-factor=1",
                 "--user-data-dir=" + os.path.join(work, "profile"),
                 "--window-size=%d,%d" % (width, height), "--screenshot=" + shot,
                 "file://" + page],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                timeout=180)
            if not os.path.exists(shot):
                self.fail("chromium wrote no screenshot (status %d):\n%s"
                          % (done.returncode, done.stdout.decode(errors="replace")[-1500:]))
            with open(shot, "rb") as f:
                return decode_png(f.read())

    def top(self):
        """y of the region's first row: its caption's baseline plus six."""
        caption = "HEAP region 0x%x" % self.region.address
        line = next(line for line in self.svg.splitlines() if caption in line)
        return int(line.split('y="')[1].split('"')[0]) + 6

    def at(self, address):
        """The screen pixel (x, y) in the middle of the row where the byte
        at `address` is drawn."""
        pixel = int((address - self.region.address) / self.per_px)
        row, column = divmod(pixel, svgmap.WIDTH)
        return (svgmap.LEFT + column,
                self.top() + row * (svgmap.ROW + svgmap.GAP) + svgmap.ROW // 2)

    def assertColour(self, rows, point, kind, what):
        want = svgmap.RGB[kind] if kind in svgmap.RGB else svgmap.rgb(kind)
        x, y = point
        got = rows[y][x]
        close = all(abs(a - b) <= TOLERANCE for a, b in zip(got, want))
        self.assertTrue(close, "%s at (%d, %d) is #%02x%02x%02x, not %s's #%02x%02x%02x"
                        % ((what, x, y) + got + (kind,) + want))

    def test_the_colours_are_where_the_blocks_are(self):
        width, height, rows = self.screenshot()
        self.assertGreaterEqual((width, height), (svgmap.WIDTH, self.top()))
        middle = lambda block: block.node + block.size // 2  # noqa: E731
        self.assertColour(rows, self.at(middle(self.used)), "used", "the used block")
        self.assertColour(rows, self.at(middle(self.free)), "free", "the free block")
        self.assertColour(rows, self.at(middle(self.damaged)), "used", "the damaged block")
        self.assertColour(rows, self.at(self.region.address + 40), "overhead",
                          "the region's header")
        self.assertColour(rows, self.at((self.region.wilderness + self.region.end) // 2),
                          "wilderness", "the wilderness")
        x, y = self.at(self.damaged.node)
        self.assertColour(rows, (x + 1, y), svgmap.DAMAGE, "the damaged block's mark")


if __name__ == "__main__":
    unittest.main()
