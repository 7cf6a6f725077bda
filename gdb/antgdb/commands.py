"""The ant-* gdb commands: the only module that imports gdb.

Each command parses its arguments (options.py), turns the selected inferior
into a memory reader, finds the root, walks the heap once and renders. It
never calls a function in the inferior, and every failure reaches the user
as a gdb error with a sentence, never as a Python traceback.
"""
import os
import re

import gdb

from . import (breaks, diffing, filters, heap, locate, modules, native, options, render, sitegroups,
               style, svgmap)
from .sites import Sites
from .errors import AntError, Unreadable, UsageError
from .memory import CachedReader, CoreReader, ProcReader, Reader
from .output import OutputFile
from . import leakreport, reach, roots
from . import slow_walk
from . import kept

ROOT_SYMBOL = "ant_root"
WRITE_BATCH = 1 << 20  # characters a gdb.write takes at most, about
_CORE_FILE = re.compile(r"core dump file:\s*`(.+?)'", re.S)
_INFO_SYMBOL = re.compile(r"^(.+?)(?: \+ (\d+))? in section")


class GdbReader(Reader):
    """Memory through gdb itself: the fallback when neither the core file
    nor /proc/PID/mem can be read directly (a remote target, say)."""

    def __init__(self, inferior):
        self._inferior = inferior

    def read(self, address, size):
        try:
            return self._inferior.read_memory(address, size).tobytes()
        except (gdb.MemoryError, gdb.error, OverflowError, ValueError) as error:
            raise Unreadable(address, size, str(error)) from None


def _core_path():
    path = getattr(gdb.current_progspace(), "core_filename", None)  # gdb 14 and later
    if path:
        return path
    match = _CORE_FILE.search(gdb.execute("info target", to_string=True))
    return match.group(1) if match else None


def _open_reader():
    """(reader, closer): the core file's segments for a core, /proc/PID/mem
    for a live native process, else gdb's own memory access."""
    inferior = gdb.selected_inferior()
    core = _core_path()
    if core:
        try:
            reader = CoreReader(core)
            return CachedReader(reader), reader.close
        except (OSError, AntError):
            pass
    elif inferior.pid == 0:
        raise UsageError("no process and no core file: start the program (run, start), "
                         "attach to one, or load a core (core-file FILE)")
    else:
        connection = getattr(inferior, "connection", None)
        if connection is None or connection.type == "native":
            try:
                reader = ProcReader(inferior.pid)
                return CachedReader(reader), reader.close
            except OSError:
                pass
    return CachedReader(GdbReader(inferior)), lambda: None


def _symbol_roots():
    """Addresses of ant_root as the symbols give them: debug symbols in
    every objfile, else the minimal symbol (a program without debug info)."""
    found = []
    for objfile in gdb.objfiles():
        for lookup in (objfile.lookup_global_symbol, objfile.lookup_static_symbol):
            try:
                symbol = lookup(ROOT_SYMBOL)
                if symbol is not None and symbol.is_variable:
                    found.append(int(symbol.value().address))
            except (gdb.error, RuntimeError):
                continue
    if not found:
        try:
            found.append(int(gdb.parse_and_eval("&" + ROOT_SYMBOL)))
        except gdb.error:
            pass
    return found


def _address(expression):
    """The address an expression denotes: a pointer's or an integer's value,
    an array's address."""
    try:
        value = gdb.parse_and_eval(expression)
        if value.type.strip_typedefs().code == gdb.TYPE_CODE_ARRAY:
            value = value.address
        return int(value) & ((1 << 64) - 1)
    except gdb.error as error:
        raise UsageError("cannot evaluate %r: %s" % (expression, error)) from None


class Symbols:
    """gdb's names for site addresses: the symbol from minimal symbols, so
    programs without debug info still get one, and the line of the call
    (the site is a return address, so the call is one byte before it)."""

    def __call__(self, address):
        symbol = line = None
        try:
            match = _INFO_SYMBOL.match(gdb.execute("info symbol 0x%x" % address,
                                                   to_string=True))
            if match:
                symbol = match.group(1) + ("+" + match.group(2) if match.group(2) else "")
        except gdb.error:
            pass
        try:
            sal = gdb.find_pc_line(address - 1)
            if sal.symtab is not None and sal.line:
                line = "%s:%d" % (os.path.basename(sal.symtab.filename), sal.line)
        except gdb.error:
            pass
        return symbol, line


class Modules:
    """modules.Modules over gdb's `info proc mappings`, read when first
    asked: "file+0xoffset" for a site with no symbol."""

    def __init__(self):
        self._found = None

    def __call__(self, address):
        if self._found is None:
            try:
                text = gdb.execute("info proc mappings", to_string=True)
            except gdb.error:
                text = ""
            self._found = modules.Modules(modules.parse_mappings(text), _elf_type)
        return self._found.name(address)


