/*
 * child.h: run one scenario of a test program in a child process.
 *
 * Options are read once, from the environment, when the allocator starts,
 * and a detection ends in abort(): both need a process of their own. A test
 * program lists its scenarios in a table and calls child_enter() first
 * thing in main(); child_run() then starts the program again with
 * "--child NAME" and the given ANT_OPTIONS, and collects what it printed
 * and how it ended.
 */
#ifndef ANT_TEST_CHILD_H
#define ANT_TEST_CHILD_H

#include <stddef.h>

struct child_scenario {
    const char *name;
    void (*run)(void);
};

struct child_result {
    int exited;      /* nonzero when the child exited rather than died */
    int status;      /* its exit status, when it exited */
    int signal;      /* the signal that ended it, when it died */
    char out[16384]; /* what it wrote to stdout, NUL-ended */
    char err[16384]; /* what it wrote to stderr, NUL-ended */
};

/* In a child: runs the scenario named on the command line and exits 0 when
 * it returns. In the parent (no "--child" argument): returns at once. */
void child_enter(int argc, char **argv, const struct child_scenario *table);

/* Runs scenario `name` in a child with ANT_OPTIONS set to `options`, or
 * unset when it is 0. */
void child_run(const char *name, const char *options, struct child_result *result);

/* Writes to stdout without buffering, so the words survive an abort. */
void child_say(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* Prints how a child ended and its output, for a failing test's log. */
void child_show(const char *name, const char *options, const struct child_result *result);

/* Lines of `text` that start with `prefix`. */
size_t child_count_lines(const char *text, const char *prefix);

#endif
