/*
 * ant/layout.h: the heap layout, the contract between the allocator and the
 * debugger.
 *
 * Everything a debugger needs to read an Ant heap out of a live process or a
 * core file is described here. The gdb extension (gdb/antgdb) does not
 * assume these offsets: it reads the field table kept in the root and looks
 * fields up by name. ANT_LAYOUT_VERSION changes whenever a field moves,
 * changes size or changes meaning.
 *
 * Words
 * -----
 *   mem         the bytes the program uses: what ant_malloc returns.
 *   node        a block's metadata, stored in the block right before its mem.
 *   block       node + mem + tail sentinel + padding. Blocks tile a region
 *               with no gaps: node + size is the next node.
 *   region      one mapping from the OS: a header, the blocks, then the
 *               wilderness.
 *   wilderness  the untouched free tail of a region. It is not a block and
 *               has no node; malloc carves new blocks from its start, and a
 *               large free block at the end of a region is given back to it.
 *   big block   a request above the mmap threshold: a mapping of its own,
 *               holding a region header and a single block.
 *   arena       a heap with its own lock, its regions, its big blocks, its
 *               free bins and its counters.
 *   root        the one global, `ant_root`, from which everything is found.
 *   sentinel    a value whose damage proves corruption: the head (last word
 *               of the node) and the tail (right after the requested bytes).
 *   poison      the byte written over free mem; damage proves a write after
 *               free.
 *   cache       a thread's own stack of small blocks the program freed,
 *               handed out again to that thread without the arena's lock.
 *               A cached block is free to the program and used to the heap.
 *   site        the return address of the allocator's caller.
 *   serial      the Nth allocation of the process, counted from 1.
 *
 * A region, low addresses to high
 * -------------------------------
 *
 *   region                                                  region + length
 *   |                                                                     |
 *   v                                                                     v
 *   +--------+------------------+--------------+-----------+-------------+
 *   | region | node | mem   |T|p | node | mem   | node | mem | wilderness  |
 *   | header |  64  | used  | | | |  64  | free  |  64  | ... | (no nodes)  |
 *   |   64   |      |       | | | |      |poison |      |     |             |
 *   +--------+------------------+--------------+-----------+-------------+
 *            ^first node                         ^last node  ^region.wilderness
 *
 *   Nodes form a doubly linked list in address order, one list per region
 *   (region.first .. region.last). The links and the adjacency of blocks are
 *   two independent truths: node.next == node + node.size for every node but
 *   the last, and last + last.size == region.wilderness.
 *
 *   Why each sentinel exists:
 *   - head: a keyed checksum over the node, bound to the node's address. It
 *     catches an overflow from the block below running into this node, an
 *     underflow of this block's mem (the head is the node's last word, so it
 *     is the first thing an underflow hits), a header copied from another
 *     block, and a pointer that is not a node at all.
 *   - tail (T): right after the requested bytes, not after the rounded size,
 *     so a one-byte overflow is caught. No byte of it is zero, so a stray
 *     string terminator always shows.
 *   - poison: free mem is filled with ANT_POISON; a byte that changed means
 *     somebody wrote through a dangling pointer.
 *
 * One block, offset by offset (node at N, mem at N + 64)
 * ------------------------------------------------------
 *
 *   N +  0  prev       previous node of the region, or 0 for the first
 *   N +  8  next       next node of the region, or 0 for the last
 *   N + 16  size       block size in bytes, node included; a multiple of 16
 *   N + 24  requested  bytes the program asked for; 0 when free
 *   N + 32  serial     allocation number; when free, the last owner's
 *   N + 40  site       caller's return address; when free, the last owner's
 *   N + 48  state      ANT_STATE_USED, _FREE or _CACHED (ASCII, see below)
 *   N + 52  arena      index of the arena in root.arenas
 *   N + 54  flags      ANT_FLAG_* bits, and a count of changes in bits 8..14
 *   N + 56  head       ant_head_sentinel(root.secret, N, words 0..6)
 *   N + 64  mem        the program's bytes, 16-byte aligned
 *
 *   used block:  mem[0 .. requested)          the program's data
 *                mem[requested .. +8)         tail sentinel (unaligned)
 *                mem[requested + 8 .. end)    padding, unspecified
 *   free block:  mem[0 .. 8)                  node address of the next free
 *                                             block in its size bin, or 0
 *                mem[8 .. 16)                 node address of the previous
 *                                             one, or 0 for the bin's first
 *                mem[16 .. end)               ANT_POISON
 *   cached block: mem[0 .. 8)                 node address of the next block
 *                                             in the same cache bin, or 0
 *                mem[8 .. 16)                 address of the cache holding it
 *                mem[16 .. end)               ANT_POISON
 *                requested is 0; serial and site are the last owner's.
 *
 * Who may change a node
 * ---------------------
 *   A FREE node changes only under its arena's lock. A USED or CACHED node
 *   also changes without it, when its thread frees it into or takes it out
 *   of a cache. Whoever changes a USED or CACHED node first sets
 *   ANT_FLAG_BUSY in it with an atomic compare-and-swap of the 8 bytes at
 *   N + 48, writes the fields and the head (computed with BUSY clear and the
 *   change count one higher), then stores those 8 bytes without BUSY. It
 *   names the node first, in cache.busy (a thread's cache) or arena.busy
 *   (the arena's lock holder), and clears that last. A reader that sees
 *   BUSY waits; a BUSY that nothing names is damage.
 *
 * A snapshot at any instant
 * -------------------------
 *   A core of a crash in one thread, or gdb attaching, stops every thread
 *   wherever it is, inside malloc too. Every change to the heap is
 *   readable at every instruction, in one of two ways.
 *
 *   Under an arena's lock: the journal (struct ant_journal, arena.journal).
 *   Before the lock holder stores to any byte a reader checks (a node, a
 *   free link, a tail sentinel, the poison of a free block, a region
 *   header, the arena's lists and counters, a thread cache it flushes) it
 *   appends a record of the old bytes to the journal and raises
 *   journal.used past it; a record counts only once used covers it. A
 *   reader that finds used > 0 writes each record's old bytes back over
 *   its picture of memory, the last record first, and so reads the heap as
 *   it was when the change began: whole, every rule in force, the counters
 *   exact. When the heap is whole again the lock holder sets used to 0 (a
 *   commit), always before memory leaves or changes under the OS (munmap,
 *   mremap, madvise), so that no record restores memory that is gone, and
 *   before it unlocks. The arena's BUSY hold of a neighbour (above) is
 *   recorded right after the compare-and-swap; until then the node differs
 *   from what it was only by BUSY, so a BUSY node that arena.busy names and
 *   no cache.busy names reads as the node without BUSY.
 *   journal.op, .step, .args and .thread say what is under way and who does
 *   it, so that a core can say "thread 4242 inside free(): merging mem A
 *   with its free neighbour mem B". One change is too large to record:
 *   rebuilding an arena's free lists after damage (ANT_STEP_REBUILD_BINS).
 *   It is announced instead; while it runs the arena's free links (I9) are
 *   not to be checked.
 *
 *   In a thread cache: the BUSY flag and the cache's own record. While
 *   cache.busy names a node N, its thread is moving N into the cache (a
 *   free) or out of it (a malloc), and:
 *     - N, if BUSY, may be half written: its head, requested, tail, poison
 *       and links prove nothing; N without BUSY is whole;
 *     - the list of N's bin may hold N (then on top) or not, and
 *       cache.counts[bin], .blocks and .bytes may each count N or not;
 *     - cache.busy_requested is what the move adds to
 *       cache.requested_delta (minus the requested bytes a free takes
 *       back, plus those a malloc hands out): the requested bytes of I10,
 *       counted with N's requested field as it stands, equal the arenas'
 *       and caches' sum, or that sum plus busy_requested.
 *   ant_check() in the process itself waits for BUSY instead, and compares
 *   only the caches no other thread is changing.
 *
 *   The smallest block is ANT_MIN_BLOCK bytes: a node and 16 bytes of mem,
 *   enough for a free block's links. A split never leaves less.
 *
 * Invariants (cited as I1..I18 by ant_check() and by ant-check)
 * ------------------------------------------------------------
 *   <ant/problems.h> names the kinds of problem each one's breaking is.
 *   I1  every node's head equals ant_head_sentinel() of its address and words.
 *   I2  a used block's tail equals ant_tail_sentinel() of its node address.
 *   I3  every byte of a free block's mem from offset 16 is ANT_POISON.
 *   I4  node.next.prev == node and node.prev.next == node; region.first has
 *       prev 0 and region.last has next 0.
 *   I5  node.next == node + node.size (blocks tile the region, no gaps).
 *   I6  node.size is a multiple of 16, at least ANT_MIN_BLOCK, and the block
 *       lies inside its region; a used block holds node + requested + tail.
 *   I7  region.last + region.last.size == region.wilderness <= region end.
 *   I8  no two free blocks are neighbours: free always coalesces.
 *   I9  the free links in a free block's mem lead to free blocks of the same
 *       arena and agree with each other (next.prev == this).
 *   I10 the arena's counters equal what a walk of its blocks finds, cached
 *       blocks counted as used (the arena handed them out); the requested
 *       bytes of all USED blocks equal the arenas' requested_bytes plus every
 *       cache's requested_delta; a cache's blocks and bytes equal its lists.
 *   I11 state is USED, FREE or CACHED; big blocks are used and only they
 *       have the big flag; a cached block has no requested bytes; BUSY is
 *       clear, or a thread is changing the node; node.arena is the arena of
 *       its region.
 *   I12 every mem is 16-byte aligned (or aligned as ant_aligned_alloc asked).
 *   I13 a cache bin's list holds counts[bin] CACHED blocks of that bin's
 *       size, each naming the cache in mem[8 .. 16) and poisoned from 16 on;
 *       every CACHED block is in exactly one cache's list, but for blocks
 *       left below a damaged one in a bin the cache abandoned (the bin's
 *       bit in cache.refused), which no list holds.
 *   I14 root.arenas[0 .. arena_count) each name an arena whose index is
 *       its place there.
 *   I15 an arena's region list and its big list lead, by region.next,
 *       through region headers (magic, the list's kind, region.arena that
 *       arena, region.prev the header before) without a loop, and no two
 *       regions overlap.
 *   I16 a region's length holds its header and a smallest block, and every
 *       byte the layout names in it (headers, nodes, tails, free mem) can be
 *       read.
 *   I17 root.caches leads, by cache.next, through thread caches (magic,
 *       state LIVE or IDLE, bin_count bins) without a loop.
 *   I18 each arena's journal reads as whole records of memory that can be
 *       read, within journal.capacity.
 *
 * The root
 * --------
 *   `ant_root` is exported by libant and by libantmalloc (each has its own
 *   heap). It starts with a fixed header (magic, version, size, a pointer to
 *   itself, where the field table is) so a debugger without symbols finds it
 *   by scanning memory for ANT_ROOT_MAGIC and confirms it by root.self. The
 *   field table names every field of the root, the arena, the region and the
 *   node, with its offset and size: "node.size" is at offset 16, size 8.
 *   Entries named after a struct alone ("node", "region", "arena", "root")
 *   give its size. The arena's fields are only those in the table:
 *
 *     arena.index            its index in root.arenas
 *     arena.regions          first HEAP region (list by region.next)
 *     arena.bigs             first big mapping (list by region.next)
 *     arena.busy             (version 2) a node whose BUSY flag the arena's
 *                            lock holder holds, or 0
 *     arena.journal          (version 4) its struct ant_journal, whose
 *                            fields are named journal.*
 *     arena.used_blocks .. arena.frees
 *                            the counters of struct ant_arena_counters,
 *                            named as there, with "regions" and "bigs"
 *                            named region_count and big_count
 *
 *   root.last_error.* are the fields of struct ant_last_error, cache.* those
 *   of struct ant_cache.
 *
 * Thread caches
 * -------------
 *   root.caches lists every cache ever made (by cache.next), one per thread
 *   that allocated; a cache whose thread ended is IDLE, empty, and waits for
 *   a new thread. Bin i holds blocks of size ANT_MIN_BLOCK + 16 * i bytes.
 *
 * All integers are in the target's byte order (little-endian on the
 * platforms Ant supports) and all pointers are 64 bits.
 */
