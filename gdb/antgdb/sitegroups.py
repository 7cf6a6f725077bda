"""ant-sites: blocks grouped by the site their node records.

A group is keyed by the site the node records: one return address, or
with stack=N a call stack, so that blocks a wrapper (strdup, xmalloc,
operator new) made for different callers fall in different groups. The
blocks are those selection.py chooses (used, or with --free the
free and cached ones), summed in C (gdb/native/groups.c) when the native
library is loaded, else here (python_groups, the reference).
"""
from .columns import Columns
from .selection import Selection, chosen_indices

GROUP_FIELDS = ("site", "blocks", "bytes", "requested", "first_serial", "last_serial")


class Group:
    """One site's blocks: how many, their bytes and requested bytes, and
    their lowest and highest serial."""

    __slots__ = GROUP_FIELDS

    def __init__(self, site, blocks=0, bytes=0, requested=0, first_serial=0, last_serial=0):
        self.site, self.blocks, self.bytes, self.requested = site, blocks, bytes, requested
        self.first_serial, self.last_serial = first_serial, last_serial

    def as_dict(self, sites):
        """DESIGN.md's shape: `where` the site as text where anything names
        it, else null."""
        return {"site": sites.address(self.site), "where": where(sites, self.site), "blocks": self.blocks,
                "requested_bytes": self.requested, "bytes": self.bytes,
                "first_serial": self.first_serial, "last_serial": self.last_serial,
                "stack": sites.frames(self.site)}


def where(sites, site):
    """The site's text when gdb names it (function+offset, file:line),
    None for no site or a bare address."""
    if not site:
        return None
    text = sites.text(site)
    return None if text == "0x%x" % sites.address(site) else text


def order(groups):
    """Largest requested bytes first, then most bytes, then by site."""
    return sorted(groups, key=lambda group: (-group.requested, -group.bytes, group.site))


def chosen(heap, columns, free=False):
    """The indices ant-sites sums: used blocks, or free, cached and
    quarantined ones."""
    states = ("free", "cached", "quarantined") if free else ("used",)
    for state in states:
        yield from chosen_indices(heap, columns, Selection(state))


def python_groups(heap, columns, free=False):
    """The groups, unordered, summed in Python."""
    found = {}
    sites, sizes, requested, serials = (columns.sites, columns.sizes, columns.requested,
                                        columns.serials)
    for indices in chosen(heap, columns, free):
        for index in indices:
            site, serial = sites[index], serials[index]
            group = found.get(site)
            if group is None:
                group = found[site] = Group(site, first_serial=serial, last_serial=serial)
            group.blocks += 1
            group.bytes += sizes[index]
            group.requested += requested[index]
            if serial < group.first_serial:
                group.first_serial = serial
            elif serial > group.last_serial:
                group.last_serial = serial
    return list(found.values())


def groups(heap, native=None, free=False):
    """Every site's Group, largest requested bytes first. A free or cached
    block's requested bytes are its last owner's, which its node keeps."""
    columns = Columns(heap, native)
    found = native.groups(heap, columns, chosen(heap, columns, free)) if native else None
    return order(found if found is not None else python_groups(heap, columns, free))


def totals(found):
    """One Group of every group's sums, its site 0."""
    total = Group(0)
    for group in found:
        total.blocks += group.blocks
        total.bytes += group.bytes
        total.requested += group.requested
    serials = [group.first_serial for group in found] + [group.last_serial for group in found]
    total.first_serial, total.last_serial = (min(serials), max(serials)) if serials else (0, 0)
    return total


def _serials(group):
    if not group.first_serial and not group.last_serial:
        return "-"
    if group.first_serial == group.last_serial:
        return "%d" % group.first_serial
    return "%d-%d" % (group.first_serial, group.last_serial)


def lines(found, sites, top=None, free=False):
    """ant-sites' text: a row per site, largest requested bytes first,
    then the totals of every group, shown or not."""
    shown = found[:top]
    yield "%8s  %12s  %12s  %-17s  %s" % ("blocks", "requested", "bytes", "serials", "site")
    for group in shown:
        yield "%8d  %12d  %12d  %-17s  %s" % (
            group.blocks, group.requested, group.bytes, _serials(group),
            sites.text(group.site, "(none)"))
    total = totals(found)
    yield "%d site%s, %d %s block%s, %d bytes requested in %d%s" % (
        len(found), "" if len(found) == 1 else "s", total.blocks,
        "free or cached" if free else "used", "" if total.blocks == 1 else "s",
        total.requested, total.bytes,
        " (the %d largest shown)" % len(shown) if len(shown) < len(found) else "")


def as_json(found, sites, top=None):
    return [group.as_dict(sites) for group in found[:top]]
