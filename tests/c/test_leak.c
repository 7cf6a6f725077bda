/*
 * test_leak.c: ANT_OPTIONS=leak_check=1, the leak report at exit.
 *
 * Each scenario runs in a child that plants blocks and ends. Blocks meant
 * to be reachable sit behind each kind of root: a global, the stack of the
 * thread that exits, a register of a thread spinning in assembly (every
 * other register cleared), thread-local storage, another thread's stack,
 * an mmap'd page, and another reachable block; beside them, freed blocks
 * in the thread cache and the depot. Leaks of each kind come from their
 * own functions, so each has a site of its own. The child writes to stdout
 * the report lines it expects ("expect: ..."), from what it knows of its
 * blocks (serial, site, requested bytes); the parent compares them with
 * the child's stderr, line for line, and checks the exit status.
 *
 * A pointer the program dropped may live on in a dead stack frame or a
 * scratch register, and a conservative check rightly counts it: so after
 * making leaks a child clears the stack below it (scrub) and keeps no
 * leaked address anywhere, and every line expected must be there.
 */
#include "blocks.h"
#include "check.h"
#include "child.h"

#include <ant/ant.h>
#include <dlfcn.h>
#include <inttypes.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Not an address of the heap once XORed in: a pointer hidden this way is
 * no root. */
#define HIDE 0x5a5a5a5a5a5a5a5aull

/* ---- what a child expects ---- */

/* "0x55d2c1a3b1c9 (test_leak+0x11c9, leak_pair+0x19)", as the report names
 * a site of an exported function. */
static void site_text(char *out, size_t capacity, void *site)
{
    Dl_info info;
    struct link_map *map = 0;
    CHECK(dladdr1(site, &info, (void **)&map, RTLD_DL_LINKMAP) && info.dli_fname && info.dli_sname);
    const char *name = strrchr(info.dli_fname, '/');
    snprintf(out, capacity, "%#" PRIxPTR " (%s+%#" PRIxPTR ", %s+%#" PRIxPTR ")", (uintptr_t)site,
             name ? name + 1 : info.dli_fname, (uintptr_t)site - (uintptr_t)map->l_addr, info.dli_sname,
             (uintptr_t)site - (uintptr_t)info.dli_saddr);
}

/* Leaked blocks of one kind and site, as the report groups them. */
struct group {
    const char *kind;
    void *site;
    uint64_t blocks, bytes, first, last;
};

static void add_block(struct group *g, const char *kind, const void *mem)
{
    ant_block_info_t b = block_at(mem);
    CHECK_EQ(b.state, ANT_BLOCK_USED);
    if (!g->blocks || b.serial < g->first)
        g->first = b.serial;
    if (!g->blocks || b.serial > g->last)
        g->last = b.serial;
    g->kind = kind;
    g->site = b.site;
    g->blocks++;
    g->bytes += b.requested;
}

static void expect_group(const struct group *g)
{
    char site[256];
    site_text(site, sizeof site, g->site);
    child_say("expect: ant: leak: %s: %" PRIu64 " block%s, %" PRIu64 " bytes, allocated at %s, serial", g->kind,
              g->blocks, g->blocks == 1 ? "" : "s", g->bytes, site);
    if (g->blocks == 1)
        child_say(" %" PRIu64 "\n", g->first);
    else
        child_say("s %" PRIu64 " to %" PRIu64 "\n", g->first, g->last);
}

static int count_used(const ant_block_info_t *b, void *arg)
{
    *(size_t *)arg += b->state == ANT_BLOCK_USED;
    return 0;
}

static size_t used_blocks(void)
{
    size_t n = 0;
    ant_walk(count_used, &n);
    return n;
}

