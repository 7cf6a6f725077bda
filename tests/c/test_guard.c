/*
 * test_guard.c: bugs caught at the access. Under guard=1 every allocation
 * but a thread's first is guarded; each scenario provokes one bug in a
 * child, and the parent checks the report line (kind, access, offset, the
 * block, its sites), root.last_error, and that the child died of SIGABRT.
 * A program's own SIGSEGV handler, installed before or after Ant's, must
 * still get its own faults.
 */
#include "blocks.h"
#include "check.h"
#include "detect.h"
#include "root.h"

#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static const struct ant_kept *kept_of(const void *mem)
{
    for (unsigned i = 0; i < root()->kept_slots; i++)
        if (root()->kept[i].state && root()->kept[i].mem == (uint64_t)(uintptr_t)mem)
            return &root()->kept[i];
    return 0;
}

/* A guarded block of n bytes whose guard page lies on `side`. */
static char *guarded(size_t n, uint32_t side)
{
    for (int tries = 0; tries < 8; tries++) {
        char *p = ant_malloc(n);
        const struct ant_kept *k = kept_of(p);
        if (k && k->state == ANT_KEPT_GUARDED && k->guard == side)
            return p;
    }
    child_say("no guarded block on side %u\n", side);
    exit(1);
}

static void overflow(void)
{
    char *p = guarded(24, ANT_GUARD_AFTER);
    detect_expect_used(p);
    size_t page = (size_t)getpagesize();
    size_t past = page - ((uintptr_t)p + 24) % page;
    child_say("expect: ant: overflow: write at byte %zu of guarded block\n", 24 + past);
    child_say("expect: %zu bytes past its end, in the guard page after it\n", past);
    p[24 + past] = 1;
}

static void underflow(void)
{
    char *p = guarded(100, ANT_GUARD_BEFORE);
    detect_expect_used(p);
    child_say("expect: ant: underflow: read at byte -40 of guarded block\n");
    child_say("expect: in the guard page before it\n");
    volatile char c = p[-40];
    (void)c;
}

static void read_after_free(void)
{
    char *p = guarded(48, ANT_GUARD_AFTER);
    detect_expect_used(p);
    ant_free(p);
    child_say("expect: ant: use-after-free: read at byte 8 of freed guarded block\n");
    child_say("expect: , freed at 0x\n");
    volatile char c = p[8];
    (void)c;
}

static void big_write_after_free(void)
{
    char *b = ant_malloc(1 << 20);
    detect_expect_used(b);
    ant_free(b);
    child_say("expect: ant: use-after-free: write at byte 100 of freed big block\n");
    b[100] = 1;
}

static void big_double_free(void)
{
    char *b = ant_malloc(1 << 20);
    detect_expect_used(b);
    ant_free(b);
    child_say("expect: ant: double-free: free of freed big block 0x%" PRIxPTR "\n", (uintptr_t)b);
    child_say("expect: , freed at 0x\n");
    ant_free(b);
}

/* The program's own faults: a page of its own it makes PROT_NONE, whose
 * handler opens it and counts. */
static volatile sig_atomic_t handled;
static char *own_page;

static void own_handler(int signal, siginfo_t *info, void *context)
{
    (void)signal;
    (void)context;
    if ((char *)info->si_addr < own_page || (char *)info->si_addr >= own_page + getpagesize())
        _exit(3);
    handled++;
    mprotect(own_page, (size_t)getpagesize(), PROT_READ | PROT_WRITE);
}

static void install_own(void)
{
    struct sigaction sa = {.sa_sigaction = own_handler, .sa_flags = SA_SIGINFO};
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGSEGV, &sa, 0) == 0);
}

static void own_fault(void)
{
    CHECK(mprotect(own_page, (size_t)getpagesize(), PROT_NONE) == 0);
    own_page[5] = 1;
}

