/*
 * leak.h: what the files of the leak check share. leak.c finds the leaks
 * (the used blocks, the marking, the groups by kind and site, the check at
 * exit); leak_stop.c holds the other threads still and reads their
 * registers; leak_roots.c reads the mappings that are roots;
 * leak_report.c orders the groups for report.c to print; leak_sort.c
 * sorts without allocating.
 */
#ifndef ANT_LEAK_H
#define ANT_LEAK_H

#include "internal.h"

#include <ucontext.h>

/* [low, high) */
struct ant_leak_range {
    uintptr_t low, high;
};

/* Ranges of addresses that are not roots: the heap, the allocator's own
 * state, the check's own memory. */
struct ant_leak_ranges {
    struct ant_leak_range *at;
    size_t count, capacity;
};

static inline void ant_leak_skip(struct ant_leak_ranges *r, const void *low, size_t bytes)
{
    if (r->count < r->capacity)
        r->at[r->count++] = (struct ant_leak_range){(uintptr_t)low, (uintptr_t)low + bytes};
}

/* Sorts the ranges by address and merges those that touch. */
ANT_HIDDEN void ant_leak_merge(struct ant_leak_ranges *r);

/* Sorts n elements of `size` bytes at base: qsort may call malloc. */
ANT_HIDDEN void ant_leak_sort(void *base, size_t n, size_t size, int (*less)(const void *a, const void *b));

/* ---- Threads (leak_stop.c) ---- */

/* What a thread's registers held where it stopped (the general ones, and
 * on x86-64 the xmm ones), and its stack pointer. */
#define ANT_LEAK_REGS 64u
struct ant_leak_regs {
    uint64_t words[ANT_LEAK_REGS];
    uintptr_t sp;
};

ANT_HIDDEN void ant_leak_regs_of(const ucontext_t *context, struct ant_leak_regs *out);

/* One other thread of the process; its state is leak_stop.c's. */
struct ant_leak_thread {
    int tid;
    int state;
    struct ant_leak_regs regs;
};

struct ant_leak_world {
    struct ant_leak_thread *threads;
    unsigned count;
    unsigned unstopped;            /* threads that did not stop: they block the signal, or hang */
    int signal;                    /* the signal that stops them; 0 if none was free */
    struct ant_leak_range records; /* the mapping threads[] lives in */
};

/* Stops every other thread of the process, each with its registers saved
 * in world->threads; a thread that does not stop within a few seconds
 * runs on, counted in world->unstopped. */
ANT_HIDDEN void ant_leak_stop(struct ant_leak_world *world);
ANT_HIDDEN void ant_leak_resume(struct ant_leak_world *world);
ANT_HIDDEN bool ant_leak_stopped(const struct ant_leak_thread *thread);

/* ---- Roots (leak_roots.c) ---- */

typedef void ant_leak_words_fn(void *arg, const uint64_t *words, size_t count);

/*
 * Hands `fn` every word of every writable mapping of the process but the
 * ranges in `skip`, a buffer of `buffer_bytes` at a time; in a stack that
 * holds one of the stack pointers `sps`, only the words from it up. False
 * if the mappings cannot be listed: then nothing is a known root.
 */
ANT_HIDDEN bool ant_leak_roots(struct ant_leak_ranges *skip, const uintptr_t *sps, size_t sp_count, uint64_t *buffer,
                               size_t buffer_bytes, ant_leak_words_fn *fn, void *arg);

/* ---- The report (leak_report.c) ---- */

/* What a check found, for its report. */
struct ant_leak_found {
    struct ant_leak_group *leaks; /* by kind and site */
    size_t count;
    int status; /* the exit status the program gave */
};

/* Prints the report of a check of `checked` used blocks; returns the
 * number of definite leaks (blocks). */
ANT_HIDDEN size_t ant_leak_report(struct ant_leak_found *found, size_t checked);

/* The exit status of a process that ends with definite leaks, as
 * LeakSanitizer's. */
#define ANT_LEAK_EXIT_STATUS 23

#endif