/* The last line: the counts of each kind, and "" or "; exit status 23". */
static void expect_total(uint64_t definite, uint64_t definite_bytes, uint64_t indirect, uint64_t indirect_bytes,
                         uint64_t possible, uint64_t possible_bytes, const char *status)
{
    child_say("expect: ant: leak check: %" PRIu64 " of %zu used blocks leaked: %" PRIu64 " definite (%" PRIu64
              " bytes), %" PRIu64 " indirect (%" PRIu64 " bytes), %" PRIu64 " possible (%" PRIu64 " bytes)%s\n",
              definite + indirect + possible, used_blocks(), definite, definite_bytes, indirect, indirect_bytes,
              possible, possible_bytes, status);
}

/* Clears the dead frames below the caller, where addresses it dropped may
 * still lie. */
static __attribute__((noinline)) void scrub(void)
{
    volatile char pad[64 << 10];
    for (size_t i = 0; i < sizeof pad; i++)
        pad[i] = 0;
}

static void *must(void *mem)
{
    CHECK(mem != 0);
    return mem;
}

/* ---- leaks, each from a function of its own ---- */

/* Exported, so that the report names them as it names a program's
 * functions. */
void leak_pair(void);
void leak_big(void);
void leak_possible(void);
void leak_in_worker(void);
void leak_in_fork_child(void);

static struct group definite_pair, definite_big, indirect_one, possible_head, possible_tail;
/* The only pointers to the possible leaks: into the first one's interior.
 * The roots are volatile: a static only ever stored to is a dead store
 * an optimizing compiler drops, and then nothing holds the block. */
static char *volatile interior;

/* Two blocks of 201 bytes, the first holding the only pointer to a block
 * of 202: two definite leaks and an indirect one. The two come from one
 * call site, a loop the compiler must not unroll into two: the report
 * groups blocks by site, and so does this test. */
static volatile int pair_count = 2;

__attribute__((noinline)) void leak_pair(void)
{
    void **pair[2];
    for (int i = 0; i < pair_count && i < 2; i++) {
        pair[i] = must(ant_malloc(201));
        pair[i][0] = 0;
        add_block(&definite_pair, "definite", pair[i]);
    }
    void *c = must(ant_malloc(202));
    pair[0][0] = c;
    add_block(&indirect_one, "indirect", c);
}

__attribute__((noinline)) void leak_big(void)
{
    void *p = must(ant_malloc(300000));
    add_block(&definite_big, "definite", p);
}

/* A block of 204 bytes known only by a pointer 16 bytes into it, whose
 * first word is the start of a block of 205: both possible. */
__attribute__((noinline)) void leak_possible(void)
{
    void **head = must(ant_malloc(204));
    void *tail = must(ant_malloc(205));
    head[0] = tail;
    interior = (char *)head + 16;
    add_block(&possible_head, "possible", head);
    add_block(&possible_tail, "possible", tail);
}

/* ---- reachable blocks, behind each kind of root ---- */

static void *volatile global_root;
static void **volatile chain_root;
static void *volatile big_root;
static void **volatile mapped_root;
static __thread void *volatile tls_root;
static volatile uintptr_t hidden_root;
static const uint64_t hide = HIDE;
static atomic_int threads_ready;

/* Spins forever with the block in a register alone: every other general
 * and vector register it may touch is cleared, its stack scrubbed. */