#ifndef ANT_LAYOUT_H
#define ANT_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define ANT_LAYOUT_VERSION 4u

/* "ANT-ROOT" read as a little-endian 64-bit integer. */
#define ANT_ROOT_MAGIC 0x544f4f522d544e41ull
/* "ANT-REGN" read as a little-endian 64-bit integer. */
#define ANT_REGION_MAGIC 0x4e4745522d544e41ull

/* Node states: four ASCII letters, so a hex dump reads "USED" or "FREE". */
#define ANT_STATE_USED 0x44455355u /* "USED" */
#define ANT_STATE_FREE 0x45455246u /* "FREE" */
#define ANT_STATE_CACHED 0x48434143u /* "CACH": in a thread cache */

/* Region kinds, in ASCII like the states. */
#define ANT_REGION_HEAP 0x50414548u /* "HEAP": blocks, then wilderness */
#define ANT_REGION_BIG 0x20474942u  /* "BIG ": one block of its own */

/* node.flags */
#define ANT_FLAG_BIG 0x0001u   /* the block is the only one in a big mapping */
#define ANT_FLAG_TURNS 0x7f00u /* counts changes made under BUSY, modulo 128 */
#define ANT_FLAG_TURN 0x0100u
#define ANT_FLAG_BUSY 0x8000u  /* a thread is changing the node: see above */

