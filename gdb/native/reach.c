/*
 * reach.c: the word scan and the marking of ant-leaks and ant-refs, for
 * speed. gdb/antgdb/reach.py holds the same steps in Python (PythonSteps,
 * the reference) and loads these through ctypes (NativeSteps); a test
 * holds the two to the same answers.
 *
 * The used blocks form a table sorted by mem: mem[i] and end[i] = mem[i] +
 * requested. A word points into block i when it equals mem[i] (a start
 * pointer, even for a block of no bytes) or lies in (mem[i], end[i]) (an
 * interior pointer). A hit is written as i << 1 | interior.
 *
 * Its functions have an ABI number of their own, REACH_ABI, beside the
 * walker's in the same library.
 */
#include "target.h"

#include <stdint.h>

#define REACH_ABI 2u

/* The table, as reach.py's NativeSteps passes it. */
struct reach_table {
    const uint64_t *mem;
    const uint64_t *end;
    uint64_t count;
    uint64_t lo, hi; /* no word outside [lo, hi) can hit */
};

/* Where ant_reach_contents stands: the block it scans, the word it reached
 * in it, the edges written before this call and by it. */
struct reach_cursor {
    uint64_t block, at, edges, written;
};

enum { REACH_DONE, REACH_WINDOW, REACH_FULL };

/* A block's state, in and out of ant_reach_solve. */
enum { UNREACHED, POSSIBLE, REACHABLE, INDIRECT };

EXPORT unsigned ant_reach_abi(void);
EXPORT uint64_t ant_reach_used(const unsigned char *window, uint64_t length, uint64_t base, const uint64_t *nodes,
                               uint64_t from, uint64_t to, uint64_t *mem, uint64_t *end, uint64_t *index,
                               uint64_t *count);
EXPORT uint64_t ant_reach_words(const unsigned char *window, uint64_t length, uint64_t base, uint64_t from, uint64_t to,
                                const struct reach_table *table, uint32_t *hits, uint64_t *where, uint64_t room,
                                uint64_t *next);
EXPORT int ant_reach_contents(const unsigned char *window, uint64_t length, uint64_t base,
                              const struct reach_table *table, uint64_t stop, struct reach_cursor *cursor,
                              uint32_t *out, uint64_t room, uint64_t *offsets);
EXPORT void ant_reach_solve(uint64_t count, const uint64_t *offsets, const uint32_t *edges, const uint32_t *roots,
                            uint64_t root_count, unsigned char *state, uint32_t *stack);

/* 0 where the host cannot read the target's words: reach.py then stays in
 * Python. */
unsigned ant_reach_abi(void)
{
    return HOST_READS_TARGET ? REACH_ABI : 0;
}

/*
 * The used blocks among nodes[from .. to) whose nodes lie whole in the
 * window, appended to mem, end and index (the node's place in nodes) at
 * *count; returns the first node not taken (to, or one past the window).
 */
uint64_t ant_reach_used(const unsigned char *window, uint64_t length, uint64_t base, const uint64_t *nodes,
                        uint64_t from, uint64_t to, uint64_t *mem, uint64_t *end, uint64_t *index, uint64_t *count)
{
    uint64_t n = *count;
    for (; from < to; from++) {
        uint64_t node = nodes[from];
        if (node < base || node - base > length || length - (node - base) < ANT_NODE_SIZE)
            break;
        const unsigned char *at = window + (node - base);
        if ((le64(at + 24) & 0xff) == ANT_STATE_USED) {
            mem[n] = node + ANT_NODE_SIZE;
            end[n] = mem[n] + (le64(at + 8) & 0xffffffffu);
            index[n] = from;
            n++;
        }
    }
    *count = n;
    return from;
}

/* The block `word` points into, as i << 1 | interior, or -1. */
static int64_t holder(const struct reach_table *t, uint64_t word)
{
    if (word < t->lo || word >= t->hi)
        return -1;
    uint64_t lo = 0, hi = t->count;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (t->mem[mid] <= word)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!lo)
        return -1;
    uint64_t i = lo - 1;
    if (word == t->mem[i])
        return (int64_t)(i << 1);
    return word < t->end[i] ? (int64_t)(i << 1 | 1) : -1;
}

/*
 * The 8-aligned words a with from <= a and a + 8 <= to that lie in the
 * window and point into the table: each hit in hits, its address in where
 * (when not null). Stops after `room` hits; *next is the address to go on
 * from: to when every word was read, else the first one left (room ran
 * out, or the window ended).
 */
