/*
 * test_break.c: ANT_OPTIONS=break_serial=N, and root.break_serial written
 * while the program runs, as a debugger's ant-break does.
 *
 * Each scenario runs in a child that says, after every allocation, which
 * serial it made and in which thread. Its SIGTRAP handler finds the block
 * of the break's serial and says what it is (its state, requested size and
 * site), checks the heap whole, then lets SIGTRAP's default action end the
 * child. The parent checks that the trap came at exactly that serial, in
 * the thread that made it, with the block whole, and not before.
 */
#include "blocks.h"
#include "check.h"
#include "child.h"
#include "root.h"

#include <ant/ant.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

/* ---- the child ---- */

static void made(const void *mem)
{
    CHECK(mem != 0);
    child_say("made %" PRIu64 " in %d\n", block_at(mem).serial, (int)gettid());
}

static void *must(void *mem)
{
    made(mem);
    return mem;
}

struct with_serial {
    uint64_t serial;
    ant_block_info_t found;
};

static int find_serial(const ant_block_info_t *b, void *arg)
{
    struct with_serial *w = arg;
    if (b->serial != w->serial || b->state != ANT_BLOCK_USED)
        return 0;
    w->found = *b;
    return 1;
}

/* The allocator raises SIGTRAP with no lock held: the walk and the check
 * may run here. */
static void on_trap(int signal)
{
    struct with_serial w = {.serial = root()->break_serial};
    CHECK(ant_walk(find_serial, &w) == 1);
    child_say("trap %" PRIu64 " in %d: %zu bytes requested, site %p\n", w.serial, (int)gettid(), w.found.requested,
              w.found.site);
    CHECK_EQ(ant_check(), 0);
    /* Blocked while this runs: the default action follows the return. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signal);
    sigprocmask(SIG_UNBLOCK, &set, 0);
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigaction(signal, &dfl, 0);
    raise(signal);
}

static void catch_traps(void)
{
    struct sigaction sa = {.sa_handler = on_trap};
    sigaction(SIGTRAP, &sa, 0);
}

static void set_break(uint64_t serial)
{
    /* As a debugger writes it: at the field table's offset, no call. */
    *(volatile uint64_t *)(void *)((char *)&ant_root + field_offset("root.break_serial")) = serial;
}

/* Blocks of 40 bytes from the arena, each kept: the cache has none. */
static void arena_path(void)
{
    catch_traps();
    for (int i = 0; i < 20; i++)
        must(ant_malloc(40));
}

/* One block freed, then taken again and again from the thread's cache. */
static void cache_path(void)
{
    catch_traps();
    for (int i = 0; i < 20; i++)
        ant_free(must(ant_malloc(40)));
}

static void big_path(void)
{
    catch_traps();
    must(ant_malloc(16));
    must(ant_malloc(16));
    must(ant_malloc(4u << 20));
    must(ant_malloc(16));
}

/* Each realloc hands out a serial of its own, moved or not. */
static void realloc_path(void)
{
    catch_traps();
    char *p = must(ant_malloc(16));
    p = must(ant_realloc(p, 4000));
    p = must(ant_realloc(p, 8));
    must(ant_realloc(p, 16));
}

static void calloc_path(void)
{
    catch_traps();
    must(ant_malloc(16));
    must(ant_calloc(3, 100));
    must(ant_calloc(3, 100));
}

static void *twenty(void *unused)
{
    (void)unused;
    for (int i = 0; i < 20; i++)
        must(ant_malloc(24));
    return 0;
}

/* The main thread takes serials 1..64, the other thread 65..128. */
static void other_thread(void)
{
    catch_traps();
    must(ant_malloc(24));
    pthread_t t;
    CHECK(pthread_create(&t, 0, twenty, 0) == 0);
    pthread_join(t, 0);
    for (int i = 0; i < 40; i++)
        must(ant_malloc(24));
}

/*
 * A thread holds a batch when the break is set on a serial inside it: the
 * other thread, which holds the next batch, passes by; the holder stops at
 * that serial when it comes to it.
 */
static pthread_mutex_t turn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_changed = PTHREAD_COND_INITIALIZER;
static int turn;

static void wait_turn(int mine)
{
    pthread_mutex_lock(&turn_lock);
    while (turn != mine)
        pthread_cond_wait(&turn_changed, &turn_lock);
    pthread_mutex_unlock(&turn_lock);
}

static void give_turn(int next)
{
    pthread_mutex_lock(&turn_lock);
    turn = next;
    pthread_cond_broadcast(&turn_changed);
    pthread_mutex_unlock(&turn_lock);
}

static void *holder(void *unused)
{
    (void)unused;
    must(ant_malloc(24));
    give_turn(1);
    wait_turn(2);
    for (int i = 0; i < 10; i++)
        must(ant_malloc(24));
    return 0;
}

static void written_in_batch(void)
{
    catch_traps();
    pthread_t t;
    CHECK(pthread_create(&t, 0, holder, 0) == 0);
    wait_turn(1);
    for (int i = 0; i < 3; i++)
        must(ant_malloc(24));
    set_break(4);
    for (int i = 0; i < 10; i++)
        must(ant_malloc(24));
    give_turn(2);
    pthread_join(t, 0);
}

