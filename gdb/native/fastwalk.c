/*
 * fastwalk.c: the hot loop of ant-gdb's heap walk, and its scan for the
 * next sound node, for speed.
 *
 * gdb/antgdb walks a HEAP region by adjacency (node + size is the next
 * node), reading the target a window at a time and putting every node
 * through a fast test of the rules one node can break. In Python that test
 * costs about two microseconds a node: two seconds for a million blocks.
 * ant_fastwalk() runs the very same test over a window and stops at the
 * first node it would not accept; ant_fastwalk_scan() finds the first node
 * of a window whose check verifies, where the walk resumes after damage.
 * The Python in gdb/antgdb/fastpath.py is the reference: it checks the
 * refused node in full, says what is wrong and goes on, so this code never
 * reports anything. It must accept exactly the nodes the Python accepts,
 * find exactly the node the Python finds, and leave the walk's state as
 * the Python would.
 *
 * The formulas are the inline functions of <ant/layout.h> itself, and the
 * sizes its constants.
 *
 * The window is a snapshot of a heap that may be corrupt, or not a heap at
 * all: every read is bounded by the window's length, and no field is
 * added to an address where the sum could wrap.
 *
 * gdb/antgdb/native.py loads this with ctypes and checks FASTWALK_ABI:
 * change it whenever a struct or a signature below, or in rows.c,
 * columns.c or groups.c, changes.
 */
#include "target.h"

#include <stdint.h>
#include <string.h>

#define FASTWALK_ABI 9u

/* The walk's "no node": the Python's None, never a node address, since a
   node that fits a window starts at least a node below 2^64. */
#define NONE UINT64_MAX

/* The bits of a mark the test compares: all but the change count. */
#define MARK_MASK (~((uint32_t)ANT_FLAG_TURNS << 16))

/* Why ant_fastwalk() returned. */
enum fastwalk_stop {
    FASTWALK_WINDOW = 0,      /* the node at cur does not fit in the window */
    FASTWALK_END = 1,         /* cur reached state->end */
    FASTWALK_SLOW = 2,        /* the node at cur failed the fast test */
    FASTWALK_FULL = 3,        /* an output array is full */
    FASTWALK_UNSUPPORTED = 4, /* this host cannot read the target's nodes */
};

/* What the process chose and the marks of the arena's sound nodes, as
   gdb/antgdb/fastpath.py's Params has them; every member is 64 bits so
   that ctypes mirrors it simply. */
struct fastwalk_layout {
    uint64_t secret;
    uint64_t poison;      /* the poison byte */
    uint64_t used_mark;   /* state | arena << 8 of a used node, flags clear */
    uint64_t free_mark;   /* ... of a free one */
    uint64_t cached_mark; /* ... of a cached one */
};

/* The walk between calls, in and out. Within one region accepted blocks
   never overlap, so the sums of their sizes cannot wrap. */
struct fastwalk_state {
    uint64_t cur;           /* the next node to test */
    uint64_t last;          /* the node below it, 0 for none, or NONE when unknown */
    uint64_t last_free;     /* the last free node accepted, or NONE */
    uint64_t end;           /* where blocks stop: the region's wilderness */
    uint64_t nodes;         /* out: node addresses written by this call */
    uint64_t frees;         /* out: free nodes written by this call */
    uint64_t cached;        /* out: cached nodes written by this call */
    uint64_t requested_sum; /* requested bytes of the used blocks accepted */
    uint64_t free_count;
    uint64_t free_sum;
    uint64_t largest; /* the largest free block accepted */
    uint64_t cached_count;
    uint64_t cached_sum;
};

EXPORT unsigned ant_fastwalk_abi(void);
EXPORT int ant_fastwalk(const unsigned char *window, uint64_t length, uint64_t base,
                        const struct fastwalk_layout *layout, struct fastwalk_state *state, uint64_t *nodes,
                        uint64_t nodes_room, uint64_t *frees, uint64_t frees_room, uint64_t *cached,
                        uint64_t cached_room);
EXPORT uint64_t ant_fastwalk_scan(const unsigned char *window, uint64_t length, uint64_t base, uint64_t from,
                                  uint64_t secret, uint64_t anchor);

unsigned ant_fastwalk_abi(void)
{
    return FASTWALK_ABI;
}

/* Every byte of at[0 .. n) is the poison. */
static int poisoned(const unsigned char *at, uint64_t n, unsigned char poison)
{
    uint64_t pattern = 0x0101010101010101ull * poison;
    uint64_t i = 0;
    for (; n - i >= 8; i += 8)
        if (le64(at + i) != pattern)
            return 0;
    for (; i < n; i++)
        if (at[i] != poison)
            return 0;
    return 1;
}

/* A free or cached block of `size` bytes (at least ANT_MIN_BLOCK) whose
 * node is at `at`: its record of who freed it checks, and its mem is
 * poison from ANT_POISON_OFFSET to its end. */
static int freed_whole(const unsigned char *at, const ant_node_t *node, uint64_t key, uint64_t size,
                       unsigned char poison)
{
    struct ant_freed freed;
    memcpy(&freed, at + ANT_NODE_SIZE + ANT_FREE_LINKS_SIZE, sizeof freed);
    return freed.check == ant_freed_check(key, node, freed.site, freed.serial) &&
           poisoned(at + ANT_MIN_BLOCK, size - ANT_MIN_BLOCK, poison);
}

