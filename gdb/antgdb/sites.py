"""Names for site addresses (the allocator's callers), each asked once."""


class Sites:
    """Wraps `symbolize(address) -> (symbol, line)`, either None when
    unknown; without one, sites are shown as addresses."""

    def __init__(self, symbolize=None):
        self._symbolize = symbolize
        self._cache = {}

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
        if symbol:
            names += [symbol, symbol.split("+", 1)[0]]
        if line:
            names.append(line)
        return names

    def text(self, address, missing="-"):
        """"main+42 at prog.c:10", the bare symbol or address when that is
        all there is, `missing` for no site."""
        if not address:
            return missing
        symbol, line = self(address)
        return (symbol or "0x%x" % address) + (" at " + line if line else "")