/* "ANT-TCAC" read as a little-endian 64-bit integer. */
#define ANT_CACHE_MAGIC 0x434143542d544e41ull
/* cache.state */
#define ANT_CACHE_LIVE 0x4556494cu /* "LIVE": its thread is running */
#define ANT_CACHE_IDLE 0x454c4449u /* "IDLE": its thread ended; empty */
#define ANT_CACHE_BINS 60u         /* block sizes ANT_MIN_BLOCK .. 1024 */
#define ANT_CACHE_MAX_BLOCK 1024u

/* journal.op: the call whose change of the heap is under way. */
#define ANT_OP_MALLOC 1u      /* malloc, calloc, realloc of a null pointer */
#define ANT_OP_ALIGNED 2u     /* aligned_alloc, posix_memalign, memalign */
#define ANT_OP_FREE 3u
#define ANT_OP_REALLOC 4u
#define ANT_OP_FLUSH 5u       /* a free finds its thread's cache full */
#define ANT_OP_THREAD_EXIT 6u /* an ending thread's cache goes back */
#define ANT_OP_CHECK 7u       /* ant_check() */
#define ANT_OP_FORK 8u        /* a fork's child takes back the lost threads' caches */

/* journal.step: what the call is doing now, and what args[0], args[1] name. */
#define ANT_STEP_TAKE 1u          /* taking free block mem [0] for a block of [1] bytes */
#define ANT_STEP_CARVE 2u         /* carving [1] bytes from the wilderness of region [0] */
#define ANT_STEP_SPLIT 3u         /* splitting block mem [0] after its first [1] bytes */
#define ANT_STEP_MARK_USED 4u     /* handing out mem [0] for [1] requested bytes */
#define ANT_STEP_MARK_FREE 5u     /* marking mem [0] free */
#define ANT_STEP_MERGE 6u         /* merging mem [0] with its free neighbour mem [1] */
#define ANT_STEP_FILE 7u          /* filing free block mem [0] in its size bin */
#define ANT_STEP_RECLAIM 8u       /* giving free block mem [0] back to the wilderness of region [1] */
#define ANT_STEP_GROW_REGION 9u   /* growing region [0] in place to [1] bytes */
#define ANT_STEP_NEW_REGION 10u   /* adding the new region [0] of [1] bytes */
#define ANT_STEP_DROP_REGION 11u  /* dropping the empty region [0] */
#define ANT_STEP_BIG_ADD 12u      /* adding big block mem [0] of [1] requested bytes */
#define ANT_STEP_BIG_DROP 13u     /* dropping big block mem [0] */
#define ANT_STEP_GROW 14u         /* growing mem [0] in place to a block of [1] bytes */
#define ANT_STEP_COPY 15u         /* copying mem [0] to its new place, mem [1] */
#define ANT_STEP_GIVE_BACK 16u    /* giving cached mem [0] of cache [1] back to the arena */
#define ANT_STEP_REBUILD_BINS 17u /* rebuilding the free lists after damage: I9 not in force */
#define ANT_STEP_CHECK 18u        /* checking the blocks of region [0] */

