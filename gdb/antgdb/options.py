"""The commands' arguments and help, kept apart from gdb so they are tested
like the rest of the core: commands.py hands over the raw argument string
and evaluates the address expressions this module returns as text."""
import os
import re
import textwrap

from . import filters
from .check import KINDS
from .errors import UsageError
from .selection import SORT_KEYS

FRAGMENTATION = (
    "Fragmentation is 1 - (largest free extent / free bytes), where the free\n"
    "bytes are the free blocks plus each HEAP region's wilderness and a free\n"
    "extent never spans two regions: 0.0 when all free space is one piece,\n"
    "near 1.0 when it is scattered in small holes. It says what the next\n"
    "request can get, but a large wilderness hides the holes: a heap of many\n"
    "small holes beside most of a MiB of wilderness scores near 0.\n\n"
    "\"holes only\" is 1 - (largest free block / bytes in free blocks), the\n"
    "wilderness left out: how scattered the holes are among themselves (JSON\n"
    "holes_fragmentation, per region too). Both are external fragmentation:\n"
    "free bytes in pieces too small for a request.\n\n"
    "\"internal\" is internal fragmentation: the bytes of used blocks beyond\n"
    "those requested (each block's node, tail sentinel and padding to 16),\n"
    "and their share of the used blocks' bytes (JSON\n"
    "internal_fragmentation_bytes and internal_fragmentation).")

ROOT = ("--root", "ADDR", "read the Ant heap whose root is at ADDR (an expression),\n"
        "when there are several (libant and libantmalloc each keep one)")
JSON = ("--json", None, "print JSON instead of text (see gdb/README.md)")
OUTPUT = ("--output", "FILE", "write to FILE instead of the screen: FILE is replaced only\n"
          "once all of it is written, and left as it was on an error")


class Spec:
    def __init__(self, summary, usage, options, positional=None, more=""):
        self.summary = summary
        self.usage = usage
        self.options = options  # (flag, value name or None, help)
        self.positional = positional  # (name, help) or None
        self.more = more

    def help(self):
        lines = [self.summary, "Usage: " + self.usage, ""]
        entries = list(self.options) + [("--help", None, "show this help")]
        if self.positional:
            entries.insert(0, (self.positional[0], None, self.positional[1]))
        width = max(len(flag + (" " + value if value else "")) for flag, value, _ in entries)
        for flag, value, text in entries:
            head = flag + (" " + value if value else "")
            pad = "\n" + " " * (width + 4)
            lines.append("  %-*s  %s" % (width, head, text.replace("\n", pad)))
        if self.more:
            lines += [""] + self.more.splitlines()
        return "\n".join(lines)