def _elf_type(address):
    """e_type of the ELF header mapped at address, or None."""
    try:
        return int.from_bytes(gdb.selected_inferior().read_memory(address + 16, 2).tobytes(), "little")
    except (gdb.error, gdb.MemoryError):
        return None


def _walk(values):
    """Reader, heap and site names for one invocation; the reader must be
    closed by the caller."""
    reader, close = _open_reader()
    try:
        if values["root"] is not None:
            candidates = [_address(values["root"])]
        else:
            candidates = _symbol_roots()
        layouts = locate.locate(reader, candidates)
        sites = Sites(Symbols(), Modules())
        walked = heap.walk(reader, layouts[0], sites)
        for line in slow_walk.once(len(walked.nodes)):
            gdb.write(line + "\n", gdb.STDERR)
        if len(layouts) > 1:
            walked.notes.append("other Ant heaps found, with roots at %s; choose one with --root"
                                % ", ".join("0x%x" % layout.address for layout in layouts[1:]))
        return walked, sites, close
    except BaseException:
        close()
        raise


def _styled():
    """Colour where gdb would: styling on, and a terminal on stdout."""
    try:
        enabled = gdb.parameter("style enabled")
    except (gdb.error, RuntimeError):
        return False
    return bool(enabled) and os.isatty(1) and os.environ.get("TERM", "dumb") != "dumb"


class _Out:
    """Where a command's text goes: gdb's output, or the file --output
    names (output.OutputFile says how each kind of file is written)."""

    def __init__(self, path):
        self.file = None if path is None else OutputFile(path, gdb.flush)

    def write(self, text):
        if self.file is None:
            gdb.write(text)
        else:
            self.file.write(text)

    def lines(self, lines):
        """Writes lines in batches of about a MiB: a million rows through one
        gdb.write each would cost more than the walk, and the whole of them
        in one string as much again in memory."""
        if self.file is None and _styled():
            lines = map(style.paint, lines)
        batch, size = [], 0
        for line in lines:
            batch.append(line)
            size += len(line)
            if size >= WRITE_BATCH:
                self.write("\n".join(batch) + "\n")
                batch, size = [], 0
        if batch:
            self.write("\n".join(batch) + "\n")

    def keep(self, name):
        """The file is complete, and gdb says so."""
        if self.file is None:
            return
        self.file.commit()
        gdb.write("%s: wrote %s characters to %s\n" % (name, "{:,}".format(self.file.written), self.file.path))

    def drop(self):
        if self.file is not None:
            self.file.discard()


class AntCommand(gdb.Command):
    """Shared by the ant-* commands: parse, walk, render, and turn every
    failure into a gdb error."""

    name = None

    def __init__(self):
        super().__init__(self.name, gdb.COMMAND_DATA)

    def invoke(self, argument, from_tty):
        self.dont_repeat()
        try:
            values = options.parse(self.name, argument)
            if values["help"]:
                gdb.write(options.SPECS[self.name].help() + "\n")
                return
            if values["address"] is not None:  # a bad expression fails before the walk
                values["address"] = _address(values["address"])
            self.prepare(values)  # and so does anything the command reads first
            out = _Out(values["output"])  # and a file that cannot be made
            try:
                if self.needs_heap(values):
                    walked, sites, close = _walk(values)
                else:
                    walked, sites, close = None, Sites(Symbols(), Modules()), lambda: None
                try:
                    failure = self.run(walked, sites, values, out)
                finally:
                    close()
                out.keep(self.name)
            finally:
                out.drop()
            if failure:
                raise gdb.GdbError(failure)
        except gdb.GdbError:
            raise
        except AntError as error:
            raise gdb.GdbError("%s: %s" % (self.name, error)) from None
        except gdb.error as error:
            raise gdb.GdbError("%s: %s" % (self.name, error)) from None
        except Exception as error:  # a bug of ours: still one line, never a traceback
            raise gdb.GdbError("%s: internal error, please report: %s: %s"
                               % (self.name, type(error).__name__, error)) from None

    def prepare(self, values):
        """Reads or checks what the command needs before the heap."""

    def needs_heap(self, values):
        return True

    def complete(self, text, word):
        found = options.complete(self.name, text, word)
        return gdb.COMPLETE_EXPRESSION if found is None else found


class AntHeap(AntCommand):
    __doc__ = options.SPECS["ant-heap"].help()
    name = "ant-heap"

    def run(self, walked, sites, values, out):
        if values["json"]:
            out.write(render.dumps(render.heap_dict(walked)) + "\n")
        else:
            # The allocator's own report names sites as it can; gdb adds its names.
            out.lines(sites.annotate(line) if line.startswith("  last error") else line
                      for line in render.heap_lines(walked, sites))


