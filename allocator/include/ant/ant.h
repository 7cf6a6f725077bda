/*
 * ant/ant.h: the Ant allocator's public API.
 *
 * Ant is a malloc whose every block carries metadata a debugger can read:
 * who allocated it (site, serial), how much was asked for, and sentinels
 * that prove corruption. The functions here do not replace malloc; link
 * libantmalloc (or LD_PRELOAD it) for that.
 */
#ifndef ANT_ANT_H
#define ANT_ANT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ANT_VERSION_STRING "0.1.0"

/* Allocation: the same contracts as the C library's functions. */
void *ant_malloc(size_t size);
void *ant_calloc(size_t count, size_t size);
void *ant_realloc(void *mem, size_t size);
void ant_free(void *mem);
/* Any power-of-two alignment from 8 up; size need not be a multiple of it. */
void *ant_aligned_alloc(size_t alignment, size_t size);
/* The requested size of a live block: writing past it is an overflow. */
size_t ant_usable_size(const void *mem);

/* What the whole heap holds, summed over arenas. */
typedef struct ant_stats {
    size_t requested_bytes;  /* sum of the requested sizes of used blocks */
    size_t used_bytes;       /* sum of the block sizes of used blocks */
    size_t free_bytes;       /* sum of the block sizes of free blocks */
    size_t wilderness_bytes; /* untouched tails of the regions */
    size_t mapped_bytes;     /* everything mapped from the OS */
    size_t used_blocks;
    size_t free_blocks;
    size_t largest_free;  /* the largest free block, in bytes */
    size_t regions;       /* heap regions (big blocks not counted) */
    size_t big_blocks;    /* blocks with a mapping of their own */
    size_t allocations;   /* successful allocations, ever; a realloc */
    size_t frees;         /* counts as one allocation and one free */
    size_t cached_blocks; /* freed blocks kept in thread caches and depots: free to */
    size_t cached_bytes;  /* the program, not yet to the heap */
} ant_stats_t;

void ant_stats(ant_stats_t *stats);

/* Block states as ant_walk reports them; QUARANTINED: freed, held back
 * from reuse by ANT_OPTIONS=quarantine. */
typedef enum ant_block_state {
    ANT_BLOCK_USED = 1,
    ANT_BLOCK_FREE = 2,
    ANT_BLOCK_CACHED = 3,
    ANT_BLOCK_QUARANTINED = 4
} ant_block_state_t;

typedef struct ant_block_info {
    void *mem;
    size_t size;      /* block size, node included */
    size_t requested; /* 0 for a free or cached block */
    ant_block_state_t state;
    uint64_t serial; /* for a free or cached block: its last owner's */
    void *site;      /* the allocating caller's return address */
    int big;         /* nonzero for a block with a mapping of its own */
    unsigned arena;  /* the arena it belongs to */
} ant_block_info_t;

/*
 * Calls fn for every block in address order, region by region, then the big
 * blocks. The heap is locked during the walk: fn must not allocate with Ant.
 * Stops early and returns fn's value when it returns nonzero; else 0.
 */
typedef int (*ant_walker_t)(const ant_block_info_t *block, void *arg);
int ant_walk(ant_walker_t fn, void *arg);

/*
 * Checks every invariant of <ant/layout.h> over the whole heap and reports
 * each problem found on stderr. Returns the number of problems. Under the
 * default on_error=abort it aborts after reporting, if it found any.
 */
size_t ant_check(void);

/* What the allocator detects. The values are kept in root.last_error.kind;
 * <ant/problems.h> says what each means, and with which invariant. */
enum ant_problem_kind {
    ANT_PROBLEM_NONE = 0,
    ANT_PROBLEM_OVERFLOW = 1,       /* a tail sentinel changed */
    ANT_PROBLEM_HEADER = 2,         /* a head sentinel does not match */
    ANT_PROBLEM_LINK = 3,           /* prev/next disagree or leave the heap */
    ANT_PROBLEM_SIZE = 4,           /* a size that cannot be */
    ANT_PROBLEM_USE_AFTER_FREE = 5, /* poison or free links changed */
    ANT_PROBLEM_ACCOUNTING = 6,     /* counters disagree with the blocks */
    ANT_PROBLEM_DOUBLE_FREE = 7,    /* free of a block that is free */
    ANT_PROBLEM_INVALID_FREE = 8,   /* free or realloc of a pointer that is not a block */
    ANT_PROBLEM_COALESCE = 9,       /* two free neighbours */
    ANT_PROBLEM_STATE = 10,         /* a state or flag word that cannot be */
    ANT_PROBLEM_UNREADABLE = 11,    /* memory the layout names cannot be read */
    ANT_PROBLEM_UNDERFLOW = 12      /* an access before a guarded block reached its guard page */
};

/* The problem kind's name as reports and the debugger print it. */
const char *ant_problem_name(int kind);

/* Fit policies, chosen with ANT_OPTIONS=fit=NAME. */
enum ant_fit { ANT_FIT_FIRST = 0, ANT_FIT_NEXT = 1, ANT_FIT_BEST = 2, ANT_FIT_BINNED = 3, ANT_FIT_WORST = 4 };

/* The fit policy in force: ANT_OPTIONS's choice, or binned. */
enum ant_fit ant_fit_policy(void);

#ifdef __cplusplus
}
#endif

#endif