#define ANT_JOURNAL_WORDS 512u
/* journal.used when a change outgrew the journal: it cannot be undone. */
#define ANT_JOURNAL_LOST 0xffffffffu

#define ANT_ALIGN 16u
#define ANT_NODE_SIZE 64u
#define ANT_REGION_HEADER_SIZE 64u
#define ANT_TAIL_SIZE 8u
#define ANT_FREE_LINKS_SIZE 16u
#define ANT_MIN_BLOCK (ANT_NODE_SIZE + ANT_FREE_LINKS_SIZE)
#define ANT_POISON 0xa5u

/* What the head sentinel adds to words 0..6 before it multiplies them in
 * pairs (version 3). Each is odd and its top bit is set, so that no word a
 * node holds (an address, a size, a count, a state word) cancels it. */
#define ANT_HEAD_ADD_PREV 0x9e3779b97f4a7c15ull
#define ANT_HEAD_ADD_NEXT 0xc2b2ae3d27d4eb4full
#define ANT_HEAD_ADD_SIZE 0x9fb21c651e98df25ull
#define ANT_HEAD_ADD_REQUESTED 0xd6e8feb86659fd93ull
#define ANT_HEAD_ADD_SERIAL 0xa0761d6478bd642full
#define ANT_HEAD_ADD_SITE 0xe7037ed1a0b428dbull
#define ANT_HEAD_ADD_MARK 0x8ebc6af09c88c6e3ull
/* Mixes an address and the secret into the tail sentinel. */
#define ANT_TAIL_MULTIPLIER 0x9e3779b97f4a7c15ull
/* Or-ed into every byte of the tail so that none of them is zero. */
#define ANT_TAIL_NONZERO 0x0101010101010101ull

