/*
 * fastwalk.c: the hot loop of ant-gdb's heap walk, for speed.
 *
 * gdb/antgdb walks a HEAP region by adjacency (node + size is the next
 * node), reading the target a window at a time and putting every node
 * through a fast test of the rules one node can break. In Python that test
 * costs about two microseconds a node: two seconds for a million blocks.
 * This function runs the very same test over a window and stops at the
 * first node it would not accept. The Python in gdb/antgdb/fastpath.py is
 * the reference: it checks the refused node in full, says what is wrong and
 * goes on, so this code never reports anything. It must only accept
 * exactly the nodes the Python test accepts, and leave the walk's state as
 * the Python would.
 *
 * The window is a snapshot of a heap that may be corrupt, or not a heap at
 * all: every read is bounded by the window's length, and no field is
 * added to an address where the sum could wrap.
 *
 * gdb/antgdb/native.py loads this with ctypes and checks FASTWALK_ABI:
 * change it whenever a struct or a signature below, or in rows.c, changes.
 */
#include "target.h"

#include <stdint.h>
#include <string.h>

#define FASTWALK_ABI 5u

/* The walk's "no node": the Python's None, never a node address, since a
   node that fits a window starts at least a node below 2^64. */
#define NONE UINT64_MAX

/* Why ant_fastwalk() returned. */
enum fastwalk_stop {
    FASTWALK_WINDOW = 0,      /* the node at cur does not fit in the window */
    FASTWALK_END = 1,         /* cur reached state->end */
    FASTWALK_SLOW = 2,        /* the node at cur failed the fast test */
    FASTWALK_FULL = 3,        /* an output array is full */
    FASTWALK_UNSUPPORTED = 4, /* a layout this code cannot test as Python does */
};

/* The constants of the fast test, as gdb/antgdb/fastpath.py computes them
   from the root; every member is 64 bits so that ctypes mirrors it simply. */
struct fastwalk_layout {
    uint64_t node_size;
    uint64_t align_mask;      /* alignment - 1 */
    uint64_t min_block;
    uint64_t secret;
    uint64_t head_products;   /* 1: version 3's sum of products; 0: the sum modulo head_prime */
    uint64_t head_adds[7];    /* version 3: what each word below the head gets added */
    uint64_t head_prime;      /* a Mersenne prime 2^bits - 1 */
    uint64_t head_shift;      /* 2^head_shift is the weight of (node ^ secret) */
    uint64_t head_offset;     /* the head word; the words below it are summed */
    uint64_t tail_multiplier;
    uint64_t tail_nonzero;
    uint64_t state_mask;      /* the bits of state | arena | flags the test compares */
    uint64_t used_word;       /* state | arena << 32 | flags << 48 of a used node */
    uint64_t free_word;       /* ... and of a free one */
    uint64_t cached_word;     /* ... and of a cached one; 0 where no state is cached */
    uint64_t overhead;        /* node + tail: what a used block holds besides mem */
    uint64_t poison_from;     /* offset in a free block where the poison starts */
    uint64_t poison;          /* the poison byte */
};

/* The walk between calls, in and out. Within one region accepted blocks
   never overlap, so the sums of their sizes cannot wrap. */
struct fastwalk_state {
    uint64_t cur;             /* the next node to test */
    uint64_t last;            /* the node below it, or NONE when unknown */
    uint64_t last_free;       /* the last free node accepted, or NONE */
    uint64_t end;             /* where blocks stop: the region's wilderness */
    uint64_t nodes;           /* out: node addresses written by this call */
    uint64_t frees;           /* out: free nodes written by this call */
    uint64_t cached;          /* out: cached nodes written by this call */
    uint64_t requested_sum;   /* requested bytes of the used blocks accepted */
    uint64_t free_count;
    uint64_t free_sum;
    uint64_t largest;         /* the largest free block accepted */
    uint64_t cached_count;
    uint64_t cached_sum;
};

EXPORT unsigned ant_fastwalk_abi(void);
EXPORT int ant_fastwalk(const unsigned char *window, uint64_t length, uint64_t base,
                        const struct fastwalk_layout *layout, struct fastwalk_state *state,
                        uint64_t *nodes, uint64_t nodes_room,
                        uint64_t *frees, uint64_t frees_room,
                        uint64_t *cached, uint64_t cached_room);

unsigned ant_fastwalk_abi(void)
{
    return FASTWALK_ABI;
}

/* x mod p, for p = 2^bits - 1: 2^bits = 1 (mod p), so high bits fold down. */
static uint64_t mersenne_mod(uint64_t x, unsigned bits, uint64_t p)
{
    while (x > p)
        x = (x & p) + (x >> bits);
    return x == p ? 0 : x;
}

/* w * 2^k mod p for w < p and k < bits: a rotation within `bits` bits. */
static uint64_t times_power(uint64_t w, unsigned k, unsigned bits, uint64_t p)
{
    return ((w << k) | (w >> (bits - k))) & p;
}

/*
 * The head sentinel as layout.head_sentinel() computes it: the words below
 * the head and (node ^ secret) << head_shift read as one little-endian
 * integer, modulo p. Word i weighs 2^(64 i) = 2^(64 i mod bits) (mod p), so
 * the integer's residue is a sum of rotations within `bits` bits. The
 * allocator's ant_head_sentinel() in <ant/layout.h> computes the same value
 * for its one modulus, 2^61 - 1.
 */
static uint64_t head_sentinel(const struct fastwalk_layout *layout, unsigned bits,
                              const unsigned char *node, uint64_t address)
{
    uint64_t p = layout->head_prime;
    uint64_t sum = times_power(mersenne_mod(address ^ layout->secret, bits, p),
                               (unsigned)(layout->head_shift % bits), bits, p);
    for (uint64_t i = 0; i < layout->head_offset / 8; i++) {
        uint64_t term = times_power(mersenne_mod(le64(node + 8 * i), bits, p),
                                    (unsigned)(64 * i % bits), bits, p);
        sum = mersenne_mod(sum + term, bits, p); /* both below p < 2^63 */
    }
    return sum;
}