static void *register_holder(void *unused)
{
    (void)unused;
    hidden_root = (uintptr_t)must(ant_malloc(103)) ^ HIDE;
    scrub();
#if defined(__x86_64__)
    __asm__ volatile("mov %0, %%r12\n\t"
                     "xor %1, %%r12\n\t"
                     "xor %%eax, %%eax\n\txor %%ecx, %%ecx\n\txor %%edx, %%edx\n\txor %%esi, %%esi\n\t"
                     "xor %%edi, %%edi\n\txor %%r8d, %%r8d\n\txor %%r9d, %%r9d\n\txor %%r10d, %%r10d\n\t"
                     "xor %%r11d, %%r11d\n\txor %%ebx, %%ebx\n\txor %%r13d, %%r13d\n\txor %%r14d, %%r14d\n\t"
                     "xor %%r15d, %%r15d\n\t"
                     "pxor %%xmm0, %%xmm0\n\tpxor %%xmm1, %%xmm1\n\tpxor %%xmm2, %%xmm2\n\tpxor %%xmm3, %%xmm3\n\t"
                     "pxor %%xmm4, %%xmm4\n\tpxor %%xmm5, %%xmm5\n\tpxor %%xmm6, %%xmm6\n\tpxor %%xmm7, %%xmm7\n\t"
                     "pxor %%xmm8, %%xmm8\n\tpxor %%xmm9, %%xmm9\n\tpxor %%xmm10, %%xmm10\n\tpxor %%xmm11, %%xmm11\n\t"
                     "pxor %%xmm12, %%xmm12\n\tpxor %%xmm13, %%xmm13\n\tpxor %%xmm14, %%xmm14\n\t"
                     "pxor %%xmm15, %%xmm15\n\t"
                     "lock incl %2\n"
                     "1:\tpause\n\tjmp 1b"
                     :
                     : "m"(hidden_root), "m"(hide), "m"(threads_ready)
                     : "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
                       "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
                       "xmm12", "xmm13", "xmm14", "xmm15", "memory");
#elif defined(__aarch64__)
    __asm__ volatile("ldr x19, %0\n\t"
                     "ldr x20, %1\n\t"
                     "eor x19, x19, x20\n\t"
                     "mov x0, #0\n\tmov x1, #0\n\tmov x2, #0\n\tmov x3, #0\n\tmov x4, #0\n\tmov x5, #0\n\t"
                     "mov x6, #0\n\tmov x7, #0\n\tmov x8, #0\n\tmov x9, #0\n\tmov x10, #0\n\tmov x11, #0\n\t"
                     "mov x12, #0\n\tmov x13, #0\n\tmov x14, #0\n\tmov x15, #0\n\tmov x16, #0\n\tmov x17, #0\n\t"
                     "movi v0.16b, #0\n\tmovi v1.16b, #0\n\tmovi v2.16b, #0\n\tmovi v3.16b, #0\n\t"
                     "2:\tldaxr w20, %2\n\tadd w20, w20, #1\n\tstlxr w21, w20, %2\n\tcbnz w21, 2b\n"
                     "1:\tyield\n\tb 1b"
                     :
                     : "m"(hidden_root), "m"(hide), "Q"(threads_ready)
                     : "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14",
                       "x15", "x16", "x17", "x19", "x20", "x21", "v0", "v1", "v2", "v3", "memory");
#else
#error "the register root is planted for x86-64 and AArch64"
#endif
    return 0;
}

/* Waits forever with the block in a local of its stack. */
static void *stack_holder(void *unused)
{
    (void)unused;
    void *volatile mine = must(ant_malloc(104));
    atomic_fetch_add(&threads_ready, 1);
    for (;;)
        pause();
    return (void *)mine;
}

static void start(void *(*fn)(void *))
{
    pthread_t t;
    CHECK(pthread_create(&t, 0, fn, 0) == 0);
}

static void wait_ready(int threads)
{
    while (atomic_load(&threads_ready) < threads)
        sched_yield();
}

/* Blocks freed into the thread's cache and, past its bin's limit, the
 * arena's depot: free to the program, no leak. */
static void fill_caches(void)
{
    void *freed[200];
    for (int i = 0; i < 200; i++)
        freed[i] = must(ant_malloc(48));
    for (int i = 0; i < 200; i++)
        ant_free(freed[i]);
    memset(freed, 0, sizeof freed);
}

static void plant_roots(void)
{
    global_root = must(ant_malloc(101));
    chain_root = must(ant_malloc(107));
    chain_root[0] = must(ant_malloc(108));
    big_root = must(ant_malloc(400000));
    tls_root = must(ant_malloc(105));
    mapped_root = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(mapped_root != MAP_FAILED);
    mapped_root[100] = must(ant_malloc(106));
    start(register_holder);
    start(stack_holder);
    fill_caches();
    wait_ready(2);
}