SPECS = {
    "ant-heap": Spec(
        "Summarise the Ant heap: arenas, regions, blocks, bytes, fragmentation, problems.",
        "ant-heap [--json] [--output FILE] [--root ADDR]",
        [JSON, OUTPUT, ROOT],
        more=FRAGMENTATION + "\n\nEach HEAP region is drawn as one strip: # used, "
        ". free, ! damaged,\n~ wilderness."),
    "ant-walk": Spec(
        "List the blocks of the Ant heap in address order, one row per block.",
        "ant-walk [--used|--free|--cached|--quarantined] [--min-size N] [--site PATTERN] [--serial A-B] "
        "[--requested A-B] [--arena N] [--sort KEY] [--reverse] [--limit N] [--json] "
        "[--output FILE] [--root ADDR]",
        [("--used", None, "only blocks in use"),
         ("--free", None, "only free blocks"),
         ("--cached", None, "only blocks waiting in a thread cache (freed by the\n"
                            "program, not yet returned to the heap)"),
         ("--quarantined", None, "only blocks held in a quarantine (freed by the\n"
                                 "program, held back from reuse: ANT_OPTIONS=quarantine)"),
         ("--min-size", "N", "only blocks of at least N bytes (block size; 4K, 1M, 0x100 work)"),
         *filters.OPTIONS,
         ("--limit", "N", "stop after N rows (the first N in the order asked for)"),
         JSON, OUTPUT, ROOT],
        more="Columns: node address, mem address (what malloc returned), block size\n"
        "(node included), requested bytes (of a used block), state (used, free,\n"
        "cached in a thread cache or a depot, quarantined, or unknown when the\n"
        "node is damaged), serial (the Nth allocation), and site (the caller of\n"
        "malloc, with its symbol and line where gdb knows them). Regions come in\n"
        "the order of their arena's lists; blocks within a region by address,\n"
        "unless --sort or --reverse says otherwise. A row passes every filter\n"
        "given. A PATTERN holds no spaces: * stands for them."),
    "ant-sites": Spec(
        "Group the Ant heap's blocks by allocation site, largest requested bytes first.",
        "ant-sites [--top N] [--free] [--json] [--output FILE] [--root ADDR]",
        [("--top", "N", "only the N sites with the most requested bytes"),
         ("--free", None, "the blocks the program freed (free, cached in a thread\n"
                          "cache or a depot, and quarantined) by the site of their\n"
                          "last owner"),
         JSON, OUTPUT, ROOT],
        more="Columns: blocks, requested bytes (a freed block's are its last\n"
        "owner's), block bytes (nodes included), the lowest and highest serial,\n"
        "and the site (symbol and line where gdb knows them). The last line sums\n"
        "every site, shown or not. A site is the call stack the node records\n"
        "(ANT_OPTIONS=stack=N, on by default), so blocks a wrapper such as\n"
        "xmalloc made for different callers are groups of their own; with\n"
        "stack=0 it is the return address alone, and a wrapper gathers them."),
    "ant-diff": Spec(
        "Show what changed between two Ant heaps: blocks new and freed, by site.",
        "ant-diff OLD [NEW] [--json] [--output FILE] [--root ADDR]",
        [JSON, OUTPUT, ROOT],
        positional=("OLD [NEW]", "files written by ant-walk --json --output FILE (names\n"
                                 "without spaces); with OLD alone, NEW is the heap at hand"),
        more="Blocks are matched by serial, which no two allocations share: a block\n"
        "used in NEW whose serial OLD did not have in use is new, one used in OLD\n"
        "that NEW no longer has in use was freed. Blocks with problems are left\n"
        "out. The sites that grew the most come first; bytes are block bytes."),
    "ant-break": Spec(
        "Make the allocation of serial N raise SIGTRAP in a live process, or show which does.",
        "ant-break [N] [--json] [--output FILE] [--root ADDR]",
        [JSON, OUTPUT, ROOT],
        positional=("N", "the serial whose allocation stops the program (0 clears\n"
                         "it); without N, the current setting is shown"),
        more="The serial is the one ant-walk, ant-block, ant-sites and ant-check give\n"
        "for a block: in a program that allocates the same way each run, the\n"
        "allocation that made a block found damaged or leaked takes the same\n"
        "serial again. ant-break writes root.break_serial in the process's memory\n"
        "(it never calls a function there); the allocation that takes serial N\n"
        "raises SIGTRAP in its thread once its block is whole, and gdb stops\n"
        "there (`continue` goes on). ANT_OPTIONS=break_serial=N sets it at\n"
        "start-up. A core cannot be changed: there ant-break only shows it."),
    "ant-check": Spec(
        "Check every rule of the Ant heap layout and name each problem and its culprit.",
        "ant-check [--json] [--output FILE] [--root ADDR]",
        [JSON, OUTPUT, ROOT],
        more="Prints one line per problem, naming the invariant (I1..I18 of\n"
        "<ant/layout.h>) and both sides of the broken relation, then a verdict.\n"
        "With problems it ends in an error, so `gdb -batch` exits non-zero.\n\n"
        "Problem kinds:\n" + "\n".join(
            textwrap.fill(text, 78, initial_indent="  %-15s " % kind, subsequent_indent=" " * 18,
                          break_on_hyphens=False)
            for kind, text in KINDS.items())),
    "ant-block": Spec(
        "Show the Ant block holding an address: its node decoded, neighbours, site, bytes.",
        "ant-block ADDR [--json] [--output FILE] [--root ADDR]",
        [JSON, OUTPUT, ROOT],
        positional=("ADDR", "an expression for any address inside the block:\n"
                            "its mem, its node, or an interior byte"),
        more="Each node field is shown with the value the rules expect; the tail\n"
        "sentinel, or the links, the record of who freed the block and the\n"
        "poison are checked; the start of mem is dumped."),
    "ant-leaks": Spec(
        "Find the Ant heap's leaks: used blocks nothing reachable points to, by site.",
        "ant-leaks [--json] [--output FILE] [--root ADDR]",
        [JSON, OUTPUT, ROOT],
        more="Roots: every thread's registers and its stack from its stack pointer up,\n"
        "and every other writable mapping (data, bss, TLS, other mappings, other\n"
        "allocators' memory), but not the Ant heap nor the allocator's own records.\n"
        "From them, a word that equals a used block's mem points to it, one inside\n"
        "its requested bytes into it. As Valgrind's memcheck says:\n"
        "  definite  nothing reachable points into the block\n"
        "  indirect  only other leaked blocks point into it\n"
        "  possible  reached only through a pointer into some block's interior\n"
        "Blocks in thread caches and depots, and free blocks, are not leaks.\n"
        "With definite leaks it ends in an error, so `gdb -batch` exits non-zero."),
    "ant-refs": Spec(
        "List every word in the Ant heap and the roots that points into a block.",
        "ant-refs ADDR [--json] [--output FILE] [--root ADDR]",
        [JSON, OUTPUT, ROOT],
        positional=("ADDR", "an expression for any address inside the block"),
        more="Scans the words of every used block (its requested bytes), every\n"
        "thread's registers and stack, and the writable mappings that are roots\n"
        "(see ant-leaks) for values from the block's mem to its end. Each is\n"
        "shown with where it is: a block's mem and offset, a thread's register,\n"
        "a thread's stack frame, or a mapping with the symbol gdb knows there;\n"
        "-> +N is the offset into the block it points to."),
    "ant-map": Spec(
        "Draw the Ant heap as an SVG picture: every region to scale, blocks by state.",
        "ant-map --svg FILE [--root ADDR]",
        [("--svg", "FILE", "write the picture to FILE (replaced only once all of\n"
                           "it is written); open it in a web browser"),
         ROOT],
        more="Each region is drawn as rows of pixels, the same bytes a pixel for all,\n"
        "blocks coloured by state (used, free, cached in a thread cache or in an\n"
        "arena's depot, unknown where the node is damaged), the region's header,\n"
        "and the wilderness. A block's tooltip gives its mem, size, requested\n"
        "bytes, serial and site; damaged blocks (what ant-check reports) carry a\n"
        "red mark. Blocks narrower than two pixels are drawn together as one\n"
        "span whose colour mixes their states by bytes and whose tooltip counts\n"
        "them, so a million blocks make a file of a few MB."),
}

