/*
 * root.c: the one global a debugger starts from, and start-up.
 *
 * The root is statically initialised, so a debugger finds a valid magic,
 * version and field table even in a process that has not allocated yet.
 * Code inside the library uses the hidden name ant_heap_root; the exported
 * name ant_root is an alias, so that when libant and libantmalloc are both
 * loaded each keeps its own heap instead of binding to the other's root.
 */
#include "internal.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>

#define FIELD(name, type, member)                                                     \
    {                                                                                 \
        name, (uint32_t)offsetof(type, member), (uint32_t)sizeof(((type *)0)->member) \
    }
/* A flexible array: the size of one element. */
#define ELEMENT(name, type, member)                                                      \
    {                                                                                    \
        name, (uint32_t)offsetof(type, member), (uint32_t)sizeof(((type *)0)->member[0]) \
    }
#define STRUCT(name, type)              \
    {                                   \
        name, 0, (uint32_t)sizeof(type) \
    }
#define COUNTER(name, member)                                                                              \
    {                                                                                                      \
        name, (uint32_t)(offsetof(ant_arena_t, counters) + offsetof(struct ant_arena_counters, member)), 8 \
    }

/* Every field a debugger reads, by name. */
#define ANT_FIELDS                                                                                                    \
    STRUCT("root", ant_root_t), FIELD("root.magic", ant_root_t, magic), FIELD("root.version", ant_root_t, version),   \
        FIELD("root.size", ant_root_t, size), FIELD("root.self", ant_root_t, self),                                   \
        FIELD("root.field_count", ant_root_t, field_count), FIELD("root.field_offset", ant_root_t, field_offset),     \
        FIELD("root.node_size", ant_root_t, node_size),                                                               \
        FIELD("root.region_header_size", ant_root_t, region_header_size),                                             \
        FIELD("root.alignment", ant_root_t, alignment), FIELD("root.tail_size", ant_root_t, tail_size),               \
        FIELD("root.min_block", ant_root_t, min_block), FIELD("root.poison", ant_root_t, poison),                     \
        FIELD("root.poison_offset", ant_root_t, poison_offset), FIELD("root.poison_check", ant_root_t, poison_check), \
        FIELD("root.secret", ant_root_t, secret), FIELD("root.serial", ant_root_t, serial),                           \
        FIELD("root.arena_count", ant_root_t, arena_count), FIELD("root.fit", ant_root_t, fit),                       \
        FIELD("root.arenas", ant_root_t, arenas), FIELD("root.last_error", ant_root_t, last_error),                   \
        FIELD("root.last_error.kind", ant_root_t, last_error.kind),                                                   \
        FIELD("root.last_error.count", ant_root_t, last_error.count),                                                 \
        FIELD("root.last_error.mem", ant_root_t, last_error.mem),                                                     \
        FIELD("root.last_error.node", ant_root_t, last_error.node),                                                   \
        FIELD("root.last_error.request", ant_root_t, last_error.request),                                             \
        FIELD("root.last_error.serial", ant_root_t, last_error.serial),                                               \
        FIELD("root.last_error.site", ant_root_t, last_error.site),                                                   \
        FIELD("root.last_error.culprit", ant_root_t, last_error.culprit),                                             \
        FIELD("root.last_error.message", ant_root_t, last_error.message), FIELD("root.fields", ant_root_t, fields),   \
        FIELD("root.caches", ant_root_t, caches), FIELD("root.cache_limit", ant_root_t, cache_limit),                 \
        FIELD("root.cache_bins", ant_root_t, cache_bins), FIELD("root.break_serial", ant_root_t, break_serial),       \
        STRUCT("cache", ant_cache_t), FIELD("cache.magic", ant_cache_t, magic),                                       \
        FIELD("cache.next", ant_cache_t, next), FIELD("cache.thread", ant_cache_t, thread),                           \
        FIELD("cache.state", ant_cache_t, state), FIELD("cache.bin_count", ant_cache_t, bin_count),                   \
        FIELD("cache.blocks", ant_cache_t, blocks), FIELD("cache.bytes", ant_cache_t, bytes),                         \
        FIELD("cache.requested_delta", ant_cache_t, requested_delta),                                                 \
        FIELD("cache.allocations", ant_cache_t, allocations), FIELD("cache.frees", ant_cache_t, frees),               \
        FIELD("cache.busy", ant_cache_t, busy), FIELD("cache.busy_requested", ant_cache_t, busy_requested),           \
        FIELD("cache.refused", ant_cache_t, refused), FIELD("cache.bins", ant_cache_t, bins),                         \
        FIELD("cache.counts", ant_cache_t, counts), STRUCT("node", ant_node_t), FIELD("node.size", ant_node_t, size), \
        FIELD("node.below", ant_node_t, below), FIELD("node.requested", ant_node_t, requested),                       \
        FIELD("node.serial", ant_node_t, serial), FIELD("node.site", ant_node_t, site),                               \
        FIELD("node.serial_high", ant_node_t, serial_high), FIELD("node.state", ant_node_t, state),                   \
        FIELD("node.arena", ant_node_t, arena), FIELD("node.flags", ant_node_t, flags),                               \
        FIELD("node.check", ant_node_t, check), STRUCT("freed", struct ant_freed),                                    \
        FIELD("freed.site", struct ant_freed, site), FIELD("freed.serial", struct ant_freed, serial),                 \
        FIELD("freed.check", struct ant_freed, check), STRUCT("region", ant_region_t),                                \
        FIELD("region.magic", ant_region_t, magic), FIELD("region.next", ant_region_t, next),                         \
        FIELD("region.prev", ant_region_t, prev), FIELD("region.length", ant_region_t, length),                       \
        FIELD("region.wilderness", ant_region_t, wilderness), FIELD("region.first", ant_region_t, first),             \
        FIELD("region.last", ant_region_t, last), FIELD("region.kind", ant_region_t, kind),                           \
        FIELD("region.arena", ant_region_t, arena), FIELD("region.big_size", ant_region_t, big_size),                 \
        FIELD("region.big_requested", ant_region_t, big_requested), STRUCT("arena", ant_arena_t),                     \
        FIELD("arena.index", ant_arena_t, index), FIELD("arena.regions", ant_arena_t, regions),                       \
        FIELD("arena.bigs", ant_arena_t, bigs), FIELD("arena.busy", ant_arena_t, busy),                               \
        FIELD("arena.journal", ant_arena_t, journal), STRUCT("journal", struct ant_journal),                          \
        FIELD("journal.op", struct ant_journal, op), FIELD("journal.step", struct ant_journal, step),                 \
        FIELD("journal.thread", struct ant_journal, thread), FIELD("journal.args", struct ant_journal, args),         \
        FIELD("journal.used", struct ant_journal, used), FIELD("journal.capacity", struct ant_journal, capacity),     \
        FIELD("journal.words", struct ant_journal, words), COUNTER("arena.used_blocks", used_blocks),                 \
        COUNTER("arena.free_blocks", free_blocks), COUNTER("arena.requested_bytes", requested_bytes),                 \
        COUNTER("arena.used_bytes", used_bytes), COUNTER("arena.free_bytes", free_bytes),                             \
        COUNTER("arena.wilderness_bytes", wilderness_bytes), COUNTER("arena.mapped_bytes", mapped_bytes),             \
        COUNTER("arena.region_count", regions), COUNTER("arena.big_count", bigs),                                     \
        COUNTER("arena.allocations", allocations), COUNTER("arena.frees", frees),                                     \
        FIELD("root.guard", ant_root_t, guard), FIELD("root.kept_slots", ant_root_t, kept_slots),                     \
        FIELD("root.kept_bytes", ant_root_t, kept_bytes), FIELD("root.kept", ant_root_t, kept),                       \
        STRUCT("kept", struct ant_kept), FIELD("kept.mapping", struct ant_kept, mapping),                             \
        FIELD("kept.length", struct ant_kept, length), FIELD("kept.mem", struct ant_kept, mem),                       \
        FIELD("kept.requested", struct ant_kept, requested), FIELD("kept.serial", struct ant_kept, serial),           \
        FIELD("kept.site", struct ant_kept, site), FIELD("kept.freed_site", struct ant_kept, freed_site),             \
        FIELD("kept.freed_serial", struct ant_kept, freed_serial), FIELD("kept.order", struct ant_kept, order),       \
        FIELD("kept.state", struct ant_kept, state), FIELD("kept.guard", struct ant_kept, guard),                     \
        FIELD("root.quarantine", ant_root_t, quarantine),                                                             \
        FIELD("arena.quarantine_head", ant_arena_t, quarantine_head),                                                 \
        FIELD("arena.quarantine_tail", ant_arena_t, quarantine_tail),                                                 \
        FIELD("arena.quarantine_blocks", ant_arena_t, quarantine_blocks),                                             \
        FIELD("arena.quarantine_bytes", ant_arena_t, quarantine_bytes), FIELD("root.stacks", ant_root_t, stacks),     \
        FIELD("root.stack_depth", ant_root_t, stack_depth), STRUCT("stacks", struct ant_stacks),                      \
        FIELD("stacks.magic", struct ant_stacks, magic), FIELD("stacks.depth", struct ant_stacks, depth),             \
        FIELD("stacks.bucket_count", struct ant_stacks, bucket_count), FIELD("stacks.used", struct ant_stacks, used), \
        FIELD("stacks.mapped", struct ant_stacks, mapped), FIELD("stacks.count", struct ant_stacks, count),           \
        FIELD("stacks.dropped", struct ant_stacks, dropped), ELEMENT("stacks.buckets", struct ant_stacks, buckets),   \
        STRUCT("stack", struct ant_stack), FIELD("stack.next", struct ant_stack, next),                               \
        FIELD("stack.hash", struct ant_stack, hash), FIELD("stack.depth", struct ant_stack, depth),                   \
        ELEMENT("stack.frames", struct ant_stack, frames)