#define ANT_MAX_ARENAS 64u
#define ANT_FIELD_NAME_SIZE 24u /* so names have at most 23 characters */
#define ANT_ERROR_MESSAGE_SIZE 384u

typedef struct ant_node ant_node_t;
typedef struct ant_region ant_region_t;
typedef struct ant_arena ant_arena_t;
typedef struct ant_root ant_root_t;
typedef struct ant_cache ant_cache_t;

struct ant_node {
    ant_node_t *prev;
    ant_node_t *next;
    uint64_t size;
    uint64_t requested;
    uint64_t serial;
    uint64_t site;
    union {
        struct {
            uint32_t state;
            uint16_t arena;
            uint16_t flags;
        };
        uint64_t mark; /* the three as one word, for the BUSY protocol */
    };
    uint64_t head;
};

/*
 * A region header sits at the start of every mapping. For a HEAP region the
 * blocks follow the header; for a BIG one the single block follows, placed
 * so that its mem has the alignment that was asked for.
 */
struct ant_region {
    uint64_t magic;         /* ANT_REGION_MAGIC */
    ant_region_t *next;     /* next region (or big mapping) of the arena */
    ant_region_t *prev;     /* previous one, or 0 */
    uint64_t length;        /* bytes mapped, header included */
    uint64_t wilderness;    /* HEAP: address where the wilderness begins;
                               BIG: the end of its block (the rest of the
                               mapping is page padding, not wilderness) */
    ant_node_t *first;      /* lowest node, or 0 while the region is empty */
    ant_node_t *last;       /* highest node, or 0 */
    uint32_t kind;          /* ANT_REGION_HEAP or ANT_REGION_BIG */
    uint32_t arena;         /* index of the owning arena */
};

/*
 * The debugger reads an arena through the field table; everything past the
 * documented fields (the lock, the bins) is the allocator's own business.
 * Counters cover the arena's HEAP regions and big blocks together.
 */
struct ant_arena_counters {
    uint64_t used_blocks;     /* blocks in state USED, big ones included */
    uint64_t free_blocks;     /* blocks in state FREE */
    uint64_t requested_bytes; /* sum of requested over used blocks */
    uint64_t used_bytes;      /* sum of size over used blocks */
    uint64_t free_bytes;      /* sum of size over free blocks */
    uint64_t wilderness_bytes;/* sum of the HEAP regions' wilderness */
    uint64_t mapped_bytes;    /* sum of region and big mapping lengths */
    uint64_t regions;         /* HEAP regions */
    uint64_t bigs;            /* big mappings */
    uint64_t allocations;     /* successful allocations, ever */
    uint64_t frees;           /* frees, ever */
};

/*
 * A thread's cache. Only its thread changes it (and the blocks in it), so
 * none of it needs a lock; a debugger reads it from root.caches.
 */
struct ant_cache {
    uint64_t magic;            /* ANT_CACHE_MAGIC */
    ant_cache_t *next;         /* next cache in root.caches, or 0 */
    uint64_t thread;           /* the owning thread's kernel id (gettid) */
    uint32_t state;            /* ANT_CACHE_LIVE or ANT_CACHE_IDLE */
    uint32_t bin_count;        /* ANT_CACHE_BINS */
    uint64_t blocks;           /* blocks held */
    uint64_t bytes;            /* their block sizes, summed */
    int64_t requested_delta;   /* requested bytes handed out minus taken back (I10) */
    uint64_t allocations;      /* mallocs it served */
    uint64_t frees;            /* frees it took */
    ant_node_t *busy;          /* the node it is moving in or out, or 0 */
    int64_t busy_requested;    /* what that move adds to requested_delta */
    uint64_t refused;          /* bit i: bin i abandoned after damage (I13) */
    ant_node_t *bins[ANT_CACHE_BINS];   /* the top block of each bin, or 0 */
    uint16_t counts[ANT_CACHE_BINS];    /* blocks in each bin */
};