static void plant_leaks(void)
{
    leak_pair();
    leak_big();
    leak_possible();
    scrub();
}

static void expect_leaks(const char *status)
{
    expect_group(&definite_big);
    expect_group(&definite_pair);
    expect_group(&indirect_one);
    expect_group(&possible_tail);
    expect_group(&possible_head);
    expect_total(3, 300402, 1, 202, 2, 409, status);
    scrub();
}

/* Every root, every kind of leak; exit(0) becomes 23. */
static void roots(void)
{
    void *volatile on_stack = must(ant_malloc(102));
    plant_roots();
    plant_leaks();
    expect_leaks("; exit status 23");
    exit(0);
    (void)on_stack;
}

/* The same leaks, and the program's own status stays. */
static void own_status(void)
{
    void *volatile on_stack = must(ant_malloc(102));
    plant_roots();
    plant_leaks();
    expect_leaks("");
    exit(3);
    (void)on_stack;
}

/* ---- threads at work while the check stops them ---- */

#define WORKERS 4
#define WORKER_LEAKS 3

static struct group worker_leaks;
static pthread_mutex_t worker_lock = PTHREAD_MUTEX_INITIALIZER;

__attribute__((noinline)) void leak_in_worker(void)
{
    void *p = must(ant_malloc(301));
    pthread_mutex_lock(&worker_lock);
    add_block(&worker_leaks, "definite", p);
    pthread_mutex_unlock(&worker_lock);
}

/* Allocates, reallocates and frees without end, through the cache, the
 * depot and the arena, every live block in a local array or a register:
 * a block in flight at the stop is never a leak. */
static void *worker(void *leak)
{
    for (int i = 0; leak && i < WORKER_LEAKS; i++)
        leak_in_worker();
    scrub();
    void *live[64] = {0};
    unsigned seed = (unsigned)(uintptr_t)&seed;
    atomic_fetch_add(&threads_ready, 1);
    for (unsigned i = 0;; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned k = (seed >> 8) % 64;
        size_t size = 16 + (seed >> 16) % 1200;
        if (!live[k])
            live[k] = must(ant_malloc(size));
        else if (i % 3 == 0)
            live[k] = must(ant_realloc(live[k], size));
        else {
            ant_free(live[k]);
            live[k] = 0;
        }
    }
    return 0;
}

static void start_workers(void *leak)
{
    for (int i = 0; i < WORKERS; i++) {
        pthread_t t;
        CHECK(pthread_create(&t, 0, worker, leak) == 0);
    }
    wait_ready(WORKERS);
    /* Let them fill their caches and the depots. */
    struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, 0);
}

static void threaded(void)
{
    start_workers((void *)1);
    expect_group(&worker_leaks);
    child_say("expect-prefix: ant: leak check: %d of \n", WORKERS * WORKER_LEAKS);
    child_say("expect-suffix: used blocks leaked: %d definite (%d bytes), 0 indirect (0 bytes), 0 possible (0 "
              "bytes); exit status 23\n",
              WORKERS * WORKER_LEAKS, WORKERS * WORKER_LEAKS * 301);
    exit(0);
}

/* No leak: nothing is printed and the status stays 0. */
static void clean(void)
{
    void *volatile on_stack = must(ant_malloc(102));
    plant_roots();
    start_workers(0);
    exit(0);
    (void)on_stack;
}

/* ---- a thread that blocks the signal ---- */

static void *blocking(void *unused)
{
    (void)unused;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, 0);
    atomic_fetch_add(&threads_ready, 1);
    for (;;)
        pause();
    return 0;
}

/* The check waits a bounded time, then judges nothing: a leak is not
 * reported and the status stays 0. */