class AntWalk(AntCommand):
    __doc__ = options.SPECS["ant-walk"].help()
    name = "ant-walk"

    def run(self, walked, sites, values, out):
        chosen = filters.selection(values, sites)
        chosen.check(walked)
        if values["json"]:
            out.lines(render.walk_json_lines(walked, sites, chosen))
        else:
            out.lines(render.walk_lines(walked, sites, chosen))


class AntCheck(AntCommand):
    __doc__ = options.SPECS["ant-check"].help()
    name = "ant-check"

    def run(self, walked, sites, values, out):
        if values["json"]:
            out.write(render.dumps(render.check_dict(walked)) + "\n")
        else:
            out.lines(render.check_lines(walked))
        if walked.problems:
            return "ant-check: %d problem%s found" % (
                len(walked.problems), "" if len(walked.problems) == 1 else "s")
        return None


class AntBlock(AntCommand):
    __doc__ = options.SPECS["ant-block"].help()
    name = "ant-block"

    def run(self, walked, sites, values, out):
        address = values["address"]
        block, where = walked.find(address)
        slot = kept.holding(walked.kept, address) if block is None else None
        if slot is not None:
            if values["json"]:
                out.write(render.dumps(kept.block_dict(slot, address, sites)) + "\n")
            else:
                out.lines(kept.block_lines(slot, address, sites.text))
            return None
        if block is None:
            raise UsageError("0x%x is %s" % (address, where))
        if values["json"]:
            out.write(render.dumps(render.block_dict(walked, block, sites, address)) + "\n")
        else:
            out.lines(render.block_lines(walked, block, sites, address))


class AntMap(AntCommand):
    __doc__ = options.SPECS["ant-map"].help()
    name = "ant-map"

    def run(self, walked, sites, values, out):
        out.lines(svgmap.map_lines(walked, sites))


def _register_words(value):
    """The 64-bit words a register holds: one, or a vector register's
    lanes; none for a register gdb cannot show."""
    kind = value.type.strip_typedefs()
    if kind.code == gdb.TYPE_CODE_UNION:
        for field in kind.fields():
            if field.name in ("v2_int64", "v4_int64", "v8_int64", "uint128"):
                lanes = value[field.name]
                if field.name == "uint128":
                    number = int(lanes)
                    return [number & (2**64 - 1), number >> 64]
                low, high = field.type.range()
                return [int(lanes[i]) & (2**64 - 1) for i in range(low, high + 1)]
        return []
    if kind.code in (gdb.TYPE_CODE_INT, gdb.TYPE_CODE_PTR) and kind.sizeof <= 8:
        return [int(value) & (2**64 - 1)]
    return []


def _thread(thread, frames):
    """roots.Thread of the selected thread: its newest frame's registers,
    and its frames' stack pointers when `frames`."""
    newest = gdb.newest_frame()
    registers = {}
    names = set()
    architecture = newest.architecture()
    for group in ("general", "vector"):
        try:
            descriptors = list(architecture.registers(group))
        except (gdb.error, ValueError):
            continue
        for descriptor in descriptors:
            if descriptor.name in names:
                continue
            names.add(descriptor.name)
            try:
                words = _register_words(newest.read_register(descriptor))
            except (gdb.error, ValueError):
                continue
            if words:
                registers[descriptor.name] = words
    sp = int(newest.read_register("sp")) & (2**64 - 1)
    stack = []
    frame = newest
    while frames and frame is not None and len(stack) < 100000:
        try:
            stack.append((int(frame.read_register("sp")) & (2**64 - 1),
                          frame.name() or "0x%x" % frame.pc()))
            frame = frame.older()
        except gdb.error:
            break
    return roots.Thread(thread.num, thread.ptid[1], registers, sp, stack)


def _threads(frames=False):
    """roots.Thread of every thread of the inferior, the selection kept."""
    inferior = gdb.selected_inferior()
    selected = gdb.selected_thread()
    try:
        frame = gdb.selected_frame()
    except gdb.error:
        frame = None
    found = []
    try:
        for thread in sorted(inferior.threads(), key=lambda thread: thread.num):
            if not thread.is_valid() or thread.is_running():
                continue
            thread.switch()
            try:
                found.append(_thread(thread, frames))
            except gdb.error:
                continue
    finally:
        if selected is not None and selected.is_valid():
            selected.switch()
            if frame is not None and frame.is_valid():
                frame.select()
    return found


def _mappings(reader):
    """[(start, end, writable, name)] of the target's memory: /proc/PID/maps
    for a live process, the core's segments for a core."""
    pid = gdb.selected_inferior().pid
    if not _core_path() and pid:
        try:
            with open("/proc/%d/maps" % pid) as maps:
                return roots.parse_maps(maps.read())
        except OSError:
            pass
    ranges = reader.ranges()
    if ranges is None:
        raise UsageError("the target's memory map is unknown here (not a core, nor a "
                         "local process): its roots cannot be found")
    found = [(start, end, writable, None) for start, end, writable in ranges]
    try:
        files = roots.parse_gdb_mappings(gdb.execute("info proc mappings", to_string=True))
    except gdb.error:
        files = []
    return roots.named(found, files)