/* Set past the serials made so far, in the thread's own batch. */
static void written_ahead(void)
{
    catch_traps();
    for (int i = 0; i < 5; i++)
        must(ant_malloc(24));
    set_break(9);
    for (int i = 0; i < 10; i++)
        must(ant_malloc(24));
}

static const struct child_scenario scenarios[] = {{"arena", arena_path},
                                                  {"cache", cache_path},
                                                  {"big", big_path},
                                                  {"realloc", realloc_path},
                                                  {"calloc", calloc_path},
                                                  {"other_thread", other_thread},
                                                  {"written_in_batch", written_in_batch},
                                                  {"written_ahead", written_ahead},
                                                  {0, 0}};

/* ---- the parent ---- */

static void fail(const char *name, const char *options, const struct child_result *r, const char *why)
{
    fprintf(stderr, "scenario '%s': %s\n", name, why);
    child_show(name, options, r);
    exit(1);
}

/* The thread that made `serial`, from the child's "made" lines; 0 if none. */
static int maker_of(const char *out, uint64_t serial)
{
    for (const char *line = out; (line = strstr(line, "made ")); line++) {
        uint64_t s;
        int tid;
        if (sscanf(line, "made %" SCNu64 " in %d", &s, &tid) == 2 && s == serial)
            return tid;
    }
    return 0;
}

/*
 * The child ran to `serial` and stopped there: every serial it made in the
 * trapping thread is below it, the thread made each one below it from its
 * first serial up, the trap line names the serial and the thread, with a
 * block of `requested` bytes, and the allocator said which block.
 */
static void expect_trap(const char *name, const char *options, uint64_t serial, uint64_t first, size_t requested)
{
    struct child_result r;
    child_run(name, options, &r);
    if (r.exited || r.signal != SIGTRAP)
        fail(name, options, &r, "expected death by SIGTRAP");
    uint64_t s;
    int tid;
    size_t bytes;
    const char *trap = strstr(r.out, "trap ");
    if (!trap || sscanf(trap, "trap %" SCNu64 " in %d: %zu bytes requested", &s, &tid, &bytes) != 3)
        fail(name, options, &r, "no trap line");
    if (s != serial || bytes != requested)
        fail(name, options, &r, "the trap's block is not the serial's, or not whole");
    if (maker_of(r.out, serial))
        fail(name, options, &r, "the allocation of the serial returned before the trap");
    for (uint64_t below = first; below < serial; below++)
        if (maker_of(r.out, below) != tid)
            fail(name, options, &r, "a serial below the break was not made first, by the trapping thread");
    char want[96];
    snprintf(want, sizeof want, "ant: break_serial: SIGTRAP at the allocation of block 0x");
    /* One line, then the allocation's call stack (ant:   ...). */
    if (child_count_lines(r.err, "ant: ") - child_count_lines(r.err, "ant:   ") != 1 || !strstr(r.err, want) ||
        !strstr(r.err, "ant:   allocated (serial "))
        fail(name, options, &r, "expected one line saying which block the break is at");
    snprintf(want, sizeof want, " bytes requested, serial %" PRIu64 ", allocated at ", serial);
    if (!strstr(r.err, want))
        fail(name, options, &r, "the allocator's line does not name the serial");
}

static void expect_no_trap(const char *name, const char *options, const char *warning)
{
    struct child_result r;
    child_run(name, options, &r);
    if (!r.exited || r.status != 0 || strstr(r.out, "trap "))
        fail(name, options, &r, "expected no trap and exit 0");
    if (warning ? !strstr(r.err, warning) || child_count_lines(r.err, "") != 1 : r.err[0] != 0)
        fail(name, options, &r, warning ? "expected one line about the option" : "expected nothing on stderr");
}

int main(int argc, char **argv)
{
    child_enter(argc, argv, scenarios);

    expect_trap("arena", "break_serial=5", 5, 1, 40);
    expect_trap("arena", "break_serial=1", 1, 1, 40);
    expect_trap("cache", "break_serial=7", 7, 1, 40);
    expect_trap("big", "break_serial=3", 3, 1, 4u << 20);
    expect_trap("realloc", "break_serial=3", 3, 1, 8);
    expect_trap("realloc", "break_serial=2", 2, 1, 4000);
    expect_trap("calloc", "break_serial=3", 3, 1, 300);
    /* Serial 70 is the sixth of the batch the second thread takes. */
    expect_trap("other_thread", "break_serial=70", 70, 65, 24);
    expect_trap("other_thread", "break_serial=30", 30, 1, 24);
    expect_trap("written_in_batch", 0, 4, 2, 24);
    expect_trap("written_ahead", 0, 9, 1, 24);

    expect_no_trap("arena", 0, 0);
    expect_no_trap("arena", "break_serial=0", 0);
    expect_no_trap("arena", "break_serial=1000", 0);
    expect_no_trap("arena", "break_serial=five", "'five' for break_serial is not an allocation's serial");
    return 0;
}
