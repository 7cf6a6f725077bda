"""ant-map's picture: every region of the heap in an SVG, drawn to scale.

A region is laid out as a paragraph of rows, so many bytes to a pixel and
the same scale for every region, with its blocks coloured by state, the
wilderness as such, and each block's facts in its tooltip (an SVG
<title>, which every browser shows on hover). A block narrower than
MIN_PX pixels is too small to see: consecutive ones are gathered into one
span whose colour mixes their states by bytes and whose tooltip counts
them, so a million blocks make some twenty thousand elements, not a million.
Damaged blocks get a red mark whatever their width.

Text comes as lines, so the command streams it to its file; the header
is written first, its height known from the regions' lengths alone.
"""
from xml.sax.saxutils import escape

from . import native
from .check import STATE_CACHED, STATE_NAMES
from .columns import Columns
from .layout import NODE_SIZE
from .render import human

WIDTH = 1200  # pixels in a row
ROW = 14  # a row's height
GAP = 4  # between rows
LABEL = 20  # a region's caption above its rows
MAX_ROWS = 160  # the whole heap fits in about this many rows
MIN_PX = 2.0  # narrower than this, a block joins a span
SPAN_PX = 8.0  # a span closes once it is this wide
MAX_MARKS = 2000  # damaged blocks marked one by one; ant-check lists the rest
MARGIN = 10
GUTTER = 70  # left of the rows, where each row's offset in its region is written
LEFT = MARGIN + GUTTER  # where rows start

# Each kind of byte, its colour and what the legend calls it. The states are
# <ant/layout.h>'s (USED, FREE, CACHED, QUARANTINED; a cached block is in a
# thread's cache or in its arena's depot), "unknown" a node too damaged to
# tell.
KINDS = {
    "used": ("#3b6fb6", "used"),
    "free": ("#72c05b", "free"),
    "cached": ("#f0a030", "cached (thread cache)"),
    "depot": ("#a66cc4", "cached (arena's depot)"),
    "quarantined": ("#2aa198", "freed, held in the quarantine"),
    "unknown": ("#8c8c8c", "unknown (node damaged)"),
    "overhead": ("#4a4a4a", "region header, or a big mapping's slack"),
    "guard": ("#8b4513", "guard page"),
    "kept": ("#c8c8c8", "freed, kept inaccessible"),
    "wilderness": ("#e6dfcb", "wilderness"),
}
# One letter each, since thousands of elements name one.
CLASSES = {"used": "u", "free": "f", "cached": "c", "depot": "d", "quarantined": "q",
           "unknown": "x",
           "overhead": "o", "guard": "g", "kept": "k", "wilderness": "w"}
DAMAGE = "#d62728"
GUARD_TIP = "the guard page %s: PROT_NONE, so %s faults at the instruction that makes it"


def count(number):
    return "{:,}".format(number)


def many(number, word):
    """3 -> "3 blocks", 1 -> "1 block"."""
    return "%s %s%s" % (count(number), word, "" if number == 1 else "s")


def rgb(colour):
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


RGB = {kind: rgb(colour) for kind, (colour, _) in KINDS.items()}


def mixed(bytes_by_kind):
    """The colour of a span: its kinds' colours weighted by their bytes."""
    total = sum(bytes_by_kind.values()) or 1
    mix = [0.0, 0.0, 0.0]
    for kind, size in bytes_by_kind.items():
        for channel in range(3):
            mix[channel] += RGB[kind][channel] * size / total
    return "#%02x%02x%02x" % tuple(int(round(value)) for value in mix)