/* (node, size, mem[0:8], mem[8:16]) of a free or cached block. */
static void record(uint64_t *out, uint64_t node, uint64_t size, const unsigned char *mem)
{
    out[0] = node;
    out[1] = size;
    out[2] = le64(mem);
    out[3] = le64(mem + 8);
}

/*
 * Tests the nodes of `window` (length bytes read from the target at base)
 * from state->cur on, appending the address of every node it accepts to
 * nodes[], and (node, size, mem[0:8], mem[8:16]) of every free one to
 * frees[] and of every cached one to cached[] (four words each); returns
 * why it stopped. An empty window only says whether this host can walk:
 * FASTWALK_UNSUPPORTED or another answer.
 */
int ant_fastwalk(const unsigned char *window, uint64_t length, uint64_t base, const struct fastwalk_layout *layout,
                 struct fastwalk_state *state, uint64_t *nodes, uint64_t nodes_room, uint64_t *frees,
                 uint64_t frees_room, uint64_t *cached, uint64_t cached_room)
{
    if (!HOST_READS_TARGET || layout->poison > 0xff)
        return FASTWALK_UNSUPPORTED;
    uint64_t cur = state->cur, last = state->last, last_free = state->last_free;
    uint64_t end = state->end;
    uint64_t n = 0, f = 0, c = 0;
    int stop;

    for (;;) {
        if (cur >= end) {
            stop = FASTWALK_END;
            break;
        }
        if (cur < base || cur - base > length || length - (cur - base) < ANT_NODE_SIZE) {
            stop = FASTWALK_WINDOW;
            break;
        }
        if (n == nodes_room) {
            stop = FASTWALK_FULL;
            break;
        }
        uint64_t off = cur - base;
        const unsigned char *at = window + off;
        ant_node_t node = node_at(at);
        uint64_t size = node.size;
        uint64_t key = rebound(layout->secret, &node, cur);
        stop = FASTWALK_SLOW;
        /* I4 the below, I6 the size; Python's after > top, and an after
           that would wrap past 2^64. */
        if (last == NONE || node.below != (last ? cur - last : 0) || size % ANT_ALIGN || size < ANT_MIN_BLOCK ||
            size > length - off || size > UINT64_MAX - cur)
            break;
        uint64_t after = cur + size;
        /* I7: the block ends at the wilderness, or where another one fits;
           then I1, the check. */
        if ((after != end && (after > end || end - after < ANT_MIN_BLOCK)) || ant_head_check(key, &node) != node.check)
            break;
        uint64_t mark = node.mark & MARK_MASK;
        if (mark == layout->used_mark) {
            /* The node, the requested bytes and the tail lie in the block. */
            if (node.requested > size - ANT_NODE_SIZE - ANT_TAIL_SIZE ||
                le64(at + ANT_NODE_SIZE + node.requested) != ant_tail_sentinel(key, &node))
                break;
            state->requested_sum += node.requested;
        } else if (mark == layout->free_mark) {
            if (f == frees_room) {
                stop = FASTWALK_FULL;
                break;
            }
            if (last_free == last || !freed_whole(at, &node, key, size, (unsigned char)layout->poison))
                break;
            record(frees + 4 * f++, cur, size, at + ANT_NODE_SIZE);
            state->free_count++;
            state->free_sum += size;
            if (size > state->largest)
                state->largest = size;
            last_free = cur;
        } else if (mark == layout->cached_mark) {
            if (c == cached_room) {
                stop = FASTWALK_FULL;
                break;
            }
            if (!freed_whole(at, &node, key, size, (unsigned char)layout->poison))
                break;
            record(cached + 4 * c++, cur, size, at + ANT_NODE_SIZE);
            state->cached_count++;
            state->cached_sum += size;
        } else {
            break; /* any other state, a new one included, is Python's to judge */
        }
        nodes[n++] = cur;
        last = cur;
        cur = after;
    }
    state->cur = cur;
    state->last = last;
    state->last_free = last_free;
    state->nodes = n;
    state->frees = f;
    state->cached = c;
    return stop;
}

/*
 * The lowest address from `from` on, a multiple of ANT_ALIGN, holding a
 * whole node in `window` (length bytes read at base, which lie below 2^64)
 * whose state is USED, FREE, CACHED or QUARANTINED and whose check verifies, and, unless
 * `anchor` is NONE, whose below reaches back to the anchor exactly; NONE if
 * there is none, or if this host cannot read the target's nodes.
 */
uint64_t ant_fastwalk_scan(const unsigned char *window, uint64_t length, uint64_t base, uint64_t from, uint64_t secret,
                           uint64_t anchor)
{
    if (!HOST_READS_TARGET || length < ANT_NODE_SIZE)
        return NONE;
    uint64_t start = from < base ? base : from;
    if (start % ANT_ALIGN) {
        if (start > UINT64_MAX - ANT_ALIGN)
            return NONE;
        start += ANT_ALIGN - start % ANT_ALIGN;
    }
    for (uint64_t off = start - base; off <= length - ANT_NODE_SIZE; off += ANT_ALIGN) {
        const unsigned char *at = window + off;
        unsigned char state = at[offsetof(ant_node_t, state)];
        if (state != ANT_STATE_USED && state != ANT_STATE_FREE && state != ANT_STATE_CACHED &&
            state != ANT_STATE_QUARANTINED)
            continue;
        ant_node_t node = node_at(at);
        if (anchor != NONE && node.below != base + off - anchor)
            continue;
        if (ant_head_check(rebound(secret, &node, base + off), &node) == node.check)
            return base + off;
    }
    return NONE;
}