/*
 * What an arena's lock holder is changing, and the old bytes of everything
 * it changed so far ("A snapshot at any instant" above). A record is the
 * address (a multiple of 8), the number of bytes (a multiple of 8), then
 * the bytes as they were.
 */
struct ant_journal {
    uint32_t op;              /* ANT_OP_*: the call under way, or 0 */
    uint32_t step;            /* ANT_STEP_*: what it is doing, or 0 */
    uint64_t thread;          /* the lock holder's kernel thread id */
    uint64_t args[2];         /* what the step names */
    uint32_t used;            /* words[0 .. used) hold whole records; or ANT_JOURNAL_LOST */
    uint32_t capacity;        /* ANT_JOURNAL_WORDS */
    uint64_t words[ANT_JOURNAL_WORDS];
};

/* One entry of the root's field table. */
struct ant_field {
    char name[ANT_FIELD_NAME_SIZE]; /* "node.size", NUL-padded */
    uint32_t offset;                /* from the start of the struct */
    uint32_t size;                  /* in bytes */
};

/*
 * The last problem the allocator itself found, kept for the debugger: a core
 * left by the abort that followed a report shows here what was seen.
 */
struct ant_last_error {
    uint32_t kind;       /* enum ant_problem_kind in ant.h; 0 = none */
    uint32_t count;      /* problems reported by this process so far */
    uint64_t mem;        /* mem address of the block, or 0 */
    uint64_t node;       /* node address, or 0 */
    uint64_t request;    /* requested size, as the node said */
    uint64_t serial;
    uint64_t site;
    uint64_t culprit;    /* mem of the block that probably did it, or 0 */
    char message[ANT_ERROR_MESSAGE_SIZE]; /* the report line, NUL-ended */
};

#define ANT_FIELD_COUNT 128u

struct ant_root {
    /* The fixed header: the same in every layout version. */
    uint64_t magic;          /* ANT_ROOT_MAGIC */
    uint32_t version;        /* ANT_LAYOUT_VERSION */
    uint32_t size;           /* sizeof(struct ant_root) */
    ant_root_t *self;        /* &ant_root, to confirm a magic found by a scan */
    uint32_t field_count;    /* used entries of fields[] */
    uint32_t field_offset;   /* offsetof(struct ant_root, fields) */

    /* Constants the debugger needs, so it need not assume them. */
    uint32_t node_size;      /* ANT_NODE_SIZE */
    uint32_t region_header_size;
    uint32_t alignment;      /* ANT_ALIGN */
    uint32_t tail_size;      /* ANT_TAIL_SIZE */
    uint32_t min_block;      /* ANT_MIN_BLOCK */
    uint32_t poison;         /* ANT_POISON in the low byte */
    uint64_t poison_check;   /* bytes of poison checked when a block is reused */

    uint64_t secret;         /* the per-process key of both sentinels */
    uint64_t serial;         /* the last serial handed out */
    uint32_t arena_count;    /* arenas[0 .. arena_count) are in use */
    uint32_t fit;            /* the fit policy: enum ant_fit in ant.h */
    ant_arena_t *arenas[ANT_MAX_ARENAS];
    ant_cache_t *caches;     /* every thread cache, by cache.next */
    uint32_t cache_limit;    /* blocks per cache bin; 0: no caches */
    uint32_t cache_bins;     /* ANT_CACHE_BINS */
    struct ant_last_error last_error;
    struct ant_field fields[ANT_FIELD_COUNT];
};

/*
 * ant_root is deliberately not declared here for programs to use: a program
 * that refers to it and links against the shared library gets a copy made
 * at load time (a copy relocation) that the library never updates. It is
 * for debuggers, which confirm the real one by root.self.
 */