_SIZE = re.compile(r"^(0x[0-9a-f]+|[0-9]+)\s*(b|k|kib|kb|m|mib|mb|g|gib|gb)?$", re.I)
_SCALE = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


_STATE_FLAGS = ("--used", "--free", "--cached", "--quarantined")  # ant-walk's filters, one at most


def parse_size(text, what):
    match = _SIZE.match(text.strip())
    if not match:
        raise UsageError("%s wants a number of bytes such as 4096, 0x1000 or 4K, not %r"
                         % (what, text))
    number = int(match.group(1), 0)
    return number * _SCALE[(match.group(2) or "")[:1].lower()]


def parse(command, text):
    """The options of one invocation as a dict; raises UsageError."""
    spec = SPECS[command]
    values = {"json": False, "help": False, "root": None, "used": False,
              "free": False, "cached": False, "quarantined": False, "min_size": 0, "limit": None, "address": None,
              "output": None, "svg": None}
    flags = {flag: value for flag, value, _ in spec.options}
    words = text.split()
    if "--help" in words:
        values["help"] = True
        return values
    rest = []
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word == "--" and spec.positional:
            rest += words[index:]
            break
        if not word.startswith("--") or word == "--":
            rest.append(word)
            continue
        name, _, inline = word.partition("=")
        if name not in flags:
            close = [flag for flag in flags if flag.startswith(name)]
            hint = " (did you mean %s?)" % " or ".join(close) if close else ""
            raise UsageError("unknown option %s%s; try %s --help" % (name, hint, command))
        if flags[name] is None:
            if inline:
                raise UsageError("%s takes no value" % name)
            values[name[2:].replace("-", "_")] = True
            continue
        if not inline:
            if index >= len(words):
                raise UsageError("%s needs a value (%s)" % (name, flags[name]))
            inline = words[index]
            index += 1
        values[name[2:].replace("-", "_")] = inline
    states = [flag[2:] for flag in _STATE_FLAGS if values[flag[2:]]]
    if len(states) > 1:
        raise UsageError("--%s exclude each other" % " and --".join(states))
    values["state"] = states[0] if states else None
    if isinstance(values["min_size"], str):
        values["min_size"] = parse_size(values["min_size"], "--min-size")
    if isinstance(values["limit"], str):
        if not re.match(r"^(0x[0-9a-f]+|[0-9]+)$", values["limit"].strip(), re.I):
            raise UsageError("--limit wants a number of rows such as 20, not %r" % values["limit"])
        values["limit"] = int(values["limit"], 0)
        if values["limit"] < 1:
            raise UsageError("--limit wants at least 1")
    if command == "ant-walk":
        filters.finish(values, parse_size)
    if isinstance(values.get("top"), str):
        values["top"] = filters.count(values["top"], "--top")
        if values["top"] < 1:
            raise UsageError("--top wants at least 1")
    if command == "ant-map":
        if values["svg"] is None:
            raise UsageError("where should the picture go? Usage: " + spec.usage)
        values["output"] = values["svg"]
    if command == "ant-diff":
        if not 1 <= len(rest) <= 2:
            raise UsageError("which walks? OLD, and NEW or else the heap at hand; "
                             "usage: " + spec.usage)
        values["files"] = rest
    elif command == "ant-break":
        if len(rest) > 1:
            raise UsageError("ant-break takes one serial; usage: " + spec.usage)
        values["break_serial"] = filters.count(rest[0], "ant-break") if rest else None
    elif spec.positional:
        if not rest:
            raise UsageError("which address? Usage: " + spec.usage)
        values["address"] = " ".join(rest)
    elif rest:
        raise UsageError("unexpected argument %r; usage: %s" % (" ".join(rest), spec.usage))
    return values