def _roots(walked, frames=False):
    threads = _threads(frames)
    return threads, roots.areas(_mappings(walked.reader), threads, walked)


class AntLeaks(AntCommand):
    __doc__ = options.SPECS["ant-leaks"].help()
    name = "ant-leaks"

    def run(self, walked, sites, values, out):
        threads, areas = _roots(walked)
        found = reach.leaks(walked, threads, areas)
        if values["json"]:
            out.lines(leakreport.leaks_json_lines(walked, found, sites))
        else:
            out.lines(leakreport.leaks_lines(walked, found, sites))
        return leakreport.failure(found)


def _data_symbol(address):
    """"name+offset in section" as gdb's info symbol says, or None."""
    try:
        text = gdb.execute("info symbol 0x%x" % address, to_string=True).strip()
    except gdb.error:
        return None
    return None if text.startswith("No symbol") else text


class AntRefs(AntCommand):
    __doc__ = options.SPECS["ant-refs"].help()
    name = "ant-refs"

    def run(self, walked, sites, values, out):
        address = values["address"]
        block, where = walked.find(address)
        if block is None:
            raise UsageError("0x%x is %s" % (address, where))
        threads, areas = _roots(walked, frames=True)
        found = reach.refs(walked, threads, areas, block)
        entries = leakreport.refs_entries(walked, found, sites, _data_symbol)
        if values["json"]:
            out.write(render.dumps(leakreport.refs_dict(block, entries)) + "\n")
        else:
            out.lines(leakreport.refs_lines(block, entries))


class AntSites(AntCommand):
    __doc__ = options.SPECS["ant-sites"].help()
    name = "ant-sites"

    def run(self, walked, sites, values, out):
        found = sitegroups.groups(walked, native.load(), values["free"])
        if values["json"]:
            out.write(render.dumps(sitegroups.as_json(found, sites, values.get("top"))) + "\n")
        else:
            out.lines(sitegroups.lines(found, sites, values.get("top"), values["free"]))


class AntDiff(AntCommand):
    __doc__ = options.SPECS["ant-diff"].help()
    name = "ant-diff"

    def prepare(self, values):
        values["walks"] = [diffing.read_walk(path) for path in values["files"]]

    def needs_heap(self, values):
        return len(values["walks"]) == 1

    def run(self, walked, sites, values, out):
        walks = values["walks"]
        if walked is not None:
            walks.append(diffing.heap_walk(walked, sites, native.load()))
        diff = diffing.Diff(*walks)
        if values["json"]:
            out.write(render.dumps(diff.as_dict(sites)) + "\n")
        else:
            out.lines(diff.lines(sites))


class AntBreak(AntCommand):
    __doc__ = options.SPECS["ant-break"].help()
    name = "ant-break"

    def prepare(self, values):
        if values["break_serial"] is not None:
            breaks.encode(values["break_serial"])  # a serial no node can have fails first
            if _core_path():
                raise UsageError("a core file cannot be changed: run the program, or attach to "
                                 "it, to stop at an allocation (ant-break alone shows the setting)")

    def needs_heap(self, values):
        return False

    def run(self, walked, sites, values, out):
        reader, close = _open_reader()
        try:
            layout = locate.locate(reader, [_address(values["root"])] if values["root"]
                                   else _symbol_roots())[0]
            address, size = breaks.place(layout)
            before = breaks.decode(reader.read(address, size))
        finally:
            close()
        after = values["break_serial"]
        if after is None:
            after = before
        elif after != before:
            inferior = gdb.selected_inferior()
            try:
                inferior.write_memory(address, breaks.encode(after))
                written = breaks.decode(inferior.read_memory(address, size).tobytes())
            except gdb.MemoryError as error:
                raise UsageError("cannot write root.break_serial at 0x%x: %s" % (address, error))
            if written != after:
                raise UsageError("root.break_serial at 0x%x reads %d after writing %d"
                                 % (address, written, after))
        if values["json"]:
            out.write(render.dumps(breaks.as_dict(before, after, layout.serial)) + "\n")
        else:
            out.lines(breaks.lines(before, after, layout.serial))


COMMANDS = (AntHeap, AntWalk, AntCheck, AntBlock, AntLeaks, AntRefs, AntMap, AntSites, AntDiff,
            AntBreak)
_registered = []


def register():
    """Registers every ant-* command once; the loader calls this, and a
    second call (a script sourced twice, or auto-loaded for both libant
    and libantmalloc) does nothing."""
    if not _registered:
        _registered.extend(command() for command in COMMANDS)
