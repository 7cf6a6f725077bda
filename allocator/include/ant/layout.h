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
 *   sentinel    a value whose damage proves corruption: the check (the last
 *               bytes of the node) and the tail (right after the requested
 *               bytes).
 *   poison      the byte written over free mem; damage proves a write after
 *               free.
 *   cache       a thread's own stack of small blocks the program freed,
 *               handed out again to that thread without the arena's lock.
 *               A cached block is free to the program and used to the heap.
 *   depot       an arena's cache of blocks that full thread caches left
 *               there, for empty ones to take: blocks pass between threads
 *               without being merged into the heap and cut out again.
 *   site        the return address of the allocator's caller, or (version
 *               6) a call stack in the stack store whose first frame it is.
 *   serial      an allocation's number, from 1: unique in the process and
 *               rising within each thread, which takes them 64 at a time.
 *
 * A region, low addresses to high
 * -------------------------------
 *
 *   region                                                       region + length
 *   |                                                                          |
 *   v                                                                          v
 *   +--------+------+------+---+-----+------+--------+------+-----+------------+
 *   | region | node | mem  | T | pad | node | mem    | node | mem | wilderness |
 *   | header | 32   | used |   |     | 32   | free,  | 32   | ... | (no nodes) |
 *   | 80     |      |      |   |     |      | poison |      |     |            |
 *   +--------+------+------+---+-----+------+--------+------+-----+------------+
 *            ^                       ^               ^            ^
 *            region.first                            region.last
 *                                    a free block                 region.wilderness
 *
 *   Blocks tile a region: node + size is the next node, and the last block
 *   ends where the wilderness begins. Each node also holds the size of the
 *   block below it (a boundary tag), so node - below is the node below: the
 *   design note's doubly linked list in address order, kept as two sizes.
 *   The two directions are independent truths, each checked against the
 *   other: the node at node + size has below == size.
 *
 *   Why each sentinel exists:
 *   - check: the node's last 4 bytes, a keyed checksum over every other bit
 *     of the node, bound to the node's address and the process's secret. It
 *     catches an overflow from the block below running into this node, an
 *     underflow of this block's mem (the check is the node's last bytes, so
 *     it is the first thing an underflow hits), a node copied from another
 *     block, and a pointer that is not a node at all.
 *   - tail (T): right after the requested bytes, not after the rounded size,
 *     so a one-byte overflow is caught. No byte of it is zero, so a stray
 *     string terminator always shows.
 *   - poison: free mem is filled with ANT_POISON; a byte that changed means
 *     somebody wrote through a dangling pointer.
 *
 * One block, offset by offset (node at N, mem at N + 32)
 * ------------------------------------------------------
 *
 *   N +  0  size       u32  block size in bytes, node included; a multiple of
 *                           16. 0 for a big block, whose mapping's header
 *                           holds its extent.
 *   N +  4  below      u32  size of the block below in the region, 0 for the
 *                           first; for a big block, the bytes from the
 *                           mapping's start to the node
 *   N +  8  requested  u32  bytes the program asked for; a free or cached
 *                           block keeps its last owner's. 0 for a big block,
 *                           whose mapping's header holds all of it.
 *   N + 12  serial     u32  bits 0..31 of the allocation's serial
 *   N + 16  site       48 bits  the caller's return address
 *   N + 22  serial_high u16 bits 32..47 of the serial
 *   N + 24  state      u8   ANT_STATE_USED 'U', _FREE 'F', _CACHED 'C' or
 *                           (version 6) _QUARANTINED 'Q'
 *   N + 25  arena      u8   index of the arena in root.arenas
 *   N + 26  flags      u16  ANT_FLAG_BIG; a count of changes (bits 1..14);
 *                           ANT_FLAG_BUSY
 *   N + 28  check      u32  ant_head_check(root.secret, N, the node)
 *   N + 32  mem        the program's bytes, 16-byte aligned
 *
 *   Read as four little-endian words: w0 = size | below << 32,
 *   w1 = requested | serial << 32 (its low 32 bits), w2 = site | serial's
 *   bits 32..47 << 48, w3 = mark | check << 32, where the mark is state |
 *   arena << 8 | flags << 16. A free or cached block's serial and site are
 *   its last owner's.
 *
 *   used block:  mem[0 .. requested)          the program's data
 *                mem[requested .. +8)         tail sentinel (unaligned)
 *                mem[requested + 8 .. end)    padding, unspecified
 *   free block:  mem[0 .. 8)                  node address of the next free
 *                                             block in its size bin, or 0
 *                mem[8 .. 16)                 node address of the previous
 *                                             one, or 0 for the bin's first
 *                mem[16 .. 32)                who freed it (struct ant_freed)
 *                mem[32 .. end)               ANT_POISON
 *   cached block: mem[0 .. 8)                 node address of the next block
 *                                             in the same cache bin, or 0
 *                mem[8 .. 16)                 address of the cache holding it
 *                mem[16 .. 32)                who freed it
 *                mem[32 .. end)               ANT_POISON
 *   quarantined block (version 6):
 *                mem[0 .. 8)                  node address of the next block
 *                                             in its arena's quarantine (the
 *                                             one freed after it), or 0
 *                mem[8 .. 16)                 node address of the one before
 *                                             (freed before it), or 0
 *                mem[16 .. 32)                who freed it
 *                mem[32 .. end)               ANT_POISON
 *
 *   Who freed a block: the site of the free and the serial current when it
 *   was made, with a keyed check of its own (ant_freed_check()), since no
 *   node field covers it. Each thread takes serials in batches, so serials
 *   name allocations uniquely and rise within a thread, not across threads:
 *   the serial current at a free is the last one the freeing thread handed
 *   out, 0 if it allocated nothing before.
 *
 *     mem[16 .. 24)  site (48 bits) | serial's bits 32..47 << 48
 *     mem[24 .. 32)  serial's bits 0..31 | check << 32
 *
 * Who may change a node
 * ---------------------
 *   A FREE or QUARANTINED node changes only under its arena's lock. A USED or CACHED node
 *   also changes without it, when its thread frees it into or takes it out
 *   of a cache. Whoever changes a USED or CACHED node first sets
 *   ANT_FLAG_BUSY in it with an atomic compare-and-swap of its last word
 *   (w3, at N + 24), writes the fields, then stores w3 whole: the new mark
 *   without BUSY and the check computed for it (with the change count one
 *   higher). It names the node first, in cache.busy (a thread's cache) or
 *   arena.busy or arena.held (the arena's lock holder), and clears that
 *   last. A reader that sees BUSY waits; a BUSY that nothing names is
 *   damage. The arena's lock holder holds a USED or CACHED neighbour it
 *   relinks until its change commits (see below).
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
 *     - N, if BUSY, may be half written: its check, requested, tail, poison
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
 *   The smallest block is ANT_MIN_BLOCK bytes: a node and 32 bytes of mem,
 *   enough for a free block's links and who freed it. A split never leaves
 *   less. A HEAP region is at most ANT_REGION_MAX bytes, so that every size
 *   in it fits a node's 32 bits; a request of ANT_HEAP_REQUEST_MAX or more
 *   always gets a big block.
 *
 * Invariants (cited as I1..I19 by ant_check() and by ant-check)
 * ------------------------------------------------------------
 *   <ant/problems.h> names the kinds of problem each one's breaking is.
 *   I1  every node's check equals ant_head_check() of its address and words.
 *   I2  a used block's tail equals ant_tail_sentinel() of its node address.
 *   I3  every byte of a free, cached or quarantined block's mem from offset 32 is
 *       ANT_POISON, and its record of who freed it checks.
 *   I4  the first block of a region has below 0; every other block's below
 *       is the size of the block below it (node - below is that node).
 *   I5  region.first is the node right after the header and region.last the
 *       block that ends at the wilderness; both 0 while the region is empty.
 *   I6  node.size is a multiple of 16, at least ANT_MIN_BLOCK, and the block
 *       lies inside its region; a used block holds node + requested + tail.
 *   I7  the last block ends where the wilderness begins, within the region.
 *   I8  no two free blocks are neighbours: free always coalesces.
 *   I9  the free links in a free block's mem lead to free blocks of the same
 *       arena and agree with each other (next.prev == this).
 *   I10 the arena's counters equal what a walk of its blocks finds, cached
 *       and quarantined blocks counted as used (the arena handed them out
 *       and has not taken them back), with no requested bytes; the requested
 *       bytes of all USED blocks equal the arenas' requested_bytes plus every
 *       cache's requested_delta; a cache's blocks and bytes equal its lists.
 *   I11 state is USED, FREE, CACHED or QUARANTINED; big blocks are used and only they
 *       have the big flag; BUSY is clear, or a thread is changing the node;
 *       node.arena is the arena of its region.
 *   I12 every mem is 16-byte aligned (or aligned as ant_aligned_alloc asked).
 *   I13 a cache bin's list holds counts[bin] CACHED blocks of that bin's
 *       size, each naming the cache in mem[8 .. 16) and poisoned from 32 on;
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
 *   I17 root.caches leads, by cache.next, through caches (magic, state
 *       LIVE, IDLE or DEPOT, bin_count bins) without a loop.
 *   I18 each arena's journal reads as whole records of memory that can be
 *       read, within journal.capacity.
 *   I19 (version 6) an arena's quarantine leads from arena.quarantine_head,
 *       by the link in mem[0 .. 8), through QUARANTINED blocks of that
 *       arena without a loop, each naming the one before it in
 *       mem[8 .. 16) (the head 0), to arena.quarantine_tail; it holds
 *       arena.quarantine_blocks blocks of arena.quarantine_bytes bytes, and
 *       every QUARANTINED block of the arena.
 *
 * The root
 * --------
 *   `ant_root` is exported by libant and by libantmalloc (each has its own
 *   heap). It starts with a fixed header (magic, version, size, a pointer to
 *   itself, where the field table is) so a debugger without symbols finds it
 *   by scanning memory for ANT_ROOT_MAGIC and confirms it by root.self. The
 *   field table names every field of the root, the arena, the region and the
 *   node, with its offset and size: "node.size" is at offset 0, size 4.
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
 *     arena.quarantine_head, arena.quarantine_tail
 *                            (version 6) the oldest and the newest node of
 *                            its quarantine, or 0
 *     arena.quarantine_blocks, arena.quarantine_bytes
 *                            (version 6) the blocks it holds and their sizes
 *                            summed
 *
 *   root.last_error.* are the fields of struct ant_last_error, cache.* those
 *   of struct ant_cache.
 *
 *   root.break_serial is a serial, or 0 for none. The allocation that takes
 *   that serial raises SIGTRAP in its thread once its block is whole, so
 *   that a debugger stops with the block in hand (as MSVC's
 *   _CrtSetBreakAlloc). ANT_OPTIONS=break_serial=N sets it at start-up; a
 *   debugger sets it by writing it: every allocation reads it, a serial in
 *   a batch a thread took before the write included.
 *
 *   root.kept (version 5) holds up to ANT_KEPT_SLOTS mappings the allocator
 *   watches for faults; each slot's fields are named kept.*. A slot in
 *   state GUARDED is a live guarded block (ANT_OPTIONS=guard=N, about one
 *   allocation in root.guard): a big block whose mapping also holds a
 *   PROT_NONE guard page, right after the block's end (kept.guard AFTER:
 *   header, padding, node, mem, tail, guard) or right before its node
 *   (BEFORE: header page, guard, node, mem, tail). region.length counts
 *   the guard page; nothing the layout names lies in it. A slot in state
 *   FREED is a freed big or guarded block whose whole mapping is kept
 *   PROT_NONE a while, so that an access faults and a second free is
 *   named: only the slot says what it was, since a core may hold none of
 *   its bytes. root.kept_bytes is the address space the FREED slots hold.
 *
 *   The quarantine (version 6, ANT_OPTIONS=quarantine=BYTES, root.quarantine
 *   the bytes): a block of a HEAP region the program frees becomes
 *   QUARANTINED instead of FREE: poisoned whole, with its record of who
 *   freed it, and put at the tail of its arena's quarantine, a list
 *   threaded through the blocks' mem[0 .. 16). Neither malloc nor a merge
 *   takes it, and it never goes back to the wilderness. Once the arena's
 *   quarantine_bytes exceed root.quarantine, the oldest blocks leave from
 *   the head, their poison and record checked whole, and become FREE as a
 *   freed block does (merged, filed or given back). Thread caches are off
 *   while it is on, so that every free passes through it. Its changes are
 *   made under the arena's lock and recorded in its journal like any other.
 *
 * Thread caches
 * -------------
 *   root.caches lists every cache ever made (by cache.next), one per thread
 *   that allocated; a cache whose thread ended is IDLE, empty, and waits for
 *   a new thread. Bin i holds blocks of size ANT_MIN_BLOCK + 16 * i bytes.
 *
 *   An arena's depot is a cache too, in state DEPOT, listed the same way
 *   (its thread 0): where a thread cache that is full leaves blocks of that
 *   arena, and where a thread whose cache is empty takes them, a few at a
 *   time, without either of them splitting or merging a block. Its blocks
 *   stay CACHED, their links naming the depot. It changes only under its
 *   arena's lock, every word recorded in that arena's journal first, so a
 *   reader reads it as it reads any cache whose thread is stopped.
 *
 * All integers are in the target's byte order (little-endian on the
 * platforms Ant supports) and all pointers are 64 bits.
 */