static void blocked(void)
{
    start(blocking);
    wait_ready(1);
    leak_pair();
    scrub();
    exit(0);
}

/* ---- fork, _exit, and a return from main ---- */

__attribute__((noinline)) void leak_in_fork_child(void)
{
    void *p = must(ant_malloc(401));
    struct group g = {0};
    add_block(&g, "definite", p);
    expect_group(&g);
}

/* A fork child checks its own heap when it calls exit(); one that calls
 * _exit() is not checked. The parent leaks nothing. */
static void forked(void)
{
    void *volatile on_stack = must(ant_malloc(102));
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        leak_in_fork_child();
        scrub();
        expect_total(1, 401, 0, 0, 0, 0, "; exit status 23");
        scrub();
        exit(0);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK_EQ(WEXITSTATUS(status), 23);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        ant_malloc(402);
        _exit(0);
    }
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK_EQ(WEXITSTATUS(status), 0);
    exit(0);
    (void)on_stack;
}

/* Run by main itself, which then returns 0. */
static void from_main(void)
{
    leak_pair();
    scrub();
    expect_group(&definite_pair);
    expect_group(&indirect_one);
    expect_total(2, 402, 1, 202, 0, 0, "; exit status 23");
    scrub();
}

/* ---- exit from another thread, and a damaged heap ---- */

static void *exit_now(void *unused)
{
    (void)unused;
    exit(0);
}

/* The thread that exits is not the main one, whose stack holds a block
 * while it waits. */
static void exit_in_thread(void)
{
    void *volatile on_stack = must(ant_malloc(102));
    leak_pair();
    scrub();
    expect_group(&definite_pair);
    expect_group(&indirect_one);
    expect_total(2, 402, 1, 202, 0, 0, "; exit status 23");
    scrub();
    start(exit_now);
    for (;;)
        pause();
    (void)on_stack;
}

/* A node overwritten: past it nothing is known, so nothing is judged. */
static void damaged(void)
{
    leak_pair();
    unsigned char *p = must(ant_malloc(40));
    p[-1] ^= 0xff;
    scrub();
    child_say("expect: ant: leak check: not done: the heap is damaged (ANT_OPTIONS=on_error=report and "
              "ant_check() say where)\n");
    exit(0);
}

/* ---- the parent ---- */

static const struct child_scenario scenarios[] = {
    {"roots", roots},         {"own_status", own_status},
    {"threaded", threaded},   {"clean", clean},
    {"blocked", blocked},     {"forked", forked},
    {"from_main", from_main}, {"exit_in_thread", exit_in_thread},
    {"damaged", damaged},     {0, 0},
};

/* The text after `prefix` on each line of `text` that starts with it,
 * joined by newlines. */
static void lines_after(const char *text, const char *prefix, char *out, size_t capacity)
{
    size_t len = 0;
    out[0] = 0;
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        if (strncmp(line, prefix, strlen(prefix)) == 0 && len + n + 1 < capacity) {
            memcpy(out + len, line + strlen(prefix), n - strlen(prefix));
            len += n - strlen(prefix);
            out[len++] = '\n';
            out[len] = 0;
        }
        line += n + (end ? 1 : 0);
    }
}

/* Each leak line is followed by its group's call stack (stack=N is on by
 * default): "ant:   allocated at:", then "ant:     #0 " and the site the
 * line names, then its callers. False if one is not. */
static bool stacks_follow(const char *err)
{
    for (const char *line = strstr(err, "ant: leak: "); line; line = strstr(line + 1, "\nant: leak: ")) {
        line += *line == '\n';
        const char *at = strstr(line, ", allocated at ");
        const char *end = strchr(line, '\n');
        if (!at || !end || at > end)
            return false;
        at += strlen(", allocated at ");
        const char *site_end = strstr(at, "), serial");
        if (!site_end || site_end > end)
            return false;
        char want[512];
        snprintf(want, sizeof want, "\nant:   allocated at:\nant:     #0 %.*s)\nant:     #1 0x", (int)(site_end - at),
                 at);
        if (strncmp(end, want, strlen(want)) != 0)
            return false;
    }
    return true;
}

