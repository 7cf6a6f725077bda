/*
 * detect.h: a detection as the child provokes it and as the parent checks
 * it.
 *
 * The child names, before it does damage, the facts the report must give:
 * each detect_expect_*() prints a line "expect: TEXT" on stdout, and TEXT
 * must appear in the report on stderr. When the allocator aborts, a SIGABRT
 * handler prints what root.last_error holds (what a core would show); when
 * it reports and goes on, the same is printed at exit.
 *
 * The parent runs each scenario twice: with the default on_error=abort it
 * must die of SIGABRT after exactly the expected number of reports; with
 * on_error=report it must exit 0 after the same first report. Each time the
 * last report must equal root.last_error.message, and last_error's kind,
 * mem and count must agree with it.
 */
#ifndef ANT_TEST_DETECT_H
#define ANT_TEST_DETECT_H

#include "child.h"

#include <stddef.h>

/* In the child. */
void detect_enter(int argc, char **argv, const struct child_scenario *table);
void detect_expect_used(const void *mem);
void detect_expect_free(const void *mem);
/* A block of n bytes between two others, freed, and named as expected;
 * under the default options it waits in the thread's cache, with a
 * quarantine in the quarantine. */
char *detect_freed(size_t n);
void detect_expect_culprit(const void *mem);
void detect_expect_address(const void *address);

/* In the parent. */
struct detection {
    const char *scenario;
    const char *options; /* ANT_OPTIONS besides on_error, or 0 */
    const char *kind;    /* the kind the first report names */
    size_t reports;      /* reports made before the abort */
    const char *what;    /* words the first report must contain */
};

void detect_check(const struct detection *d);

#endif