#ifndef ANT_LAYOUT_H
#define ANT_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define ANT_LAYOUT_VERSION 6u

/* "ANT-ROOT" read as a little-endian 64-bit integer. */
#define ANT_ROOT_MAGIC 0x544f4f522d544e41ull
/* "ANT-REGN" read as a little-endian 64-bit integer. */
#define ANT_REGION_MAGIC 0x4e4745522d544e41ull

/* Node states: an ASCII letter each, so a hex dump of a node shows one. */
#define ANT_STATE_USED 0x55u        /* 'U' */
#define ANT_STATE_FREE 0x46u        /* 'F' */
#define ANT_STATE_CACHED 0x43u      /* 'C': in a thread cache or a depot */
#define ANT_STATE_QUARANTINED 0x51u /* 'Q': freed, held back from reuse (version 6) */

/* Region kinds, in ASCII. */
#define ANT_REGION_HEAP 0x50414548u /* "HEAP": blocks, then wilderness */
#define ANT_REGION_BIG 0x20474942u  /* "BIG ": one block of its own */

/* node.flags */
#define ANT_FLAG_BIG 0x0001u   /* the block is the only one in a big mapping */
#define ANT_FLAG_TURNS 0x7ffeu /* counts changes made under BUSY, modulo 2^14 */
#define ANT_FLAG_TURN 0x0002u
#define ANT_FLAG_BUSY 0x8000u /* a thread is changing the node: see above */