/*
 * The head sentinel of version 3, as layout.head_sentinel() computes it:
 * words 0..6 plus their constants, multiplied in pairs, the last with
 * (node ^ secret), summed modulo 2^128 and folded to 64 bits.
 */
static uint64_t head_products(const struct fastwalk_layout *layout, const unsigned char *node,
                              uint64_t address)
{
    uint64_t w[7];
    for (unsigned i = 0; i < 7; i++)
        w[i] = le64(node + 8 * i) + layout->head_adds[i];
    __extension__ typedef unsigned __int128 u128;
    u128 x = (u128)w[0] * w[1] + (u128)w[2] * w[3] + (u128)w[4] * w[5]
             + (u128)w[6] * (address ^ layout->secret);
    return (uint64_t)x ^ (uint64_t)(x >> 64);
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

/* A free or cached block's mem from poison_from on is all poison. */
static int poisoned_block(const struct fastwalk_layout *layout, const unsigned char *node, uint64_t size)
{
    return layout->poison_from <= size
        && poisoned(node + layout->poison_from, size - layout->poison_from, (unsigned char)layout->poison);
}

/* (node, size, mem[0:8], mem[8:16]) of a free or cached block. */
static void record(uint64_t *out, uint64_t node, uint64_t size, const unsigned char *mem)
{
    out[0] = node;
    out[1] = size;
    out[2] = le64(mem);
    out[3] = le64(mem + 8);
}

/* The bits of a Mersenne prime this code can sum below 2^64, else 0. */
static unsigned prime_bits(uint64_t p)
{
    unsigned bits = (unsigned)__builtin_popcountll(p);
    return (p & (p + 1)) == 0 && bits >= 2 && bits <= 63 ? bits : 0;
}

/* The reads below stay inside a block of min_block bytes or more only
   when the layout keeps these promises; layout.read_root() checks them. */
static int supported(const struct fastwalk_layout *layout)
{
    return prime_bits(layout->head_prime) && layout->head_products <= 1
        && layout->head_offset % 8 == 0 && layout->head_offset >= 56
        && layout->node_size >= 64 && layout->head_offset <= layout->node_size - 8
        && layout->min_block >= layout->node_size + 16
        && layout->overhead >= layout->node_size + 8
        && layout->poison <= 0xff;
}

/*
 * Tests the nodes of `window` (length bytes read from the target at base)
 * from state->cur on, appending the address of every node it accepts to
 * nodes[], and (node, size, mem[0:8], mem[8:16]) of every free one to
 * frees[] and of every cached one to cached[] (four words each); returns
 * why it stopped. An empty window only checks the layout:
 * FASTWALK_UNSUPPORTED or another answer.
 */
int ant_fastwalk(const unsigned char *window, uint64_t length, uint64_t base,
                 const struct fastwalk_layout *layout, struct fastwalk_state *state,
                 uint64_t *nodes, uint64_t nodes_room, uint64_t *frees, uint64_t frees_room,
                 uint64_t *cached, uint64_t cached_room)
{
    if (!supported(layout))
        return FASTWALK_UNSUPPORTED;
    unsigned bits = prime_bits(layout->head_prime);
    uint64_t cur = state->cur, last = state->last, last_free = state->last_free;
    uint64_t end = state->end;
    uint64_t n = 0, f = 0, c = 0;
    int stop;

    for (;;) {
        if (cur >= end) {
            stop = FASTWALK_END;
            break;
        }
        if (cur < base || cur - base > length || length - (cur - base) < layout->node_size) {
            stop = FASTWALK_WINDOW;
            break;
        }
        if (n == nodes_room) {
            stop = FASTWALK_FULL;
            break;
        }
        uint64_t off = cur - base;
        const unsigned char *node = window + off;
        uint64_t prev = le64(node), next = le64(node + 8), size = le64(node + 16);
        uint64_t requested = le64(node + 24), word = le64(node + 48) & layout->state_mask;
        uint64_t key = cur ^ layout->secret;
        stop = FASTWALK_SLOW;
        /* Python's after > top, and an after that would wrap past 2^64. */
        if (last == NONE || prev != last || size & layout->align_mask
            || size < layout->min_block || size > length - off || size > UINT64_MAX - cur)
            break;
        uint64_t after = cur + size;
        if ((next != after && (next || after != end))
            || (layout->head_products ? head_products(layout, node, cur)
                                      : head_sentinel(layout, bits, node, cur))
               != le64(node + layout->head_offset))
            break;
        if (word == layout->used_word) {
            /* The overhead covers node and tail, so the tail lies in the block. */
            if (size < layout->overhead || requested > size - layout->overhead
                || le64(node + layout->node_size + requested)
                       != ((key * layout->tail_multiplier) | layout->tail_nonzero))
                break;
            state->requested_sum += requested;
        } else if (word == layout->free_word) {
            if (f == frees_room) {
                stop = FASTWALK_FULL;
                break;
            }
            if (last_free == last || !poisoned_block(layout, node, size))
                break;
            record(frees + 4 * f++, cur, size, node + layout->node_size);
            state->free_count++;
            state->free_sum += size;
            if (size > state->largest)
                state->largest = size;
            last_free = cur;
        } else if (word == layout->cached_word && layout->cached_word) {
            if (c == cached_room) {
                stop = FASTWALK_FULL;
                break;
            }
            if (requested || !poisoned_block(layout, node, size))
                break;
            record(cached + 4 * c++, cur, size, node + layout->node_size);
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