/*
 * The head sentinel (version 3): the node's seven words below the head in
 * pairs, each word plus its constant, multiplied into 128 bits, summed
 * modulo 2^128 and folded to 64 bits:
 *
 *   x = (prev + ADD_PREV)     * (next + ADD_NEXT)
 *     + (size + ADD_SIZE)     * (requested + ADD_REQUESTED)
 *     + (serial + ADD_SERIAL) * (site + ADD_SITE)
 *     + (mark + ADD_MARK)     * (node ^ secret)
 *   head = low 64 bits of x  XOR  high 64 bits of x
 *
 * with every sum of two words taken modulo 2^64 first, and `mark` the word
 * of state, arena and flags (words[6]). The secret is odd, so node ^ secret
 * is never zero, and no constant is cancelled by a value its word holds in
 * a sound node: one changed word changes its product, and x, by a non-zero
 * amount below 2^128; the fold to 64 bits lets such a change through with
 * a chance of about 2^-64. The address ties a node to its place, the
 * secret to this process. The four products are independent, which makes
 * this cheaper than the sum modulo 2^61 - 1 of versions 1 and 2 (about 35
 * instructions against 60), and a malloc and free check and reseal it
 * four times.
 *
 * ant_head_sentinel_as() is the sentinel the node will have once its word
 * of state, arena and flags is `mark`: what the allocator seals while it
 * holds the node BUSY.
 */
__extension__ typedef unsigned __int128 ant_head_wide_t;

static inline uint64_t ant_head_sentinel_as(uint64_t secret, const ant_node_t *node, uint64_t mark)
{
    const uint64_t *w = (const uint64_t *)(const void *)node;
    ant_head_wide_t x = (ant_head_wide_t)(w[0] + ANT_HEAD_ADD_PREV) * (w[1] + ANT_HEAD_ADD_NEXT) +
                        (ant_head_wide_t)(w[2] + ANT_HEAD_ADD_SIZE) * (w[3] + ANT_HEAD_ADD_REQUESTED) +
                        (ant_head_wide_t)(w[4] + ANT_HEAD_ADD_SERIAL) * (w[5] + ANT_HEAD_ADD_SITE) +
                        (ant_head_wide_t)(mark + ANT_HEAD_ADD_MARK) * ((uint64_t)(uintptr_t)node ^ secret);
    return (uint64_t)x ^ (uint64_t)(x >> 64);
}

static inline uint64_t ant_head_sentinel(uint64_t secret, const ant_node_t *node)
{
    return ant_head_sentinel_as(secret, node, node->mark);
}

/* The tail sentinel of the block whose node is at `node`. */
static inline uint64_t ant_tail_sentinel(uint64_t secret, const ant_node_t *node)
{
    return (((uint64_t)(uintptr_t)node ^ secret) * ANT_TAIL_MULTIPLIER) | ANT_TAIL_NONZERO;
}

_Static_assert(sizeof(struct ant_node) == ANT_NODE_SIZE, "node is 64 bytes");
_Static_assert(offsetof(struct ant_node, prev) == 0, "node.prev");
_Static_assert(offsetof(struct ant_node, next) == 8, "node.next");
_Static_assert(offsetof(struct ant_node, size) == 16, "node.size");
_Static_assert(offsetof(struct ant_node, requested) == 24, "node.requested");
_Static_assert(offsetof(struct ant_node, serial) == 32, "node.serial");
_Static_assert(offsetof(struct ant_node, site) == 40, "node.site");
_Static_assert(offsetof(struct ant_node, state) == 48, "node.state");
_Static_assert(offsetof(struct ant_node, arena) == 52, "node.arena");
_Static_assert(offsetof(struct ant_node, flags) == 54, "node.flags");
_Static_assert(offsetof(struct ant_node, mark) == 48, "node.mark covers state, arena, flags");
_Static_assert(ANT_MIN_BLOCK + 16 * (ANT_CACHE_BINS - 1) == ANT_CACHE_MAX_BLOCK, "cache bins");
_Static_assert(offsetof(struct ant_node, head) == 56, "node.head is last");
_Static_assert(sizeof(struct ant_region) == ANT_REGION_HEADER_SIZE, "region header");
_Static_assert(ANT_MIN_BLOCK % ANT_ALIGN == 0, "min block aligned");
_Static_assert(sizeof(struct ant_field) == 32, "field entry");
_Static_assert(offsetof(struct ant_root, node_size) == 32, "root fixed header");
_Static_assert(offsetof(struct ant_journal, words) == 40, "journal header");
_Static_assert(sizeof(void *) == 8, "Ant's layout assumes 64-bit pointers");

#endif