/* "ANT-TCAC" read as a little-endian 64-bit integer. */
#define ANT_CACHE_MAGIC 0x434143542d544e41ull
/* cache.state */
#define ANT_CACHE_LIVE 0x4556494cu  /* "LIVE": its thread is running */
#define ANT_CACHE_IDLE 0x454c4449u  /* "IDLE": its thread ended; empty */
#define ANT_CACHE_DEPOT 0x4f504544u /* "DEPO": an arena's depot, changed under its lock */
#define ANT_CACHE_BINS 61u          /* block sizes ANT_MIN_BLOCK .. 1024 */
#define ANT_CACHE_MAX_BLOCK 1024u

/* journal.op: the call whose change of the heap is under way. */
#define ANT_OP_MALLOC 1u  /* malloc, calloc, realloc of a null pointer */
#define ANT_OP_ALIGNED 2u /* aligned_alloc, posix_memalign, memalign */
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
#define ANT_STEP_MOVE 19u         /* moving the cached blocks from mem [0] down to cache [1] */
#define ANT_STEP_QUARANTINE 20u   /* holding freed mem [0] in the quarantine, [1] bytes held before */
#define ANT_STEP_UNQUARANTINE 21u /* taking mem [0], the oldest, out of the quarantine, [1] bytes held before */