def _files(token, word):
    """The names that complete the path `token`, cut as `word` is; a
    directory's ends in "/". gdb's own file completer would take the whole
    argument, options and all, for the path."""
    directory, start = os.path.split(token)
    try:
        names = os.listdir(os.path.expanduser(directory) or ".")
    except OSError:
        return []
    cut = len(token) - len(word)
    found = []
    for name in sorted(names):
        if name.startswith(start) and (start.startswith(".") or not name.startswith(".")):
            path = os.path.join(directory, name)
            found.append((path + "/" if os.path.isdir(os.path.expanduser(path)) else path)[cut:])
    return found


def complete(command, text, word):
    """Completions of `word` (the tail of the last argument after gdb's
    word-break characters, which include "-" and "/") when that argument is
    a flag or the file after --output; None when it is not a flag, for
    ant-block, whose gdb then completes an expression."""
    spec = SPECS[command]
    word = word or ""
    words = text.split()
    token = words.pop() if words and not text[-1:].isspace() else ""
    if command == "ant-diff" and not token.startswith("-"):
        return _files(token, word)
    if words and words[-1] == "--sort":
        return [key[len(token) - len(word):] for key in SORT_KEYS if key.startswith(token)]
    if words and words[-1] in ("--output", "--svg"):
        return _files(token, word)
    if not token.startswith("-"):
        if spec.positional:
            return None
        if token:
            return []
    present = set(words)
    flags = [flag for flag, _, _ in spec.options] + ["--help"]
    if command == "ant-walk" and present.intersection(_STATE_FLAGS):
        flags = [flag for flag in flags if flag not in _STATE_FLAGS]
    cut = len(token) - len(word)
    return [flag[cut:] for flag in flags if flag.startswith(token) and flag not in present]
