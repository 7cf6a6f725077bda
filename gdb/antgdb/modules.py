"""Where an address lies as addr2line wants it: the file mapped there and
the address within it, "prog+0x11dc", for sites gdb has no symbol for
(a stripped program, a library without symbols).

addr2line reads an object's own virtual addresses: for a position-
independent executable or a shared library (ELF type DYN), the address
less the object's load bias, the start of its mapping at file offset 0
(the first segment's address is 0 there, as the linkers lay them out);
for an executable linked at a fixed address (type EXEC), the address
itself. The allocator's own reports use the same form.
"""
import bisect
import os
import re

_LINE = re.compile(r"^\s*(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+"
                   r"(?:[-rwxps]{4}\s+)?(/\S.*?)\s*$")
ELF_EXEC = 2


def parse_mappings(text):
    """[(start, end, file offset, path)] of the file mappings gdb's `info
    proc mappings` lists, live (with its Perms column) or for a core."""
    found = []
    for line in text.splitlines():
        match = _LINE.match(line)
        if match:
            found.append((int(match.group(1), 16), int(match.group(2), 16),
                          int(match.group(3), 16), match.group(4)))
    return sorted(found)


class Modules:
    """`elf_type(address)` reads the ELF type of the header mapped at an
    address (None when it cannot)."""

    def __init__(self, mappings, elf_type):
        self.mappings = mappings
        self.starts = [start for start, _, _, _ in mappings]
        self.elf_type = elf_type
        self.biases = {}

    def name(self, address):
        """"file+0xoffset", or None where no file is mapped."""
        index = bisect.bisect_right(self.starts, address) - 1
        if index < 0 or address >= self.mappings[index][1]:
            return None
        path = self.mappings[index][3]
        bias = self.bias(path)
        if bias is None or address < bias:
            return None
        return "%s+0x%x" % (os.path.basename(path), address - bias)

    def bias(self, path):
        if path not in self.biases:
            headers = [start for start, _, offset, name in self.mappings
                       if name == path and offset == 0]
            if not headers:
                self.biases[path] = None
            else:
                self.biases[path] = 0 if self.elf_type(headers[0]) == ELF_EXEC else headers[0]
        return self.biases[path]