#define ANT_JOURNAL_WORDS 512u
/* journal.used when a change outgrew the journal: it cannot be undone. */
#define ANT_JOURNAL_LOST 0xffffffffu

#define ANT_ALIGN 16u
#define ANT_NODE_SIZE 32u
#define ANT_REGION_HEADER_SIZE 80u
#define ANT_TAIL_SIZE 8u
#define ANT_FREE_LINKS_SIZE 16u
#define ANT_FREED_SIZE 16u
/* Where a free or cached block's poison begins in its mem: past its links
 * and the record of who freed it. */
#define ANT_POISON_OFFSET (ANT_FREE_LINKS_SIZE + ANT_FREED_SIZE)
#define ANT_MIN_BLOCK (ANT_NODE_SIZE + ANT_POISON_OFFSET)
#define ANT_POISON 0xa5u
/* The largest HEAP region (so every size in one fits 32 bits), and the
 * smallest request that always gets a big block. */
#define ANT_REGION_MAX 0xffff0000ull
#define ANT_HEAP_REQUEST_MAX ((uint64_t)1 << 30)
/* The bits of w2 that hold a node's site (or of a freed record's first word). */
#define ANT_SITE_MASK 0xffffffffffffull

/* What the checks add to the words they multiply. Each is odd with its top
 * bit set, so that no value a node holds cancels it. */
