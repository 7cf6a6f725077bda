"""ant-walk's filters and order as options: their help, their parsing into
a selection.Selection, and the values --sort completes to."""
import re

from .errors import UsageError
from .selection import SORT_KEYS, Selection, SitePattern

OPTIONS = [
    ("--site", "PATTERN", "only blocks allocated at a site PATTERN names: a glob\n"
                          "(main*, *prog.c:4?) matched whole against the site's\n"
                          "text, symbol, function, file:line or hex address, or\n"
                          "else text any of them holds (xmalloc, prog.c:42)"),
    ("--serial", "A-B", "only blocks whose serial is A to B (A-, -B and N work)"),
    ("--requested", "A-B", "only used blocks that requested A to B bytes (100-200,\n"
                           "4K-, -64; free and cached blocks request 0)"),
    ("--arena", "N", "only blocks of arena N"),
    ("--sort", "KEY", "order the rows by KEY, smallest first: %s\n"
                      "(ties keep the walk's order)" % ", ".join(SORT_KEYS)),
    ("--reverse", None, "the opposite order: largest first with --sort, else the\n"
                        "walk's order backwards"),
]
NAMES = ("site", "serial", "requested", "arena", "sort", "reverse")
_NUMBER = re.compile(r"^(0x[0-9a-f]+|[0-9]+)$", re.I)


def count(text, what):
    if not _NUMBER.match(text.strip()):
        raise UsageError("%s wants a number such as 42, not %r" % (what, text))
    return int(text, 0)


def parse_range(text, what, number):
    """"A-B", "A-", "-B" or "N" as (low, high), high None for no bound;
    `number(text, what)` reads each end."""
    low, dash, high = text.strip().partition("-")
    if not dash:
        value = number(low, what)
        return value, value
    if not low and not high:
        raise UsageError("%s wants a range such as 100-200, 100- or -200, not %r" % (what, text))
    low = number(low, what) if low else 0
    high = number(high, what) if high else None
    if high is not None and high < low:
        raise UsageError("%s: the range %r ends below its start" % (what, text))
    return low, high


def finish(values, parse_size):
    """Turns the filters' texts among an ant-walk's parsed options into
    values; a missing one takes its default."""
    for name in NAMES:
        values.setdefault(name, False if name == "reverse" else None)
    if values["serial"] is not None:
        values["serial"] = parse_range(values["serial"], "--serial", count)
    if values["requested"] is not None:
        values["requested"] = parse_range(values["requested"], "--requested", parse_size)
    if values["arena"] is not None:
        values["arena"] = count(values["arena"], "--arena")
    if values["sort"] is not None and values["sort"] not in SORT_KEYS:
        raise UsageError("--sort wants one of %s, not %r" % (", ".join(SORT_KEYS), values["sort"]))
    if values["site"] is not None and not values["site"]:
        raise UsageError("--site wants a pattern")


def selection(values, sites):
    """The Selection an ant-walk's options ask for; `sites` (a sites.Sites)
    names the sites a --site pattern is matched against."""
    return Selection(values["state"], values["min_size"], values["limit"],
                     site=SitePattern(values["site"], sites) if values["site"] else None,
                     serial=values["serial"], requested=values["requested"],
                     arena=values["arena"], sort=values["sort"], reverse=values["reverse"])
