"""Names for site addresses (the allocator's callers), each asked once."""
import re

from . import stacks

# An address the allocator's own report names, and what it says of it:
# "0x5555555551dc (prog+0x11dc)" or "0x401136 (prog+0x1136, main+0x26)".
_REPORTED = re.compile(r"0x([0-9a-f]+) \(([^\s(),]+\+0x[0-9a-f]+)(?:, [^()]*)?\)")


class Sites:
    """Wraps `symbolize(address) -> (symbol, line)`, either None when
    unknown, and `module(address) -> "file+0xoffset"` (modules.Modules.name)
    for an address with no symbol; without them, sites are shown as
    addresses.

    A site may be a call stack (stacks.py), once `stacks` is set: then it
    stands for its first frame wherever one address is shown, and
    `frames`, `stack_texts` and `text` (as "first < caller < ...") show
    the rest. Stacks are shown up to `main`, as gdb's backtrace is."""

    def __init__(self, symbolize=None, module=None, stacks=None):
        self._symbolize = symbolize
        self._module = module
        self._cache = {}
        self._modules = {}
        self._texts = {}
        self.stacks = stacks

    def frames(self, site):
        """The return addresses of a site that is a stack, the allocator's
        caller first, up to main; None for a site that is one address."""
        if not site or not self.stacks or not stacks.is_stack(site):
            return None
        found = self.stacks.frames(site)
        if found is None:
            return None
        shown = []
        for address in found:
            shown.append(address)
            symbol = self(address)[0]
            if symbol and symbol.split("+", 1)[0] == "main":
                break
        return shown

    def address(self, site):
        """The return address a site stands for: itself, or its stack's
        first frame (0 for a stack the store cannot give)."""
        if not site or not stacks.is_stack(site):
            return site
        found = self.frames(site)
        return found[0] if found else 0

    def stack_texts(self, site):
        """Each frame's text, "#1 main+36 at prog.c:30"; none for a site
        that is one address, or a stack of one frame up to main."""
        found = self.frames(site) or ()
        return ["#%d %s" % (i, self.text(address)) for i, address in enumerate(found)] if len(found) > 1 else []

    def module(self, address):
        """"file+0xoffset" as addr2line reads it, or None."""
        if address not in self._modules:
            self._modules[address] = self._module(address) if self._module and address else None
        return self._modules[address]

    def __call__(self, address):
        if address and stacks.is_stack(address):
            address = self.address(address)
        if address not in self._cache:
            known = self._symbolize and address
            self._cache[address] = self._symbolize(address) if known else (None, None)
        return self._cache[address]

    def names(self, address):
        """What a --site pattern is held against: the whole text, the
        symbol, its function (the symbol without +offset), its file:line,
        and the address in hex; none for no site."""
        if not address:
            return []
        if stacks.is_stack(address):
            return [self.text(address)] + [name for frame in self.frames(address) or ()
                                           for name in self.names(frame)]
        symbol, line = self(address)
        names = [self.text(address), "0x%x" % address]
        if not symbol and self.module(address):
            names.append(self.module(address))
        if symbol:
            names += [symbol, symbol.split("+", 1)[0]]
        if line:
            names.append(line)
        return names

    def text(self, address, missing="-"):
        """"main+42 at prog.c:10", the bare symbol when that is all there
        is; with no symbol the address and, where a file is mapped there,
        the file and offset addr2line takes ("0x5555555551dc
        (prog+0x11dc)"); `missing` for no site."""
        if not address:
            return missing
        if stacks.is_stack(address):
            return self._stack_text(address)
        symbol, line = self(address)
        if not symbol and self.module(address):
            symbol = "0x%x (%s)" % (address, self.module(address))
        return (symbol or "0x%x" % address) + (" at " + line if line else "")

    def _stack_text(self, site):
        """"push+26 at prog.c:9 < lose+54 < main+36": the first frame
        whole, its callers by symbol (or file+offset) alone."""
        text = self._texts.get(site)
        if text is None:
            found = self.frames(site)
            if not found:
                text = "0x%x (a call stack %s)" % (site, "the store does not hold" if self.stacks
                                                   else "this reader cannot see")
            else:
                text = " < ".join([self.text(found[0])] + [self._caller(address) for address in found[1:]])
            self._texts[site] = text
        return text

    def _caller(self, address):
        return self(address)[0] or self.module(address) or "0x%x" % address

    def annotate(self, text):
        """The allocator's report `text` with gdb's name for each address
        it gives: "0x5555555551dc (prog+0x11dc)" becomes "0x5555555551dc
        (prog+0x11dc, make_node+18 at prog.c:51)", the report's own
        dynamic symbol replaced; an address gdb cannot name is left."""
        def named(match):
            address = int(match.group(1), 16)
            symbol, line = self(address)
            if not symbol and not line:
                return match.group(0)
            return "0x%x (%s, %s)" % (address, match.group(2), self.text(address))
        return _REPORTED.sub(named, text)