#define ANT_CHECK_ADD0 0x9e3779b97f4a7c15ull
#define ANT_CHECK_ADD1 0xc2b2ae3d27d4eb4full
#define ANT_CHECK_ADD2 0x9fb21c651e98df25ull
#define ANT_CHECK_ADD3 0xd6e8feb86659fd93ull
#define ANT_FREED_ADD0 0xa0761d6478bd642full
#define ANT_FREED_ADD1 0xe7037ed1a0b428dbull
/* Mixes an address and the secret into the tail sentinel. */
#define ANT_TAIL_MULTIPLIER 0x9e3779b97f4a7c15ull
/* Or-ed into every byte of the tail so that none of them is zero. */
#define ANT_TAIL_NONZERO 0x0101010101010101ull

#define ANT_MAX_ARENAS 64u

/* kept.state, in ASCII */
#define ANT_KEPT_GUARDED 0x44524147u /* "GARD": a live guarded block */
#define ANT_KEPT_FREED 0x45455246u   /* "FREE": a freed mapping, all of it PROT_NONE */
/* kept.guard: where a guarded block's guard page lies */
#define ANT_GUARD_AFTER 1u  /* the page right after the block's end */
#define ANT_GUARD_BEFORE 2u /* the page right before its node */
#define ANT_KEPT_SLOTS 256u
#define ANT_FIELD_NAME_SIZE 24u /* so names have at most 23 characters */
#define ANT_ERROR_MESSAGE_SIZE 384u

typedef struct ant_node ant_node_t;
typedef struct ant_region ant_region_t;
typedef struct ant_arena ant_arena_t;
typedef struct ant_root ant_root_t;
typedef struct ant_cache ant_cache_t;

/* The fields, for reading; changing a node takes whole words (w) where other
 * threads may look, as "Who may change a node" says. */
struct ant_node {
    union {
        struct {
            uint32_t size;
            uint32_t below;
            uint32_t requested;
            uint32_t serial;      /* bits 0..31 */
            uint16_t site[3];     /* 48 bits, the low half first */
            uint16_t serial_high; /* bits 32..47 */
            union {
                struct {
                    uint8_t state;
                    uint8_t arena;
                    uint16_t flags;
                };
                uint32_t mark; /* the three as one, for the BUSY protocol */
            };
            uint32_t check;
        };
        uint64_t w[4];
    };
};

/* Who freed a free or cached block, in its mem[16 .. 32). */
struct ant_freed {
    uint64_t site;   /* site | serial's bits 32..47 << 48 */
    uint32_t serial; /* bits 0..31 of the freeing thread's last serial */
    uint32_t check;  /* ant_freed_check() */
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
    uint64_t big_size;      /* BIG: its block's size; HEAP: 0 */
    uint64_t big_requested; /* BIG: its block's requested bytes; HEAP: 0 */
};

/*
 * The debugger reads an arena through the field table; everything past the
 * documented fields (the lock, the bins) is the allocator's own business.
 * Counters cover the arena's HEAP regions and big blocks together.
 */
struct ant_arena_counters {
    uint64_t used_blocks;      /* blocks in state USED, big ones included */
    uint64_t free_blocks;      /* blocks in state FREE */
    uint64_t requested_bytes;  /* sum of requested over used blocks */
    uint64_t used_bytes;       /* sum of size over used blocks */
    uint64_t free_bytes;       /* sum of size over free blocks */
    uint64_t wilderness_bytes; /* sum of the HEAP regions' wilderness */
    uint64_t mapped_bytes;     /* sum of region and big mapping lengths */
    uint64_t regions;          /* HEAP regions */
    uint64_t bigs;             /* big mappings */
    uint64_t allocations;      /* successful allocations, ever */
    uint64_t frees;            /* frees, ever */
};

/*
 * A thread's cache. Only its thread changes it (and the blocks in it), so
 * none of it needs a lock; a debugger reads it from root.caches.
 */
struct ant_cache {
    uint64_t magic;                   /* ANT_CACHE_MAGIC */
    ant_cache_t *next;                /* next cache in root.caches, or 0 */
    uint64_t thread;                  /* the owning thread's kernel id (gettid) */
    uint32_t state;                   /* ANT_CACHE_LIVE, _IDLE or _DEPOT */
    uint32_t bin_count;               /* ANT_CACHE_BINS */
    uint64_t blocks;                  /* blocks held */
    uint64_t bytes;                   /* their block sizes, summed */
    int64_t requested_delta;          /* requested bytes handed out minus taken back (I10) */
    uint64_t allocations;             /* mallocs it served */
    uint64_t frees;                   /* frees it took */
    ant_node_t *busy;                 /* the node it is moving in or out, or 0 */
    int64_t busy_requested;           /* what that move adds to requested_delta */
    uint64_t refused;                 /* bit i: bin i abandoned after damage (I13) */
    ant_node_t *bins[ANT_CACHE_BINS]; /* the top block of each bin, or 0 */
    uint16_t counts[ANT_CACHE_BINS];  /* blocks in each bin */
};

