/*
 * detect.c: the detection harness of detect.h.
 */
#include "detect.h"

#include "blocks.h"
#include "check.h"
#include "root.h"

#include <ant/ant.h>
#include <inttypes.h>
#include <stdbool.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

/* ---- the child ---- */

static void say_last_error(void)
{
    const struct ant_last_error *e = &root()->last_error;
    char line[ANT_ERROR_MESSAGE_SIZE + 64];
    int n = snprintf(line, sizeof line, "last_error: kind=%s mem=0x%" PRIx64 " count=%" PRIu32 "\n",
                     ant_problem_name((int)e->kind), e->mem, e->count);
    ssize_t ignored = write(STDOUT_FILENO, line, (size_t)n);
    n = snprintf(line, sizeof line, "last_message: %s\n", e->message);
    ignored = write(STDOUT_FILENO, line, (size_t)n);
    (void)ignored;
}

/* Runs inside the allocator's abort(), with the heap locked: nothing here
 * allocates. Returning lets abort() go on and end the process. */
static void on_abort(int signal)
{
    (void)signal;
    say_last_error();
}

static void on_exit_after_report(void)
{
    say_last_error();
    child_say("survived\n");
}

void detect_enter(int argc, char **argv, const struct child_scenario *table)
{
    if (argc == 3 && strcmp(argv[1], "--child") == 0) {
        signal(SIGABRT, on_abort);
        atexit(on_exit_after_report);
    }
    child_enter(argc, argv, table);
}

static ant_block_info_t block_of(const void *mem)
{
    ant_block_info_t info = block_at(mem);
    CHECK(info.state != 0);
    return info;
}

/* The words of a used block in a report, up to the site's object name. */
static void say_used(const char *prefix, const void *mem)
{
    ant_block_info_t b = block_of(mem);
    CHECK_EQ(b.state, ANT_BLOCK_USED);
    child_say("expect: %sblock 0x%" PRIxPTR " (%zu bytes requested, serial %" PRIu64 ", allocated at 0x%" PRIxPTR
              " (\n",
              prefix, (uintptr_t)mem, b.requested, b.serial, (uintptr_t)b.site);
}

void detect_expect_used(const void *mem)
{
    say_used("", mem);
}

void detect_expect_culprit(const void *mem)
{
    say_used("likely culprit: ", mem);
}

void detect_expect_free(const void *mem)
{
    ant_block_info_t b = block_of(mem);
    CHECK(b.state == ANT_BLOCK_FREE || b.state == ANT_BLOCK_CACHED || b.state == ANT_BLOCK_QUARANTINED);
    const char *state = b.state == ANT_BLOCK_FREE ? "free" : b.state == ANT_BLOCK_CACHED ? "cached" : "quarantined";
    child_say("expect: %s block 0x%" PRIxPTR " (%zu-byte block, last allocated as serial %" PRIu64 " at 0x%" PRIxPTR
              " (\n",
              state, (uintptr_t)mem, b.size, b.serial, (uintptr_t)b.site);
}

char *detect_freed(size_t n)
{
    ant_malloc(8);
    char *p = ant_malloc(n);
    ant_malloc(8);
    ant_free(p);
    detect_expect_free(p);
    return p;
}

void detect_expect_address(const void *address)
{
    child_say("expect: 0x%" PRIxPTR "\n", (uintptr_t)address);
}

/* ---- the parent ---- */

/* Copies line `index` (counting from 0) of `text` that starts with
 * `prefix`, without its newline; false if there is none. */
static int nth_line(const char *text, const char *prefix, size_t index, char *out, size_t cap)
{
    size_t len = strlen(prefix);
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        if (strncmp(line, prefix, len) == 0 && index-- == 0) {
            if (n >= cap)
                n = cap - 1;
            memcpy(out, line, n);
            out[n] = 0;
            return 1;
        }
        if (!end)
            break;
        line = end + 1;
    }
    return 0;
}

/* A report's stack lines ("ant:   allocated (serial 5) at:", then
 * "ant:     #0 ..."), which follow its line. */
#define STACK_LINE "ant:   "