static void own_handler_and_guard(int installed_after)
{
    own_page = mmap(0, (size_t)getpagesize(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(own_page != MAP_FAILED);
    if (!installed_after)
        install_own();
    char *p = guarded(24, ANT_GUARD_AFTER);
    if (installed_after)
        install_own();
    own_fault();
    /* The next guarded allocation installs Ant's handler over the
     * program's again, and passes the program's faults on to it. */
    char *q = guarded(24, ANT_GUARD_AFTER);
    own_fault();
    child_say("handled %d\n", (int)handled);
    (void)p;
    detect_expect_used(q);
    size_t page = (size_t)getpagesize();
    size_t to_guard = page - (uintptr_t)q % page;
    child_say("expect: ant: overflow: write at byte %zu of guarded block\n", to_guard);
    q[to_guard] = 1;
}

static void own_handler_after(void)
{
    own_handler_and_guard(1);
}

static void own_handler_before(void)
{
    own_handler_and_guard(0);
}

static void off(void)
{
    for (int i = 0; i < 1000; i++)
        ant_malloc(24);
    for (unsigned i = 0; i < root()->kept_slots; i++)
        CHECK(root()->kept[i].state != ANT_KEPT_GUARDED);
    child_say("none guarded\n");
}

static const struct child_scenario scenarios[] = {
    {"overflow", overflow},
    {"underflow", underflow},
    {"read_after_free", read_after_free},
    {"big_write_after_free", big_write_after_free},
    {"big_double_free", big_double_free},
    {"own_handler_after", own_handler_after},
    {"own_handler_before", own_handler_before},
    {"off", off},
    {0, 0},
};

static const char *line_of(const char *text, const char *prefix, char *out, size_t cap)
{
    const char *at = strstr(text, prefix);
    if (!at)
        return 0;
    size_t n = strcspn(at, "\n");
    if (n >= cap)
        n = cap - 1;
    memcpy(out, at, n);
    out[n] = 0;
    return out;
}

/* The child died of SIGABRT after one report of `kind`, which holds every
 * expected fact, and root.last_error says the same. */
static void check_caught(const char *scenario, const char *options, const char *kind, const char *more)
{
    struct child_result r;
    child_run(scenario, options, &r);
    char report[1024], want[64], line[1024], error[256];
    snprintf(want, sizeof want, "ant: %s: ", kind);
    int ok = !r.exited && r.signal == SIGABRT &&
             child_count_lines(r.err, "ant: ") - child_count_lines(r.err, "ant:   ") == 1 &&
             line_of(r.err, "ant: ", report, sizeof report) && strncmp(report, want, strlen(want)) == 0 &&
             (!more || strstr(r.out, more));
    for (const char *at = r.out; ok && (at = strstr(at, "expect: ")); at += strlen("expect: ")) {
        line_of(at, "expect: ", line, sizeof line);
        ok = strstr(report, line + strlen("expect: ")) != 0;
    }
    unsigned long long mem = 0;
    char last_kind[64];
    ok = ok && line_of(r.out, "last_error: ", error, sizeof error) &&
         sscanf(error, "last_error: kind=%63s mem=0x%llx", last_kind, &mem) == 2 && strcmp(last_kind, kind) == 0 &&
         line_of(r.out, "last_message: ", line, sizeof line) && strcmp(line + strlen("last_message: "), report) == 0;
    snprintf(want, sizeof want, " 0x%llx ", mem);
    ok = ok && strstr(report, want);
    if (!ok) {
        fprintf(stderr, "scenario '%s': not caught as expected\n", scenario);
        child_show(scenario, options, &r);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    detect_enter(argc, argv, scenarios);
    check_caught("overflow", "guard=1", "overflow", 0);
    check_caught("underflow", "guard=1", "underflow", 0);
    check_caught("read_after_free", "guard=1", "use-after-free", 0);
    check_caught("big_write_after_free", "guard=0", "use-after-free", 0);
    check_caught("big_double_free", "guard=0", "double-free", 0);
    check_caught("own_handler_after", "guard=1", "overflow", "handled 2\n");
    check_caught("own_handler_before", "guard=1", "overflow", "handled 2\n");
    struct child_result r;
    child_run("off", "guard=0", &r);
    CHECK(r.exited && r.status == 0 && strstr(r.out, "none guarded\n"));
    return 0;
}