/*
 * What an arena's lock holder is changing, and the old bytes of everything
 * it changed so far ("A snapshot at any instant" above). A record is the
 * address (a multiple of 8), the number of bytes (a multiple of 8), then
 * the bytes as they were.
 */
struct ant_journal {
    uint32_t op;       /* ANT_OP_*: the call under way, or 0 */
    uint32_t step;     /* ANT_STEP_*: what it is doing, or 0 */
    uint64_t thread;   /* the lock holder's kernel thread id */
    uint64_t args[2];  /* what the step names */
    uint32_t used;     /* words[0 .. used) hold whole records; or ANT_JOURNAL_LOST */
    uint32_t capacity; /* ANT_JOURNAL_WORDS */
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
    uint32_t kind;    /* enum ant_problem_kind in ant.h; 0 = none */
    uint32_t count;   /* problems reported by this process so far */
    uint64_t mem;     /* mem address of the block, or 0 */
    uint64_t node;    /* node address, or 0 */
    uint64_t request; /* requested size, as the node said */
    uint64_t serial;
    uint64_t site;
    uint64_t culprit;                     /* mem of the block that probably did it, or 0 */
    char message[ANT_ERROR_MESSAGE_SIZE]; /* the report line, NUL-ended */
};

/*
 * A mapping the allocator watches for faults (version 5): a live guarded
 * block, or a freed big block or guarded block kept inaccessible. A slot
 * is written whole while its state is 0, and its state set last; a slot
 * leaves by its state going to 0 before its mapping is unmapped.
 */
struct ant_kept {
    uint64_t mapping;      /* the mapping's start: its region header while live */
    uint64_t length;       /* bytes mapped, guard page included */
    uint64_t mem;          /* the block's mem */
    uint64_t requested;    /* bytes the program asked for */
    uint64_t serial;       /* the allocation's serial */
    uint64_t site;         /* the allocation's site */
    uint64_t freed_site;   /* who freed it, or 0 while live */
    uint64_t freed_serial; /* the freeing thread's last serial, as struct ant_freed has it */
    uint64_t order;        /* rises with every free kept: the lowest is released first */
    uint32_t state;        /* 0, ANT_KEPT_GUARDED or ANT_KEPT_FREED */
    uint32_t guard;        /* ANT_GUARD_AFTER or _BEFORE, or 0: a big block without a guard */
};

/*
 * Call stacks (version 6). With ANT_OPTIONS=stack=N (N frames, 0 off) a
 * site (node.site, who freed a block, kept.site, kept.freed_site,
 * last_error.site) is not a return address but a stack: ANT_SITE_STACK
 * (bit 47, which no user-space address of x86-64 has) or-ed with the id of
 * an entry of the store at root.stacks. The id is the entry's offset from
 * the store's start in 8-byte words. The entry's first frame is the
 * return address the site would otherwise have been, the allocator's
 * caller; the next ones are its callers' return addresses, outwards.
 *
 *   root.stacks -> +--------------+---------------------+-------+-------+----
 *                  | struct       | buckets             | stack | stack | ...
 *                  | ant_stacks   | (bucket_count ids)  |       |       |
 *                  +--------------+---------------------+-------+-------+----
 *                  ^ id 0                                ^ store + 8 * id
 *
 * A stack is stored once (the buckets chain equal hashes, for the
 * allocator's lookups) and never changes or leaves while the process
 * lives, so a reader needs no lock: an id is sound when its entry lies
 * below stacks.used, with depth frames. An entry is written whole, then
 * counted in used, then linked into its bucket; a site names it only
 * after that. When the store is full a site is the bare return address
 * again (stacks.dropped counts those). In the field table, the flexible
 * arrays stacks.buckets and stack.frames give the size of one element.
 */
#define ANT_SITE_STACK (1ull << 47)
#define ANT_STACK_MAX 32u                      /* frames a stack=N may ask for */
#define ANT_STACKS_MAGIC 0x4b4154532d544e41ull /* "ANT-STAK" */