class Paragraph:
    """Rows of pixels for one stretch of bytes: `x`, `y` its top left,
    `per_px` bytes a pixel, `width` pixels a row, `row` and `gap` the
    height of a row and the space under it."""

    def __init__(self, x, y, per_px, width=WIDTH, row=ROW, gap=GAP):
        self.x, self.y, self.per_px = x, y, per_px
        self.width, self.row, self.gap = width, row, gap

    def height(self, pixels):
        """The height of rows enough for `pixels` pixels, one row at least."""
        return max(1, -(-int(pixels) // self.width)) * (self.row + self.gap)

    def point(self, pixel):
        """(x, y) of the top of pixel number `pixel`."""
        line, column = divmod(int(pixel), self.width)
        return self.x + column, self.y + line * (self.row + self.gap)

    def rects(self, first, stop):
        """(x, y, width) of each row's piece of pixels [first, stop)."""
        pieces = []
        while first < stop:
            line, column = divmod(first, self.width)
            width = min(stop - first, self.width - column)
            pieces.append((self.x + column, self.y + line * (self.row + self.gap), width))
            first += width
        return pieces


def shape(paragraph, first, stop, attributes, tooltip, apart=False):
    """One element for pixels [first, stop): a rect, or a group of one rect
    a row when it wraps, with the tooltip; `apart` leaves its last pixel
    blank, so that two blocks of one colour side by side read as two."""
    pieces = paragraph.rects(first, stop)
    if apart and pieces[-1][2] >= 3:
        x, y, width = pieces[-1]
        pieces[-1] = (x, y, width - 1)
    title = "<title>%s</title>" % escape(tooltip)
    if len(pieces) == 1:
        x, y, width = pieces[0]
        return '<rect x="%d" y="%d" width="%d" height="%d" %s>%s</rect>' % (
            x, y, width, paragraph.row, attributes, title)
    rects = "".join('<rect x="%d" y="%d" width="%d" height="%d"/>' % (x, y, width, paragraph.row)
                    for x, y, width in pieces)
    return "<g %s>%s%s</g>" % (attributes, title, rects)


class Span:
    """Blocks too narrow to see, gathered: their count and bytes by kind,
    counted in lists indexed as SPAN_KINDS."""

    def __init__(self, start):
        self.start = self.end = start
        self.blocks = [0] * len(SPAN_KINDS)
        self.bytes = [0] * len(SPAN_KINDS)
        self.damaged = 0

    def by_kind(self, numbers):
        return {kind: number for kind, number in zip(SPAN_KINDS, numbers) if number}

    def tooltip(self, where):
        parts = ["%s %s (%s)" % (count(blocks), kind, human(size))
                 for kind, blocks, size in zip(SPAN_KINDS, self.blocks, self.bytes) if blocks]
        text = "%s, %s-%s (%s): %s" % (
            many(sum(self.blocks), "block"), where(self.start), where(self.end),
            human(self.end - self.start), ", ".join(parts))
        if self.damaged:
            text += "; %s damaged (marked red)" % count(self.damaged)
        return text


SPAN_KINDS = ("used", "free", "cached", "depot", "quarantined", "unknown")
# A node's state byte -> its kind's place in SPAN_KINDS.
SPAN_INDEX = bytes(SPAN_KINDS.index(STATE_NAMES.get(state, "unknown")) for state in range(256))
DEPOT = SPAN_KINDS.index("depot")


class Drawing:
    """Lays out one region in address order onto a paragraph: the blocks
    wide enough drawn alone, narrower runs as spans, and the bytes outside
    any block. `describe(index, kind)` is a block's tooltip, `where(address)`
    names an address in tooltips, and `label(first, stop, index, kind)`,
    when given, draws over a wide block (the README's pictures)."""

    def __init__(self, paragraph, region, describe, where, label=None):
        self.paragraph = paragraph
        self.region = region
        self.describe = describe
        self.where = where
        self.label = label
        self.guard = None  # "after" or "before": a guarded block's mapping (layout 5)
        self.cursor = 0  # the first pixel not drawn yet
        self.marks = []  # (node, index, kind) of damaged blocks

    def _pixels(self, start, end):
        per_px, base = self.paragraph.per_px, self.region.address
        first = max(self.cursor, int(round((start - base) / per_px)))
        stop = max(first + 1, int(round((end - base) / per_px)))
        self.cursor = stop
        return first, stop

    def piece(self, start, end, kind, tooltip):
        """A stretch drawn alone whatever its width: overhead, wilderness."""
        first, stop = self._pixels(start, end)
        return shape(self.paragraph, first, stop, 'class="%s"' % CLASSES[kind], tooltip)

    def blocks(self, columns, damaged, in_depot):
        """The region's blocks and any bytes outside them, up to its
        wilderness. `damaged` holds the nodes with problems, `in_depot(node)`
        tells whether a cached node waits in a depot."""
        region = self.region
        columns.region(region)
        nodes, sizes, states = columns.nodes, columns.sizes, columns.states
        narrow = MIN_PX * self.paragraph.per_px
        wide_span = SPAN_PX * self.paragraph.per_px
        at = region.address
        span = None
        for index in range(region.lo, region.hi):
            node, size, state = nodes[index], sizes[index], states[index]
            if node > at:
                if span is not None:
                    yield self.close(span)
                    span = None
                yield from self.before(at, node)
            at = min(node + size, region.end)  # a damaged size draws nothing past the region
            kind = SPAN_INDEX[state]
            if state == STATE_CACHED and in_depot(node):
                kind = DEPOT
            if size < narrow:
                if span is None:
                    span = Span(node)
                span.end = at
                span.blocks[kind] += 1
                span.bytes[kind] += at - node
                if node in damaged:
                    span.damaged += 1
                    self.marks.append((node, index, SPAN_KINDS[kind]))
                if at - span.start >= wide_span:
                    yield self.close(span)
                    span = None
                continue
            if span is not None:
                yield self.close(span)
                span = None
            kind = SPAN_KINDS[kind]
            bad = node in damaged
            first, stop = self._pixels(node, at)
            yield shape(self.paragraph, first, stop,
                        'class="%s%s"' % (CLASSES[kind], " bad" if bad else ""),
                        self.describe(index, kind), apart=True)
            if bad:
                self.marks.append((node, index, kind))
            if self.label is not None:
                yield from self.label(first, stop, index, kind)
        if span is not None:
            yield self.close(span)
        stop = region.wilderness if region.kind == "heap" else region.end
        if stop > at and self.guard == "after":
            yield self.piece(at, stop, "guard", GUARD_TIP % ("past the block's end", "an overflow"))
        elif stop > at:
            yield self.piece(at, stop, "overhead", overhead(region, at, stop, self.where))

    def before(self, start, node):
        """The bytes below a node that no block holds: the region's header,
        and in a mapping guarded before its node, the guard page after the
        header page (the two pages alike)."""
        half = (node - start) // 2
        if self.guard == "before" and start == self.region.address and half % 4096 == 0:
            yield self.piece(start, start + half, "overhead", overhead(
                self.region, start, start + half, self.where))
            yield self.piece(start + half, node, "guard", GUARD_TIP % ("below the node", "an underflow"))
        else:
            yield self.piece(start, node, "overhead", overhead(self.region, start, node, self.where))

    def close(self, span):
        first, stop = self._pixels(span.start, span.end)
        kinds = span.by_kind(span.bytes)
        if len(kinds) == 1:
            attributes = 'class="%s"' % CLASSES[next(iter(kinds))]
        else:
            attributes = 'fill="%s"' % mixed(kinds)
        return shape(self.paragraph, first, stop, attributes, span.tooltip(self.where))

    def damage(self, limit):
        """The red marks, on top of everything; at most `limit`."""
        for node, index, kind in self.marks[:limit]:
            x, y = self.paragraph.point((node - self.region.address) / self.paragraph.per_px)
            yield ('<path class="mark" d="M%d %dh3v%dh-3z"><title>%s</title></path>' % (
                x, y, self.paragraph.row, escape(self.describe(index, kind))))


def style_lines(extra=""):
    rules = ["text{font:12px sans-serif;fill:#222}", ".caption{font-weight:bold}",
             ".bad{stroke:%s;stroke-width:2}" % DAMAGE,
             ".mark{fill:%s;stroke:%s}" % (DAMAGE, DAMAGE)]
    rules += [".%s{fill:%s}" % (CLASSES[kind], colour) for kind, (colour, _) in KINDS.items()]
    return "<style>%s%s</style>" % ("".join(rules), extra)


def legend(x, y, entries, right):
    """Swatches in rows that end before x = `right`: (kind, "damaged" or a
    colour; text). Returns the lines and how many rows they take."""
    lines, left, rows = [], x, 1
    for kind, text in entries:
        fill = 'class="%s"' % CLASSES[kind] if kind in CLASSES else 'fill="%s"' % kind
        if kind == "damaged":
            fill = 'class="mark"'
        wide = 28 + 7 * len(text)  # about, in the 12-pixel sans-serif text is set in
        if x > left and x + wide > right:
            x, y, rows = left, y + LABEL, rows + 1
        lines.append('<rect x="%d" y="%d" width="12" height="12" %s/>' % (x, y, fill))
        lines.append('<text x="%d" y="%d">%s</text>' % (x + 16, y + 10, escape(text)))
        x += wide
    return lines, rows


# -- ant-map -------------------------------------------------------------------

def _address(address):
    return "0x%x" % address


def overhead(region, start, end, where):
    what = "the region's header" if start == region.address else "bytes in no block"
    return "%s: %s, %s-%s" % (what, human(end - start), where(start), where(end))


def _wilderness(region):
    start = region.wilderness
    return ("wilderness of HEAP region 0x%x: %s (%s bytes) from 0x%x to 0x%x, mapped "
            "but never carved into blocks" % (region.address, human(region.end - start),
                                              count(region.end - start), start, region.end))


def _describer(heap, columns, sites):
    def describe(index, kind):
        node = columns.nodes[index]
        serial = columns.serials[index]
        parts = ["%s block at mem 0x%x: %s bytes" % (
            "cached (depot)" if kind == "depot" else kind, node + NODE_SIZE,
            count(columns.sizes[index]))]
        if kind == "used":
            parts.append("%s requested" % count(columns.requested[index]))
        owner = "" if kind == "used" else "last owner's "
        parts.append("%sserial %s" % (owner, serial if serial else "-"))
        parts.append("%ssite %s" % (owner, sites.text(columns.sites[index])))
        text = ", ".join(parts)
        busy = heap.busy.get(node)
        if busy:
            text += "; being changed: %s" % busy
        for problem in heap.problems_of(node):
            text += "\n%s (%s): %s" % (problem.kind, problem.invariant or "-", problem.detail)
        return text
    return describe


def depot_test(heap):
    """Whether a cached node waits in an arena's depot (not a thread's cache)."""
    depots = {cache.address for cache in heap.caches if cache.state == "depot"}

    def in_depot(node):
        entry = heap.cached.get(node)
        return entry is not None and entry[3] in depots
    return in_depot


def damaged_nodes(heap):
    return {problem.node for problem in heap.problems if problem.node is not None}


def scale(heap, width=WIDTH, rows=MAX_ROWS):
    """Bytes a pixel, the same for every region and kept mapping: the whole
    heap in about `rows` rows, and never less than a byte."""
    total = sum(region.length for region in heap.regions)
    total += sum(slot.length for slot in heap.kept if slot.state == "freed")
    return max(1, -(-total // (width * rows)))


def map_lines(heap, sites):
    """The SVG of ant-map, line by line."""
    per_px = scale(heap)
    summary = heap.summary()
    entries = [(kind, text) for kind, (_, text) in KINDS.items()]
    entries.append(("damaged", "damaged (ant-check)"))
    swatches, rows = legend(MARGIN, MARGIN + 2 * LABEL + 4, entries, LEFT + WIDTH)
    top = MARGIN + 2 * LABEL + 8 + rows * LABEL
    height = top
    for region in heap.regions:
        height += LABEL + Paragraph(0, 0, per_px).height(region.length / per_px)
    freed = [slot for slot in heap.kept if slot.state == "freed"]
    guards = {slot.mapping: slot.guard for slot in heap.kept if slot.state == "guarded"}
    for slot in freed:
        height += LABEL + Paragraph(0, 0, per_px).height(slot.length / per_px)
    height += LABEL + MARGIN  # a last line, for a note on marks left out
    width = LEFT + WIDTH + MARGIN
    yield ('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'viewBox="0 0 %d %d">' % (width, height, width, height))
    yield "<title>Ant heap at 0x%x</title>" % heap.layout.address
    yield style_lines(".row{font-size:10px;fill:#777;text-anchor:end}")
    yield '<rect width="100%" height="100%" fill="#ffffff"/>'
    yield '<text class="caption" x="%d" y="%d">%s</text>' % (MARGIN, MARGIN + 12, escape(
        "Ant heap at 0x%x: %s in %s and %s, %s" % (
            heap.layout.address, many(summary["blocks"], "block"),
            many(summary["regions"], "HEAP region"), many(summary["bigs"], "big block"),
            many(summary["problems"], "problem"))))
    yield '<text x="%d" y="%d">%s</text>' % (MARGIN, MARGIN + 12 + LABEL, escape(
        "1 pixel = %s; a row is %s bytes, its offset in the region at its left. Blocks "
        "under %d pixels are drawn as spans coloured by the mix of their states; hover for "
        "counts." % (
            many(per_px, "byte"), count(per_px * WIDTH), MIN_PX)))
    yield from swatches
    columns = Columns(heap, native.load())
    describe = _describer(heap, columns, sites)
    bad, in_depot = damaged_nodes(heap), depot_test(heap)
    y = top
    marks = wanted = 0
    for region in heap.regions:
        caption = "%s region 0x%x, %s, arena %d: %s, %s free" % (
            region.kind.upper(), region.address, human(region.length), region.arena,
            many(region.blocks, "block"), human(region.free_bytes))
        if region.kind == "heap":
            caption += ", wilderness %s" % human(region.wilderness_bytes)
        yield '<text x="%d" y="%d">%s</text>' % (MARGIN, y + LABEL - 6, escape(caption))
        paragraph = Paragraph(LEFT, y + LABEL, per_px)
        rows = paragraph.height(region.length / per_px) // (ROW + GAP)
        for row in range(rows):
            yield '<text class="row" x="%d" y="%d">+0x%x</text>' % (
                LEFT - 4, y + LABEL + row * (ROW + GAP) + 11, row * WIDTH * per_px)
        drawing = Drawing(paragraph, region, describe, _address)
        drawing.guard = guards.get(region.address) if region.kind == "big" else None
        yield from drawing.blocks(columns, bad, in_depot)
        if region.kind == "heap" and region.end > region.wilderness:
            yield drawing.piece(region.wilderness, region.end, "wilderness",
                                _wilderness(region))
        yield from drawing.damage(MAX_MARKS - marks)
        marks += min(len(drawing.marks), MAX_MARKS - marks)
        wanted += len(drawing.marks)
        y += LABEL + paragraph.height(region.length / per_px)
    for slot in freed:
        yield '<text x="%d" y="%d">%s</text>' % (MARGIN, y + LABEL - 6, escape(
            "KEPT mapping 0x%x, %s: a %s" % (slot.mapping, human(slot.length), slot.what())))
        paragraph = Paragraph(LEFT, y + LABEL, per_px)
        yield shape(paragraph, 0, max(1, int(round(slot.length / per_px))), 'class="k"', (
            "a %s at mem 0x%x, kept PROT_NONE so that a use after its free faults: %s bytes "
            "requested, serial %d, site %s; freed at %s" % (
                slot.what(), slot.mem, count(slot.requested), slot.serial, sites.text(slot.site),
                sites.text(slot.freed_site, "an unknown site"))))
        y += LABEL + paragraph.height(slot.length / per_px)
    if wanted > marks:
        yield '<text x="%d" y="%d">%s</text>' % (MARGIN, y + LABEL - 6, escape(
            "The first %s of %s damaged blocks are marked; ant-check lists them all." % (
                count(marks), count(wanted))))
    yield "</svg>"
