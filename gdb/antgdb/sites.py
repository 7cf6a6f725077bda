"""Names for site addresses (the allocator's callers), each asked once."""
import re

# An address the allocator's own report names, and what it says of it:
# "0x5555555551dc (prog+0x11dc)" or "0x401136 (prog+0x1136, main+0x26)".
_REPORTED = re.compile(r"0x([0-9a-f]+) \(([^\s(),]+\+0x[0-9a-f]+)(?:, [^()]*)?\)")


class Sites:
    """Wraps `symbolize(address) -> (symbol, line)`, either None when
    unknown, and `module(address) -> "file+0xoffset"` (modules.Modules.name)
    for an address with no symbol; without them, sites are shown as
    addresses."""

    def __init__(self, symbolize=None, module=None):
        self._symbolize = symbolize
        self._module = module
        self._cache = {}
        self._modules = {}

    def module(self, address):
        """"file+0xoffset" as addr2line reads it, or None."""
        if address not in self._modules:
            self._modules[address] = self._module(address) if self._module and address else None
        return self._modules[address]

    def __call__(self, address):
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
        symbol, line = self(address)
        if not symbol and self.module(address):
            symbol = "0x%x (%s)" % (address, self.module(address))
        return (symbol or "0x%x" % address) + (" at " + line if line else "")

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