struct ant_stack {
    uint32_t next;     /* the next stack in this bucket, as an id; 0: none */
    uint32_t hash;     /* of the frames, for the allocator's lookups */
    uint32_t depth;    /* frames that follow: 1 .. stacks.depth */
    uint32_t reserved; /* 0 */
    uint64_t frames[]; /* return addresses, the allocator's caller first */
};

struct ant_stacks {
    uint64_t magic;        /* ANT_STACKS_MAGIC */
    uint32_t depth;        /* the most frames a stack holds: stack=N */
    uint32_t bucket_count; /* a power of two */
    uint64_t used;         /* bytes in use from the store's start, buckets and stacks included */
    uint64_t mapped;       /* bytes readable from the store's start */
    uint64_t count;        /* stacks stored */
    uint64_t dropped;      /* sites left bare because the store was full */
    uint32_t lock;         /* the allocator's, for adding a stack */
    uint32_t reserved;
    uint32_t buckets[]; /* the first id of each hash's chain; 0: none */
};

#define ANT_FIELD_COUNT 180u

struct ant_root {
    /* The fixed header: the same in every layout version. */
    uint64_t magic;        /* ANT_ROOT_MAGIC */
    uint32_t version;      /* ANT_LAYOUT_VERSION */
    uint32_t size;         /* sizeof(struct ant_root) */
    ant_root_t *self;      /* &ant_root, to confirm a magic found by a scan */
    uint32_t field_count;  /* used entries of fields[] */
    uint32_t field_offset; /* offsetof(struct ant_root, fields) */

    /* Constants the debugger needs, so it need not assume them. */
    uint32_t node_size; /* ANT_NODE_SIZE */
    uint32_t region_header_size;
    uint32_t alignment;     /* ANT_ALIGN */
    uint32_t tail_size;     /* ANT_TAIL_SIZE */
    uint32_t min_block;     /* ANT_MIN_BLOCK */
    uint32_t poison;        /* ANT_POISON in the low byte */
    uint32_t poison_offset; /* ANT_POISON_OFFSET */
    uint64_t poison_check;  /* bytes of poison checked when a block is reused */

    uint64_t secret;      /* the per-process key of both sentinels */
    uint64_t serial;      /* the last serial handed out */
    uint32_t arena_count; /* arenas[0 .. arena_count) are in use */
    uint32_t fit;         /* the fit policy: enum ant_fit in ant.h */
    ant_arena_t *arenas[ANT_MAX_ARENAS];
    ant_cache_t *caches;  /* every thread cache, by cache.next */
    uint32_t cache_limit; /* blocks per cache bin; 0: no caches */
    uint32_t cache_bins;  /* ANT_CACHE_BINS */
    struct ant_last_error last_error;
    struct ant_field fields[ANT_FIELD_COUNT];
    uint64_t break_serial; /* SIGTRAP at the allocation of this serial; 0: none */
    uint32_t guard;        /* about one allocation in guard is guarded; 0: none */
    uint32_t kept_slots;   /* ANT_KEPT_SLOTS */
    uint64_t kept_bytes;   /* address space the freed kept mappings hold */
    struct ant_kept kept[ANT_KEPT_SLOTS];
    uint64_t quarantine;       /* (version 6) bytes of freed blocks each arena holds back; 0: none */
    struct ant_stacks *stacks; /* (version 6) the stack store, or 0 */
    uint32_t stack_depth;      /* (version 6) stack=N: frames recorded per site; 0: none */
    uint32_t stack_reserved;
};

/*
 * ant_root is deliberately not declared here for programs to use: a program
 * that refers to it and links against the shared library gets a copy made
 * at load time (a copy relocation) that the library never updates. It is
 * for debuggers, which confirm the real one by root.self.
 */

/*
 * The check, the node's last 4 bytes (version 4): its three words below
 * the last and its mark (state, arena, flags), bound to its address and the
 * process's secret, folded to 32 bits:
 *
 *   x = (w0 + ADD0) * (w1 + ADD1) + (w2 + ADD2) * (((node ^ secret) + ADD3) ^ mark)
 *   h = low 64 bits of x  XOR  high 64 bits of x
 *   check = low 32 bits of h  XOR  high 32 bits of h
 *
 * with every sum of two words taken modulo 2^64 first and x modulo 2^128.
 * One changed word changes its product, and x, by a non-zero amount below
 * 2^128 (the factors it meets are not 0 but for values no sound node
 * holds); the folds let such a change through with a chance of about
 * 2^-32. Two products, a dozen instructions: a malloc and a free through
 * a thread cache verify and seal four of them.
 *
 * ant_head_check_as() is the check the node will have once its mark is
 * `mark`: what the allocator seals while it holds the node BUSY.
 */
