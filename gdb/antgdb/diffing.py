"""ant-diff: what changed between two heaps, each a walk saved by `ant-walk
--json --output FILE`, or a saved walk and the heap at hand.

Blocks are matched by serial, which no two allocations of a process share
(<ant/layout.h>): a used block of the new heap whose serial the old one
did not have in use is new, a used block of the old one whose serial the
new one no longer has in use was freed (a free or cached block keeps its
serial, but it is no longer in use). Groups are keyed by the site the
node records, as ant-sites' are.
"""
import json

from .columns import Columns
from .errors import UsageError
from .layout import NODE_SIZE
from .selection import Selection, chosen_indices

FIELDS = ("node", "mem", "size", "requested", "state", "serial", "site")  # DESIGN.md's


class Walk:
    """The used blocks of one heap by serial, each a walk row, and where
    they came from (`name`, for messages)."""

    def __init__(self, name, used, requested, names=None, node_size=None):
        self.name = name
        self.node_size = node_size  # mem - node of its rows; None for no rows
        self.used = used  # serial -> row
        self.requested = requested  # their requested bytes, summed
        self.names = names  # site -> its text as a saved walk named it; None: gdb's


def read_walk(path):
    """A Walk of the file ant-walk --json --output wrote; UsageError for a
    file that cannot be read or is not such a walk."""
    try:
        with open(path, encoding="utf-8") as f:
            rows = json.load(f)
    except OSError as error:
        raise UsageError("cannot read %s: %s" % (path, error.strerror or error)) from None
    except (ValueError, UnicodeDecodeError) as error:
        raise UsageError("%s is not a walk written by ant-walk --json (%s)" % (path, error)) \
            from None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise UsageError("%s is not a walk written by ant-walk --json: it holds no array "
                         "of rows" % path)
    used, names, node_size = {}, {}, None
    for row in rows:
        missing = [name for name in FIELDS
                   if not isinstance(row.get(name), str if name == "state" else int)]
        if missing:
            raise UsageError("%s is not a walk written by ant-walk --json: a row has no %s"
                             % (path, " or ".join(missing)))
        if node_size is None:
            node_size = row["mem"] - row["node"]
        elif row["mem"] - row["node"] != node_size:
            raise UsageError("%s is not a walk written by ant-walk --json: its rows' nodes lie "
                             "%d and %d bytes before their mem" % (
                                 path, node_size, row["mem"] - row["node"]))
        if row["state"] == "used" and row["serial"] and not row.get("problems"):
            used[row["serial"]] = row
        if row["site"] and row["site"] not in names:
            text = _saved_name(row)
            if text:
                names[row["site"]] = text
    return Walk(path, used, sum(row["requested"] for row in used.values()), names, node_size)


def _saved_name(row):
    symbol, line = row.get("site_symbol"), row.get("site_line")
    if not symbol and not line:
        return None
    return (symbol or "0x%x" % row["site"]) + (" at " + line if line else "")


def heap_walk(heap, sites, native=None):
    """A Walk of the heap at hand: its used blocks with no problem (a
    damaged node's serial is not to be believed), each as a walk row."""
    columns = Columns(heap, native)
    used = {}
    problems = heap.problems_of
    serials, requested, nodes = columns.serials, columns.requested, columns.nodes
    total = 0
    for indices in chosen_indices(heap, columns, Selection("used")):
        for index in indices:
            serial = serials[index]
            if serial and not problems(nodes[index]):
                used[serial] = index
                total += requested[index]
    return Walk("the heap at hand", _Rows(heap, columns, sites, used), total,
                node_size=heap.layout.node_size)


class _Rows:
    """serial -> walk row of the heap at hand, a row made only when asked
    for: most blocks are only counted."""

    def __init__(self, heap, columns, sites, indices):
        self.heap, self.columns, self.sites = heap, columns, sites
        self.indices = indices  # serial -> node index

    def __len__(self):
        return len(self.indices)

    def __iter__(self):
        return iter(self.indices)

    def __contains__(self, serial):
        return serial in self.indices

    def __getitem__(self, serial):
        columns, heap = self.columns, self.heap
        index = self.indices[serial]
        region = heap.region_of(index)
        site = columns.sites[index]
        symbol, line = self.sites(site)
        node = columns.nodes[index]
        return {"node": node, "mem": node + NODE_SIZE, "size": columns.sizes[index],
                "requested": columns.requested[index], "state": "used",
                "serial": columns.serials[index], "site": self.sites.address(site),
                "stack": self.sites.frames(site), "site_symbol": symbol,
                "site_line": line, "arena": region.arena, "region": region.address,
                "big": region.kind == "big", "problems": []}


