"""The README's pictures: ant-map's drawing (svgmap) made compact, for one
region of a small heap. Each block is labelled with the name the program
gave it and its size, its node shaded at its start; the wilderness is a
stub, not to scale, since it is a thousand times the blocks. Offsets count
from the region's start and no address is shown, so that a picture is the
same on every run.

A Panel is drawn while the program is stopped, since the heap it reads is
the live one; a document stacks panels drawn at different stops.
"""
from xml.sax.saxutils import escape

from . import svgmap
from .columns import Columns
from .layout import NODE_SIZE

WIDTH = 800  # pixels in a row
ROW = 34
GAP = 22  # room for the offsets under a row
CAPTION = 22
WILD_PX = 150  # the wilderness stub
MARGIN = 10
NODE_CLASS = "n"


class Panel:
    """One heap drawn: `lines` of SVG from y = 0, `height` pixels tall."""

    def __init__(self, lines, height):
        self.lines = lines
        self.height = height


def panel(heap, caption, labels, per_px):
    """The first HEAP region of `heap` as a Panel: `labels` maps a used
    block's mem to its name, `per_px` is bytes a pixel."""
    region = next((region for region in heap.regions if region.kind == "heap"), None)
    if region is None:
        raise ValueError("the heap has no HEAP region to draw")
    columns = Columns(heap)
    base = region.address
    paragraph = svgmap.Paragraph(MARGIN, CAPTION, per_px, WIDTH, ROW, GAP)
    lines = ['<text class="caption" x="%d" y="%d">%s</text>' % (
        MARGIN, CAPTION - 8, escape(caption))]

    def name(index, kind):
        if kind != "used":
            return kind
        return labels.get(columns.nodes[index] + NODE_SIZE, "used")

    def describe(index, kind):
        node = columns.nodes[index]
        text = "%s: %s block at mem offset %d, %s bytes" % (
            name(index, kind), kind, node + NODE_SIZE - base, svgmap.count(columns.sizes[index]))
        if kind == "used":
            text += " (%s requested)" % svgmap.count(columns.requested[index])
        return text + ", serial %d" % columns.serials[index] if columns.serials[index] else text

    def label(first, stop, index, kind):
        pieces = paragraph.rects(first, stop)
        x, y, width = max(pieces, key=lambda piece: piece[2])
        node_px = max(1, int(round(NODE_SIZE / per_px)))
        yield '<rect class="%s" x="%d" y="%d" width="%d" height="%d"/>' % (
            NODE_CLASS, pieces[0][0], pieces[0][1], node_px, ROW)
        words = [name(index, kind), svgmap.count(columns.sizes[index])]
        middle = x + (width - 1 + node_px) / 2 if len(pieces) == 1 else x + width / 2
        for line, word in enumerate(words):
            if (7 if line == 0 else 6) * len(word) + 2 <= width - node_px:
                yield '<text class="%s" x="%.1f" y="%d">%s</text>' % (
                    "name" if line == 0 else "size", middle, y + 15 + 13 * line, escape(word))
        yield '<text class="offset" x="%d" y="%d">%d</text>' % (
            pieces[0][0], pieces[0][1] + ROW + 12, columns.nodes[index] + NODE_SIZE - base)

    drawing = svgmap.Drawing(paragraph, region, describe, lambda address: "offset %d" % (
        address - base), label)
    lines += drawing.blocks(columns, svgmap.damaged_nodes(heap), svgmap.depot_test(heap))
    wild = region.end - region.wilderness
    first = drawing.cursor
    room = paragraph.width - first % paragraph.width  # the rest of the row
    stop = first + (room if room >= WILD_PX else room + WILD_PX)
    tooltip = "the wilderness: %s bytes from offset %d to the region's end (not to scale)" % (
        svgmap.count(wild), region.wilderness - base)
    lines.append(svgmap.shape(paragraph, first, stop, 'class="w"', tooltip))
    x, y = paragraph.point(first)
    lines.append('<text class="wild" x="%d" y="%d">%s</text>' % (
        x + 6, y + 21, escape("wilderness %s B" % svgmap.count(wild))))
    lines += drawing.damage(svgmap.MAX_MARKS)
    return Panel(lines, CAPTION + paragraph.height(stop))


def document(panels, title, per_px):
    """The SVG of panels stacked, with a legend, line by line; `per_px` is
    the panels' bytes a pixel."""
    legend_y = MARGIN
    height = legend_y + 40 + sum(panel.height for panel in panels) + MARGIN
    width = WIDTH + 2 * MARGIN
    yield ('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'viewBox="0 0 %d %d">' % (width, height, width, height))
    yield "<title>%s</title>" % escape(title)
    yield svgmap.style_lines(
        ".%s{fill:#000;opacity:.3}.name{font-weight:bold;text-anchor:middle;fill:#fff}"
        ".size{font-size:11px;text-anchor:middle;fill:#fff}.offset{font-size:10px;fill:#666}"
        ".wild{font-size:11px}" % NODE_CLASS)
    yield '<rect width="100%" height="100%" fill="#ffffff"/>'
    swatches, _ = svgmap.legend(MARGIN, legend_y, [
        ("used", "used"), ("free", "free"), ("overhead", "region header"),
        ("wilderness", "wilderness"), ("#8a8a8a", "node (32 bytes)")], WIDTH + MARGIN)
    yield from swatches
    yield '<text class="offset" x="%d" y="%d">%s</text>' % (
        MARGIN, legend_y + 30, "drawn to scale, 1 pixel = %s (the wilderness excepted); "
        "under each block: its mem offset in the region" % svgmap.many(per_px, "byte"))
    y = legend_y + 40
    for each in panels:
        yield '<g transform="translate(0 %d)">' % y
        yield from each.lines
        yield "</g>"
        y += each.height
    yield "</svg>"