uint64_t ant_reach_words(const unsigned char *window, uint64_t length, uint64_t base, uint64_t from, uint64_t to,
                         const struct reach_table *table, uint32_t *hits, uint64_t *where, uint64_t room,
                         uint64_t *next)
{
    uint64_t n = 0;
    uint64_t a = (from + 7) & ~(uint64_t)7;
    if (a < base)
        a = (base + 7) & ~(uint64_t)7;
    uint64_t top = base + length < to ? base + length : to;
    for (; a + 8 <= top; a += 8) {
        int64_t hit = holder(table, le64(window + (a - base)));
        if (hit < 0)
            continue;
        if (n == room) {
            *next = a;
            return n;
        }
        hits[n] = (uint32_t)hit;
        if (where)
            where[n] = a;
        n++;
    }
    *next = a + 8 <= to ? a : to; /* the window ends first, or the range */
    return n;
}

/*
 * The contents of table blocks cursor->block .. stop - 1 that the window
 * holds, their whole words within the requested bytes; each block's edges
 * follow the last one's, and offsets[i + 1] is where block i's end. Stops
 * at a block that runs past the window (REACH_WINDOW, cursor->at the next
 * word to read), when `room` edges are written (REACH_FULL), or at `stop`
 * (REACH_DONE).
 */
int ant_reach_contents(const unsigned char *window, uint64_t length, uint64_t base, const struct reach_table *table,
                       uint64_t stop, struct reach_cursor *cursor, uint32_t *out, uint64_t room, uint64_t *offsets)
{
    cursor->edges += cursor->written;
    cursor->written = 0;
    while (cursor->block < stop) {
        uint64_t b = cursor->block;
        uint64_t mem = table->mem[b];
        uint64_t last = table->end[b] > mem ? table->end[b] - (table->end[b] - mem) % 8 : mem;
        uint64_t from = cursor->at > mem ? cursor->at : mem;
        if (from < last) {
            if (from < base || from - base >= length) {
                cursor->at = from;
                return REACH_WINDOW;
            }
            uint64_t next;
            cursor->written += ant_reach_words(window, length, base, from, last, table, out + cursor->written, 0,
                                               room - cursor->written, &next);
            if (next < last) {
                cursor->at = next;
                /* A word the window cuts, or the room filled. */
                return next + 8 > base + length ? REACH_WINDOW : REACH_FULL;
            }
        }
        offsets[b + 1] = cursor->edges + cursor->written;
        cursor->block = b + 1;
        cursor->at = 0;
    }
    return REACH_DONE;
}

static void mark(uint32_t hit, int definite, unsigned char *state, uint32_t *stack, uint64_t *top)
{
    uint32_t i = hit >> 1;
    if (state[i] == REACHABLE)
        return;
    if (!(hit & 1) && definite) {
        state[i] = REACHABLE;
        stack[(*top)++] = i;
    } else if (state[i] == UNREACHED) {
        state[i] = POSSIBLE;
        stack[(*top)++] = i;
    }
}

/*
 * Memcheck's marking. From the roots' hits, a block reached by a start
 * pointer from a root or from a REACHABLE block is REACHABLE; any other
 * block reached at all is POSSIBLE; a block is scanned again when its
 * state rises, so the answer does not depend on the order of the edges.
 * Then each block left UNREACHED, in table order, leads a clique: every
 * UNREACHED block it reaches, by any pointer, becomes INDIRECT (an earlier
 * leader too), and those still UNREACHED at the end are the definite
 * leaks. Each block is pushed at most twice in either phase, so `stack`
 * holds 2 * count + 1.
 */
void ant_reach_solve(uint64_t count, const uint64_t *offsets, const uint32_t *edges, const uint32_t *roots,
                     uint64_t root_count, unsigned char *state, uint32_t *stack)
{
    uint64_t top = 0;
    for (uint64_t i = 0; i < count; i++)
        state[i] = UNREACHED;
    for (uint64_t r = 0; r < root_count; r++) {
        mark(roots[r], 1, state, stack, &top);
        while (top) {
            uint32_t b = stack[--top];
            int definite = state[b] == REACHABLE;
            for (uint64_t e = offsets[b]; e < offsets[b + 1]; e++)
                mark(edges[e], definite, state, stack, &top);
        }
    }
    for (uint64_t leader = 0; leader < count; leader++) {
        if (state[leader] != UNREACHED)
            continue;
        stack[top++] = (uint32_t)leader;
        while (top) {
            uint32_t b = stack[--top];
            for (uint64_t e = offsets[b]; e < offsets[b + 1]; e++) {
                uint32_t i = edges[e] >> 1;
                if (state[i] == UNREACHED && i != leader) {
                    state[i] = INDIRECT;
                    stack[top++] = i;
                }
            }
        }
    }
}