/* `err` without the stack lines: the reports, a line each. */
static void reports_of(const char *err, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *line = err; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line + 1) : strlen(line);
        if (strncmp(line, STACK_LINE, strlen(STACK_LINE)) != 0 && n + len < cap) {
            memcpy(out + n, line, len);
            n += len;
        }
        line += len;
    }
    out[n] = 0;
}

static void fail(const struct detection *d, const char *options, const struct child_result *r, const char *why)
{
    fprintf(stderr, "detection '%s': %s\n", d->scenario, why);
    child_show(d->scenario, options, r);
    exit(1);
}

/* What both runs share: the first report, the expected facts, and
 * last_error agreeing with the last report. */
static void check_reports(const struct detection *d, const char *options, const struct child_result *r)
{
    char line[1024], want[128];
    static char err[sizeof r->err];
    reports_of(r->err, err, sizeof err);
    size_t reports = child_count_lines(err, "ant: ");
    if (reports == 0 || !nth_line(err, "ant: ", 0, line, sizeof line))
        fail(d, options, r, "no report");
    snprintf(want, sizeof want, "ant: %s: ", d->kind);
    if (strncmp(line, want, strlen(want)) != 0)
        fail(d, options, r, "the first report names another kind");
    if (!strstr(line, d->what))
        fail(d, options, r, "the first report lacks the expected words");
    for (size_t i = 0; nth_line(r->out, "expect: ", i, line, sizeof line); i++)
        if (!strstr(r->err, line + strlen("expect: ")))
            fail(d, options, r, "a report lacks an expected fact");

    /* With call stacks (stack=N, on unless the options say stack=0) a
     * report that names a block's allocation shows its stack. */
    bool stacks = !(options && strstr(options, "stack=0"));
    if (stacks && strstr(r->out, "allocated at 0x") &&
        (!strstr(r->err, STACK_LINE "allocated (serial ") || !strstr(r->err, STACK_LINE "  #1 0x")))
        fail(d, options, r, "a block's report lacks its allocation's call stack");
    if (!stacks && child_count_lines(r->err, STACK_LINE))
        fail(d, options, r, "a call stack shown with stack=0");

    char last[1024], message[1024], error[256];
    nth_line(err, "ant: ", reports - 1, last, sizeof last);
    if (!nth_line(r->out, "last_message: ", 0, message, sizeof message) ||
        strcmp(message + strlen("last_message: "), last) != 0)
        fail(d, options, r, "root.last_error.message is not the last report");
    if (!nth_line(r->out, "last_error: ", 0, error, sizeof error))
        fail(d, options, r, "no last_error");
    char kind[64];
    unsigned long long mem;
    unsigned count;
    if (sscanf(error, "last_error: kind=%63s mem=0x%llx count=%u", kind, &mem, &count) != 3)
        fail(d, options, r, "unreadable last_error");
    snprintf(want, sizeof want, "ant: %s: ", kind);
    if (strncmp(last, want, strlen(want)) != 0)
        fail(d, options, r, "root.last_error.kind is not the last report's kind");
    /* A problem of no one block (the counters) leaves mem 0. */
    snprintf(want, sizeof want, " 0x%llx", mem);
    if (mem != 0 && !strstr(last, want))
        fail(d, options, r, "root.last_error.mem is not named by the last report");
    if (count != reports)
        fail(d, options, r, "root.last_error.count is not the number of reports");
}

void detect_check(const struct detection *d)
{
    /* The detection's own options, else those the test runs with. */
    const char *base = d->options ? d->options : getenv("ANT_OPTIONS");
    struct child_result r;
    child_run(d->scenario, base, &r);
    if (r.exited || r.signal != SIGABRT)
        fail(d, base, &r, "expected SIGABRT");
    if (child_count_lines(r.err, "") != d->reports + child_count_lines(r.err, STACK_LINE) ||
        child_count_lines(r.err, "ant: ") != child_count_lines(r.err, ""))
        fail(d, base, &r, "expected exactly the expected number of reports and nothing else on stderr");
    check_reports(d, base, &r);

    char options[256];
    snprintf(options, sizeof options, "%s%son_error=report", base ? base : "", base && *base ? ":" : "");
    child_run(d->scenario, options, &r);
    if (!r.exited || r.status != 0 || !strstr(r.out, "survived\n"))
        fail(d, options, &r, "expected to report, go on, and exit 0");
    check_reports(d, options, &r);
}