class Change:
    """One site's new and freed blocks."""

    __slots__ = ("site", "new_blocks", "new_bytes", "new_requested", "freed_blocks",
                 "freed_bytes", "freed_requested")

    def __init__(self, site):
        self.site = site
        self.new_blocks = self.new_bytes = self.new_requested = 0
        self.freed_blocks = self.freed_bytes = self.freed_requested = 0

    @property
    def net(self):
        return self.new_bytes - self.freed_bytes


class Diff:
    """What changed from `old` to `new` (two Walks)."""

    def __init__(self, old, new):
        """UsageError when the two are heaps of different layouts, told by
        the size of their nodes."""
        if None not in (old.node_size, new.node_size) and old.node_size != new.node_size:
            raise UsageError("%s is a walk of another layout: its nodes are %d bytes, those "
                             "of %s %d" % (old.name, old.node_size, new.name, new.node_size))
        self.old, self.new = old, new
        self.new_serials = sorted(set(new.used).difference(old.used))
        self.freed_serials = sorted(set(old.used).difference(new.used))
        changes = {}
        for serial in self.new_serials:
            row = new.used[serial]
            change = changes.setdefault(row["site"], Change(row["site"]))
            change.new_blocks += 1
            change.new_bytes += row["size"]
            change.new_requested += row["requested"]
        for serial in self.freed_serials:
            row = old.used[serial]
            change = changes.setdefault(row["site"], Change(row["site"]))
            change.freed_blocks += 1
            change.freed_bytes += row["size"]
            change.freed_requested += row["requested"]
        # The most growth first, then the most shrinking last.
        self.by_site = sorted(changes.values(), key=lambda c: (-c.net, -c.new_bytes, c.site))

    def new_rows(self):
        return [self.new.used[serial] for serial in self.new_serials]

    def freed_rows(self):
        return [self.old.used[serial] for serial in self.freed_serials]

    def where(self, site, sites):
        """The site's name: gdb's for the heap at hand, else as a saved walk
        named it; None where nothing names it."""
        if not site:
            return None
        if self.new.names is None:
            symbol, line = sites(site)
            if symbol or line:
                return sites.text(site)
        for walk in (self.new, self.old):
            if walk.names and site in walk.names:
                return walk.names[site]
        return None

    def as_dict(self, sites):
        return {
            "old": {"name": self.old.name, "used_blocks": len(self.old.used),
                    "requested_bytes": self.old.requested},
            "new": self.new_rows(), "freed": self.freed_rows(),
            "now": {"name": self.new.name, "used_blocks": len(self.new.used),
                    "requested_bytes": self.new.requested},
            "by_site": [{"site": c.site, "where": self.where(c.site, sites),
                         "new_blocks": c.new_blocks, "new_bytes": c.new_bytes,
                         "new_requested_bytes": c.new_requested,
                         "freed_blocks": c.freed_blocks, "freed_bytes": c.freed_bytes,
                         "freed_requested_bytes": c.freed_requested}
                        for c in self.by_site],
        }

    def lines(self, sites):
        old, new = self.old, self.new
        yield "ant-diff: %s: %s, %d bytes requested" % (
            old.name, _blocks(len(old.used), "used "), old.requested)
        yield "      to %s: %s, %d bytes requested" % (
            new.name, _blocks(len(new.used), "used "), new.requested)
        new_bytes = sum(c.new_bytes for c in self.by_site)
        freed_bytes = sum(c.freed_bytes for c in self.by_site)
        yield "  new %s (%d bytes), freed %s (%d bytes), %d kept" % (
            _blocks(len(self.new_serials)), new_bytes, _blocks(len(self.freed_serials)), freed_bytes,
            len(new.used) - len(self.new_serials))
        if not self.by_site:
            return
        yield "%8s  %12s  %8s  %12s  %12s  %s" % (
            "new", "bytes", "freed", "bytes", "net", "site")
        for c in self.by_site:
            yield "%8d  %12d  %8d  %12d  %+12d  %s" % (
                c.new_blocks, c.new_bytes, c.freed_blocks, c.freed_bytes, c.net,
                self.where(c.site, sites) or ("0x%x" % c.site if c.site else "(none)"))


def _blocks(number, kind=""):
    """3 -> "3 blocks", 1 -> "1 block"."""
    return "%d %sblock%s" % (number, kind, "" if number == 1 else "s")