ant_root_t ant_heap_root = {
    .magic = ANT_ROOT_MAGIC,
    .version = ANT_LAYOUT_VERSION,
    .size = sizeof(ant_root_t),
    .self = &ant_heap_root,
    .field_offset = offsetof(ant_root_t, fields),
    .node_size = ANT_NODE_SIZE,
    .region_header_size = ANT_REGION_HEADER_SIZE,
    .alignment = ANT_ALIGN,
    .tail_size = ANT_TAIL_SIZE,
    .min_block = ANT_MIN_BLOCK,
    .poison = ANT_POISON,
    .poison_offset = ANT_POISON_OFFSET,
    .kept_slots = ANT_KEPT_SLOTS,
    .field_count = sizeof((struct ant_field[]){ANT_FIELDS}) / sizeof(struct ant_field),
    .fields = {ANT_FIELDS},
};

/* The exported name of the root, documented in layout.h. */
extern ant_root_t ant_root __attribute__((alias("ant_heap_root"), visibility("default")));

size_t ant_page_size = 4096;
int ant_ready;

__thread uint64_t ant_serial_next __attribute__((tls_model("initial-exec")));
__thread uint64_t ant_serial_end __attribute__((tls_model("initial-exec")));

/* Serials a thread takes from root.serial at once: the shared counter is
 * touched once in that many allocations. root.serial stays the last one
 * any thread may have handed out. */
