"""The fast test of the walk's hot loop, run over one window of a region.

heap.py walks a HEAP region by adjacency, a window of the target at a time.
A runner takes the window and tests node after node against every rule one
node can break, recording the nodes it accepts, until a node fails (the
walk then hands it to check.Checker), the window ends or the region does.

PythonRun is the reference. native.NativeRun runs the same test in C
(gdb/native/fastwalk.c) when that library is loaded, with the same Params,
and must leave the walk exactly as PythonRun would.
"""
import struct

from .layout import (
    FLAG_TURNS, HEAD_ADDS, HEAD_OFFSET, HEAD_PRIME, HEAD_PRODUCTS_VERSION, HEAD_SHIFT, MASK64,
    STATE_CACHED, STATE_FREE, STATE_USED, TAIL_MULTIPLIER, TAIL_NONZERO,
)

# The node's words: prev next size requested serial site, the word of state,
# arena and flags, and the head.
_HOT_WORDS = struct.Struct("<8Q")
_WORD = struct.Struct("<Q")
_LINKS = struct.Struct("<QQ")


class Params:
    """The constants of the fast test for the nodes of one arena."""

    def __init__(self, layout, arena):
        self.node_size = layout.node_size
        self.align_mask = layout.alignment - 1
        self.min_block = layout.min_block
        self.secret = layout.secret
        # layout.head_sentinel() of version 3 (the products), or of 1 and 2
        # (the sum modulo head_prime, with head_shift and head_offset).
        self.head_products = int(layout.version >= HEAD_PRODUCTS_VERSION)
        self.head_adds = HEAD_ADDS
        self.head_prime = HEAD_PRIME
        # 2^448 = 2^21 (mod 2^61 - 1): the address word's weight, reduced.
        self.head_shift = HEAD_SHIFT - 61 * 7
        self.head_offset = HEAD_OFFSET
        self.tail_multiplier = TAIL_MULTIPLIER
        self.tail_nonzero = TAIL_NONZERO
        # state | arena << 32 | flags << 48, flags clear outside big mappings
        # but for version 2's change count, which the mask drops; 0 for the
        # cached word of version 1, which has no such state.
        version2 = layout.version >= 2
        self.state_mask = MASK64 & ~(FLAG_TURNS << 48) if version2 else MASK64
        self.used_word = STATE_USED | (arena << 32)
        self.free_word = STATE_FREE | (arena << 32)
        self.cached_word = STATE_CACHED | (arena << 32) if version2 else 0
        self.overhead = layout.node_size + layout.tail_size
        self.poison_from = layout.node_size + 16  # past the free links
        self.poison = layout.poison


class PythonRun:
    """Runs the fast test in Python, appending accepted nodes to `nodes`,
    free ones to `frees` and cached ones to `cached` as heap.Heap keeps
    them, and summing what the region's counters need."""

    def __init__(self, params, arena, end, nodes, frees, cached):
        self.params = params
        self.arena = arena
        self.end = end
        self.nodes = nodes
        self.frees = frees
        self.cached = cached
        self.requested = self.free_count = self.free_bytes = self.largest = 0
        self.cached_count = self.cached_bytes = 0

    def __call__(self, buf, base, cur, last, last_free):
        """Tests the nodes of buf (read at base) from cur on; returns the
        walk's (cur, last, last_free) and whether the node at cur failed.
        Locals only: this loop runs once per block."""
        p = self.params
        node_size, amask, min_block, secret = p.node_size, p.align_mask, p.min_block, p.secret
        prime, shift, head_at, mask = p.head_prime, p.head_shift, p.head_offset, MASK64
        products = p.head_products
        a0, a1, a2, a3, a4, a5, a6 = p.head_adds
        multiplier, nonzero = p.tail_multiplier, p.tail_nonzero
        used_word, free_word, overhead = p.used_word, p.free_word, p.overhead
        state_mask, cached_word = p.state_mask, p.cached_word
        poison_from, poison = p.poison_from, p.poison
        end, arena = self.end, self.arena
        unpack = _HOT_WORDS.unpack_from
        word = _WORD.unpack_from
        links = _LINKS.unpack_from
        from_bytes = int.from_bytes
        append = self.nodes.append
        frees, cached = self.frees, self.cached
        requested_sum = free_count = free_sum = cached_count = cached_sum = 0
        largest = self.largest
        top = base + len(buf)
        failed = False
        while cur < end and cur + node_size <= top:
            off = cur - base
            prev, nxt, size, req, serial, site, mark, head = unpack(buf, off)
            state = mark & state_mask
            key = cur ^ secret
            after = cur + size
            if products:
                x = (((prev + a0) & mask) * ((nxt + a1) & mask) + ((size + a2) & mask) * ((req + a3) & mask)
                     + ((serial + a4) & mask) * ((site + a5) & mask) + ((mark + a6) & mask) * key)
                sound = (x ^ (x >> 64)) & mask == head
            else:
                sound = (from_bytes(buf[off:off + head_at], "little") + (key << shift)) % prime == head
            if (not sound or prev != last or after > top or size & amask
                    or size < min_block or (nxt != after and (nxt or after != end))):
                failed = True
                break
            if state == used_word:
                if (req + overhead > size or word(buf, off + node_size + req)[0]
                        != ((key * multiplier) & mask) | nonzero):
                    failed = True
                    break
                requested_sum += req
            elif state == free_word:
                if (last_free == last or buf.count(poison, off + poison_from, off + size)
                        != size - poison_from):
                    failed = True
                    break
                frees[cur] = (arena, size) + links(buf, off + node_size)
                free_count += 1
                free_sum += size
                if size > largest:
                    largest = size
                last_free = cur
            elif state == cached_word and cached_word:
                if req or (buf.count(poison, off + poison_from, off + size)
                           != size - poison_from):
                    failed = True
                    break
                cached[cur] = (arena, size) + links(buf, off + node_size)
                cached_count += 1
                cached_sum += size
            else:
                failed = True
                break
            append(cur)
            last = cur
            cur = after
        self.requested += requested_sum
        self.free_count += free_count
        self.free_bytes += free_sum
        self.cached_count += cached_count
        self.cached_bytes += cached_sum
        self.largest = largest
        return cur, last, last_free, failed


def runner(params, arena, end, nodes, frees, cached, native=None):
    """The native runner when `native` (a native.Native) is given and can
    test this layout, else the Python one."""
    if native is not None:
        run = native.runner(params, arena, end, nodes, frees, cached)
        if run is not None:
            return run
    return PythonRun(params, arena, end, nodes, frees, cached)