__extension__ typedef unsigned __int128 ant_wide_t;

static inline uint32_t ant_fold(ant_wide_t x)
{
    uint64_t h = (uint64_t)x ^ (uint64_t)(x >> 64);
    return (uint32_t)(h ^ (h >> 32));
}

static inline uint32_t ant_head_check_as(uint64_t secret, const ant_node_t *node, uint32_t mark)
{
    uint64_t bound = (((uint64_t)(uintptr_t)node ^ secret) + ANT_CHECK_ADD3) ^ mark;
    return ant_fold((ant_wide_t)(node->w[0] + ANT_CHECK_ADD0) * (node->w[1] + ANT_CHECK_ADD1) +
                    (ant_wide_t)(node->w[2] + ANT_CHECK_ADD2) * bound);
}

static inline uint32_t ant_head_check(uint64_t secret, const ant_node_t *node)
{
    return ant_head_check_as(secret, node, node->mark);
}

/* The tail sentinel of the block whose node is at `node`. */
static inline uint64_t ant_tail_sentinel(uint64_t secret, const ant_node_t *node)
{
    return (((uint64_t)(uintptr_t)node ^ secret) * ANT_TAIL_MULTIPLIER) | ANT_TAIL_NONZERO;
}

/* The check of who freed the block at `node`, whose record's first word is
 * `site` and whose serial's low 32 bits are `serial`. */
static inline uint32_t ant_freed_check(uint64_t secret, const ant_node_t *node, uint64_t site, uint32_t serial)
{
    uint64_t bound = (((uint64_t)(uintptr_t)node ^ secret) + ANT_FREED_ADD1) ^ serial;
    return ant_fold((ant_wide_t)(site + ANT_FREED_ADD0) * bound);
}

/* The 48-bit fields, whole. */
static inline uint64_t ant_node_serial(const ant_node_t *node)
{
    return node->serial | (uint64_t)node->serial_high << 32;
}

static inline uint64_t ant_node_site(const ant_node_t *node)
{
    return node->w[2] & ANT_SITE_MASK;
}

_Static_assert(sizeof(struct ant_node) == ANT_NODE_SIZE, "node is 32 bytes");
_Static_assert(offsetof(struct ant_node, size) == 0, "node.size");
_Static_assert(offsetof(struct ant_node, below) == 4, "node.below");
_Static_assert(offsetof(struct ant_node, requested) == 8, "node.requested");
_Static_assert(offsetof(struct ant_node, serial) == 12, "node.serial");
_Static_assert(offsetof(struct ant_node, site) == 16, "node.site");
_Static_assert(offsetof(struct ant_node, serial_high) == 22, "node.serial_high");
_Static_assert(offsetof(struct ant_node, state) == 24, "node.state");
_Static_assert(offsetof(struct ant_node, arena) == 25, "node.arena");
_Static_assert(offsetof(struct ant_node, flags) == 26, "node.flags");
_Static_assert(offsetof(struct ant_node, mark) == 24, "node.mark covers state, arena, flags");
_Static_assert(offsetof(struct ant_node, check) == 28, "node.check is last");
_Static_assert(sizeof(struct ant_freed) == ANT_FREED_SIZE, "who freed a block");
_Static_assert(ANT_MIN_BLOCK + 16 * (ANT_CACHE_BINS - 1) == ANT_CACHE_MAX_BLOCK, "cache bins");
_Static_assert(sizeof(struct ant_region) == ANT_REGION_HEADER_SIZE, "region header");
_Static_assert(ANT_MIN_BLOCK % ANT_ALIGN == 0, "min block aligned");
_Static_assert(ANT_REGION_MAX < ((uint64_t)1 << 32), "sizes in a region fit 32 bits");
_Static_assert(sizeof(struct ant_field) == 32, "field entry");
_Static_assert(offsetof(struct ant_root, node_size) == 32, "root fixed header");
_Static_assert(offsetof(struct ant_journal, words) == 40, "journal header");
_Static_assert(sizeof(struct ant_kept) == 80, "kept slot");
_Static_assert(sizeof(struct ant_stack) == 16, "stack entry header");
_Static_assert(sizeof(struct ant_stacks) == 56, "stack store header");
_Static_assert(sizeof(void *) == 8, "Ant's layout assumes 64-bit pointers");

#endif