#define SERIAL_BATCH 64u

uint64_t ant_serial_refill(void)
{
    uint64_t first = __atomic_fetch_add(&ant_heap_root.serial, SERIAL_BATCH, __ATOMIC_RELAXED) + 1;
    ant_serial_next = first + 1;
    ant_serial_end = first + SERIAL_BATCH;
    return first;
}

static int init_state; /* 0 not started, 1 in progress, 2 done */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* A secret no program can guess: the kernel's AT_RANDOM bytes, the clock and
 * an address (ASLR). Reading them allocates nothing. */
static uint64_t make_secret(void)
{
    uint64_t secret = 0;
    const unsigned char *random = (const unsigned char *)(uintptr_t)getauxval(AT_RANDOM);
    if (random)
        memcpy(&secret, random, sizeof secret);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    secret = mix64(secret ^ (uint64_t)now.tv_nsec ^ ((uint64_t)now.tv_sec << 32) ^ (uint64_t)(uintptr_t)&now);
    return secret | 1; /* odd: see the head sentinel in layout.h */
}

/*
 * Start-up must not allocate, print through stdio or call back into malloc:
 * in the drop-in, the loader may call malloc before any constructor runs.
 * A thread that finds start-up under way in another thread waits for it.
 */
void ant_init_slow(void)
{
    int expected = 0;
    if (!__atomic_compare_exchange_n(&init_state, &expected, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&init_state, __ATOMIC_ACQUIRE) != 2)
            sched_yield();
        return;
    }
    long page = sysconf(_SC_PAGESIZE);
    if (page > 0)
        ant_page_size = (size_t)page;
    ant_heap_root.secret = make_secret();
    ant_options_read(getenv("ANT_OPTIONS"));
    ant_heap_root.fit = (uint32_t)ant_opt.fit;
    ant_heap_root.poison_check = ant_opt.poison_check;
    ant_heap_root.guard = (uint32_t)ant_opt.guard;
    ant_heap_root.quarantine = ant_opt.quarantine;
    ant_stack_setup();
    /* A debugger may have set it before the first allocation. */
    if (ant_opt.break_serial)
        ant_heap_root.break_serial = ant_opt.break_serial;
    /* The teaching policies show coalescing step by step; a cache would
     * hold the freed blocks back from it. */
    if (!ant_opt.cache_given)
        ant_opt.cache = ant_opt.fit == ANT_FIT_BINNED ? ANT_DEFAULT_CACHE : 0;
    /* Every free passes through the quarantine: a cache would hand a
     * freed block out again at once. */
    if (ant_opt.quarantine)
        ant_opt.cache = 0;
    ant_cache_setup();
    ant_arena_for_thread();
    __atomic_store_n(&init_state, 2, __ATOMIC_RELEASE);
    __atomic_store_n(&ant_ready, 1, __ATOMIC_RELEASE);
    /* Once ready: registering may call calloc. */
    if (ant_opt.leak_check)
        ant_leak_arm();
    if (ant_opt.quarantine)
        ant_quarantine_arm();
}