static struct child_result result;
static char wanted[16384], got[16384], reports[16384];

/* `text` without the lines of call stacks ("ant:   ..."). */
static void without_stacks(const char *text, char *out, size_t capacity)
{
    size_t len = 0;
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line + 1) : strlen(line);
        if (strncmp(line, "ant:   ", strlen("ant:   ")) != 0 && len + n < capacity) {
            memcpy(out + len, line, n);
            len += n;
        }
        line += n;
    }
    out[len] = 0;
}

static void run(const char *name, int status)
{
    child_run(name, "leak_check=1", &result);
    lines_after(result.out, "expect: ", wanted, sizeof wanted);
    without_stacks(result.err, reports, sizeof reports);
    lines_after(reports, "", got, sizeof got);
    if (!result.exited || result.status != status || strcmp(wanted, got) != 0 || !stacks_follow(result.err)) {
        child_show(name, "leak_check=1", &result);
        fprintf(stderr, "%s: expected status %d and stderr\n%s", name, status, wanted);
        exit(1);
    }
}

static void run_threaded(void)
{
    /* Its workers call from places a compiler may copy (an unrolled loop):
     * grouped by site, not by stack, the blocks are the ones it knows. */
    child_run("threaded", "leak_check=1:stack=0", &result);
    char prefix[256], suffix[256];
    lines_after(result.out, "expect: ", wanted, sizeof wanted);
    lines_after(result.out, "expect-prefix: ", prefix, sizeof prefix);
    lines_after(result.out, "expect-suffix: ", suffix, sizeof suffix);
    prefix[strlen(prefix) - 1] = 0;
    suffix[strlen(suffix) - 1] = 0;
    /* The first line exactly; the last but for the used blocks, which the
     * workers change up to the stop. */
    without_stacks(result.err, reports, sizeof reports);
    const char *total = strchr(reports, '\n');
    bool ok = result.exited && result.status == 23 && total && strcmp(reports, result.err) == 0 &&
              strncmp(reports, wanted, (size_t)(total - reports) + 1) == 0 &&
              strncmp(total + 1, prefix, strlen(prefix)) == 0 && strstr(total + 1, suffix) &&
              strlen(strstr(total + 1, suffix)) == strlen(suffix) + 1;
    if (!ok) {
        child_show("threaded", "leak_check=1:stack=0", &result);
        fprintf(stderr, "threaded: expected status 23 and stderr\n%s%s<N>%s\n", wanted, prefix, suffix);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[2], "from_main") == 0) {
        from_main();
        return 0;
    }
    child_enter(argc, argv, scenarios);
    run("roots", 23);
    run("own_status", 3);
    run("clean", 0);
    run("forked", 0);
    run("from_main", 23);
    run("exit_in_thread", 23);
    run("damaged", 0);
    for (int i = 0; i < 10; i++)
        run_threaded();

    struct timespec before, after;
    clock_gettime(CLOCK_MONOTONIC, &before);
    child_run("blocked", "leak_check=1", &result);
    clock_gettime(CLOCK_MONOTONIC, &after);
    double seconds = (double)(after.tv_sec - before.tv_sec) + (double)(after.tv_nsec - before.tv_nsec) / 1e9;
    if (!result.exited || result.status != 0 || seconds > 2.5 ||
        !strstr(result.err, "ant: leak check: not done: 1 thread did not stop (signal ") ||
        child_count_lines(result.err, "ant: ") != 1) {
        child_show("blocked", "leak_check=1", &result);
        fprintf(stderr, "blocked: expected status 0 within 2.5 s (took %.2f s) and one line saying why\n", seconds);
        return 1;
    }
    printf("leak_check: every root, every kind, threads, fork, exit and return: ok\n");
    return 0;
}
