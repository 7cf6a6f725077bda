/*
 * report.c: the one diagnostic path. Nothing else in the library prints.
 *
 * A report is one line on stderr that starts with "ant: " and names the
 * problem's kind, the block (mem, requested size, serial, site) and what was
 * found. It is formatted into a buffer on the stack and written with one
 * write(2): reporting must not allocate, since it runs inside malloc and free
 * on a heap already known to be damaged. The same facts go to the root's
 * last-error record for a debugger reading the core after the abort.
 */
#include "internal.h"
#include "valgrind.h"

#include <ant/problems.h>

#include <dlfcn.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A stack a report names, printed after its line: what it is the stack
 * of, and the block's serial where that helps tell two apart. */
struct named_stack {
    const struct ant_stack *stack;
    const char *what;
    uint64_t serial;
};

struct line {
    char text[ANT_ERROR_MESSAGE_SIZE];
    size_t len;
    struct named_stack stacks[4];
    unsigned stack_count;
};

static void put(struct line *l, const char *s)
{
    while (*s && l->len + 1 < sizeof l->text)
        l->text[l->len++] = *s++;
    l->text[l->len] = 0;
}

static void put_unsigned(struct line *l, uint64_t v, unsigned base)
{
    char digits[24];
    size_t n = 0;
    do {
        digits[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    char s[26];
    size_t k = 0;
    if (base == 16) {
        s[k++] = '0';
        s[k++] = 'x';
    }
    while (n)
        s[k++] = digits[--n];
    s[k] = 0;
    put(l, s);
}

/* "0x401136 (prog+0x1136)": the object and offset let addr2line name the
 * line even where no debugger is at hand. The offset is from the object's
 * load bias, not its first byte: the addresses addr2line reads, in a
 * program linked at a fixed address as in a PIE or a library. With
 * `symbol`, the function too where the dynamic symbols name it:
 * "0x401136 (prog+0x1136, main+0x26)". */
static void put_address(struct line *l, uint64_t site, bool symbol)
{
    put_unsigned(l, site, 16);
    Dl_info info;
    struct link_map *map = 0;
    if (site && dladdr1((void *)(uintptr_t)site, &info, (void **)&map, RTLD_DL_LINKMAP) && info.dli_fname) {
        const char *name = strrchr(info.dli_fname, '/');
        put(l, " (");
        put(l, name ? name + 1 : info.dli_fname);
        put(l, "+");
        put_unsigned(l, site - (map ? (uint64_t)map->l_addr : (uint64_t)(uintptr_t)info.dli_fbase), 16);
        if (symbol && info.dli_sname && info.dli_saddr) {
            put(l, ", ");
            put(l, info.dli_sname);
            put(l, "+");
            put_unsigned(l, site - (uint64_t)(uintptr_t)info.dli_saddr, 16);
        }
        put(l, ")");
    }
}

/* A site that is a stack (stack=N) shows its first frame here, and the
 * whole stack on lines of its own after the report's line. */
static void put_site_as(struct line *l, uint64_t site, bool symbol, const char *what, uint64_t serial)
{
    const struct ant_stack *stack = ant_stack_of(site);
    put_address(l, ant_site_address(site), symbol);
    if (!stack || stack->depth < 2 || l->stack_count == sizeof l->stacks / sizeof l->stacks[0])
        return;
    for (unsigned i = 0; i < l->stack_count; i++)
        if (l->stacks[i].stack == stack && l->stacks[i].what == what && l->stacks[i].serial == serial)
            return;
    l->stacks[l->stack_count++] = (struct named_stack){stack, what, serial};
}

static void put_site(struct line *l, uint64_t site, const char *what, uint64_t serial)
{
    put_site_as(l, site, false, what, serial);
}

/* A report may name a damaged node: only a sound one leads to its big
 * mapping's header. */
static uint64_t requested_of(const ant_node_t *node)
{
    uint64_t w3 = node->w[3];
    return w3 == ant_sealed(node, (uint32_t)w3) ? ant_requested_of(node) : node->requested;
}

static void put_block(struct line *l, const ant_node_t *node)
{
    if (ant_is_free(node) || node->state == ANT_STATE_CACHED || node->state == ANT_STATE_QUARANTINED) {
        put(l, ant_is_free(node)                 ? "free block "
               : node->state == ANT_STATE_CACHED ? "cached block "
                                                 : "quarantined block ");
        put_unsigned(l, (uint64_t)(uintptr_t)ant_mem_of((ant_node_t *)node), 16);
        put(l, " (");
        put_unsigned(l, node->size, 10);
        put(l, "-byte block, last allocated as serial ");
        put_unsigned(l, ant_node_serial(node), 10);
        put(l, " at ");
        put_site(l, ant_node_site(node), "allocated", ant_node_serial(node));
        if (ant_freed_ok(node)) {
            struct ant_freed f = ant_freed_read(node);
            uint64_t serial = f.serial | (f.site >> 48) << 32;
            put(l, ", freed at ");
            put_site(l, f.site & ANT_SITE_MASK, "freed", ant_node_serial(node));
            if (serial) {
                put(l, " after serial ");
                put_unsigned(l, serial, 10);
            }
        }
        put(l, ")");
        return;
    }
    put(l, "block ");
    put_unsigned(l, (uint64_t)(uintptr_t)ant_mem_of((ant_node_t *)node), 16);
    put(l, " (");
    put_unsigned(l, requested_of(node), 10);
    put(l, " bytes requested, serial ");
    put_unsigned(l, ant_node_serial(node), 10);
    put(l, ", allocated at ");
    put_site(l, ant_node_site(node), "allocated", ant_node_serial(node));
    put(l, ")");
}

static void write_line(struct line *l)
{
    if (l->len + 1 >= sizeof l->text)
        l->len = sizeof l->text - 2;
    l->text[l->len] = '\n';
    ssize_t ignored = write(STDERR_FILENO, l->text, l->len + 1);
    (void)ignored;
    l->text[l->len] = 0;
}

/* "ant:   allocated (serial 5) at:" then a line a frame, as
 * "ant:     #1 0x55d2c1a3b200 (prog+0x1200, main+0x40)" */
static void write_stack(const struct named_stack *n)
{
    struct line l = {.len = 0};
    put(&l, "ant:   ");
    put(&l, n->what);
    if (n->serial) {
        put(&l, " (serial ");
        put_unsigned(&l, n->serial, 10);
        put(&l, ")");
    }
    put(&l, n->what[0] == 'c' ? " from:" : " at:");
    write_line(&l);
    for (uint32_t i = 0; i < n->stack->depth; i++) {
        l.len = 0;
        put(&l, "ant:     #");
        put_unsigned(&l, i, 10);
        put(&l, " ");
        put_address(&l, n->stack->frames[i], true);
        write_line(&l);
    }
}

/* The report's line, then the stacks it named. */
static void emit(struct line *l)
{
    write_line(l);
    for (unsigned i = 0; i < l->stack_count; i++)
        write_stack(&l->stacks[i]);
}

#define ANT_KIND_NAME(symbol, value, name, meaning) [value] = name,
#define ANT_KIND_VALUE(symbol, value, name, meaning) \
    _Static_assert(ANT_PROBLEM_##symbol == value, "enum ant_problem_kind follows <ant/problems.h>");
ANT_PROBLEM_KINDS(ANT_KIND_VALUE)

const char *ant_problem_name(int kind)
{
    static const char *const names[] = {[0] = "none", ANT_PROBLEM_KINDS(ANT_KIND_NAME)};
    if (kind < 0 || (size_t)kind >= sizeof names / sizeof names[0] || !names[kind])
        return "unknown";
    return names[kind];
}

void ant_report(const struct ant_problem *p)
{
    struct line l = {.len = 0};
    put(&l, "ant: ");
    put(&l, ant_problem_name(p->kind));
    put(&l, ": ");
    if (p->call) {
        put(&l, p->call);
        put(&l, " of ");
    }
    put(&l, p->what);
    if (p->node) {
        put(&l, " ");
        put_block(&l, p->node);
        if (p->at) {
            put(&l, ", at byte ");
            put_unsigned(&l, (uint64_t)((const unsigned char *)p->at - ant_mem_of((ant_node_t *)p->node)), 10);
            put(&l, " of its mem");
        }
    } else if (p->mem) {
        put(&l, " ");
        put_unsigned(&l, (uint64_t)(uintptr_t)p->mem, 16);
    }
    if (p->culprit && p->culprit != p->node) {
        put(&l, "; likely culprit: ");
        put_block(&l, p->culprit);
    }
    if (p->call_site) {
        put(&l, "; called from ");
        put_site(&l, (uint64_t)(uintptr_t)p->call_site, "called", 0);
    }
    if (p->invariant) {
        put(&l, " [");
        put(&l, p->invariant);
        put(&l, "]");
    }
    emit(&l);

    /* A reader sees the last record whole or none: the kind, which says
     * there is one, goes last. */
    struct ant_last_error *e = &ant_heap_root.last_error;
    __atomic_store_n(&e->kind, 0, __ATOMIC_RELAXED);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    e->count++;
    e->node = (uint64_t)(uintptr_t)p->node;
    e->mem = p->node ? (uint64_t)(uintptr_t)ant_mem_of((ant_node_t *)p->node) : (uint64_t)(uintptr_t)p->mem;
    e->request = p->node ? requested_of(p->node) : 0;
    e->serial = p->node ? ant_node_serial(p->node) : 0;
    e->site = p->node ? ant_node_site(p->node) : 0;
    e->culprit = p->culprit ? (uint64_t)(uintptr_t)ant_mem_of((ant_node_t *)p->culprit) : 0;
    memcpy(e->message, l.text, l.len + 1);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    __atomic_store_n(&e->kind, (uint32_t)p->kind, __ATOMIC_RELAXED);
}

/* "ant: overflow: write at byte 4100 of guarded block 0x7f... (24 bytes
 * requested, serial 5, allocated at ...), 4076 bytes past its end, in the
 * guard page after it": a fault, or a free, in a mapping of root.kept. */
void ant_report_kept(int kind, const char *what, const struct ant_kept *k, const void *addr, const void *call_site)
{
    struct line l = {.len = 0};
    uint64_t at = (uint64_t)(uintptr_t)addr;
    put(&l, "ant: ");
    put(&l, ant_problem_name(kind));
    put(&l, ": ");
    put(&l, what);
    if (at == k->mem && call_site) {
        put(&l, " of ");
    } else {
        put(&l, " at byte ");
        if (at < k->mem)
            put(&l, "-");
        put_unsigned(&l, at < k->mem ? k->mem - at : at - k->mem, 10);
        put(&l, " of ");
    }
    put(&l, k->state == ANT_KEPT_FREED ? "freed " : "");
    put(&l, k->guard ? "guarded block " : "big block ");
    put_unsigned(&l, k->mem, 16);
    put(&l, " (");
    put_unsigned(&l, k->requested, 10);
    put(&l, " bytes requested, serial ");
    put_unsigned(&l, k->serial, 10);
    put(&l, ", allocated at ");
    put_site(&l, k->site, "allocated", k->serial);
    if (k->state == ANT_KEPT_FREED) {
        put(&l, ", freed at ");
        put_site(&l, k->freed_site, "freed", k->serial);
        if (k->freed_serial) {
            put(&l, " after serial ");
            put_unsigned(&l, k->freed_serial, 10);
        }
    }
    put(&l, ")");
    if (kind == ANT_PROBLEM_OVERFLOW) {
        put(&l, ", ");
        put_unsigned(&l, at - (k->mem + k->requested), 10);
        put(&l, " bytes past its end, in the guard page after it");
    } else if (kind == ANT_PROBLEM_UNDERFLOW) {
        put(&l, ", in the guard page before it");
    }
    if (call_site) {
        put(&l, "; called from ");
        put_site(&l, (uint64_t)(uintptr_t)call_site, "called", 0);
    }
    emit(&l);

    struct ant_last_error *e = &ant_heap_root.last_error;
    __atomic_store_n(&e->kind, 0, __ATOMIC_RELAXED);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    e->count++;
    e->node = k->mem - ANT_NODE_SIZE;
    e->mem = k->mem;
    e->request = k->requested;
    e->serial = k->serial;
    e->site = k->site;
    e->culprit = 0;
    memcpy(e->message, l.text, l.len + 1);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    __atomic_store_n(&e->kind, (uint32_t)kind, __ATOMIC_RELAXED);
}

/* After the reports of one detection: abort, so a core is left behind,
 * unless the user asked to go on. */
void ant_report_done(void)
{
    if (ant_opt.on_error == ANT_ON_ERROR_ABORT) {
        /* Ended inside the allocator's work, the thread gets memcheck's
         * reports back, as it would have at the work's end (valgrind.h). */
        ant_quiet_end();
        abort();
    }
}

void ant_warn(const char *a, const char *b, const char *c)
{
    struct line l = {.len = 0};
    put(&l, "ant: ");
    put(&l, a);
    put(&l, b);
    put(&l, c);
    emit(&l);
}

void ant_note_block(const char *what, const ant_node_t *node)
{
    struct line l = {.len = 0};
    put(&l, "ant: ");
    put(&l, what);
    put(&l, " ");
    put_block(&l, node);
    emit(&l);
}

/* "2 blocks", "1 block" */
static void put_count(struct line *l, uint64_t n, const char *one, const char *many)
{
    put_unsigned(l, n, 10);
    put(l, n == 1 ? one : many);
}

static const char *const leak_kinds[] = {
    [ANT_LEAK_DEFINITE] = "definite", [ANT_LEAK_INDIRECT] = "indirect", [ANT_LEAK_POSSIBLE] = "possible"};

/* "ant: leak: definite: 2 blocks, 96 bytes, allocated at 0x55d2c1a3b1c9
 * (prog+0x11c9, make_list+0x19), serials 12 to 14": the first serial is
 * the one to give break_serial. */
void ant_report_leak(const struct ant_leak_group *g)
{
    struct line l = {.len = 0};
    put(&l, "ant: leak: ");
    put(&l, leak_kinds[g->kind]);
    put(&l, ": ");
    put_count(&l, g->blocks, " block, ", " blocks, ");
    put_count(&l, g->bytes, " byte", " bytes");
    put(&l, ", allocated at ");
    put_site_as(&l, g->site, true, "allocated", 0);
    put(&l, g->blocks == 1 ? ", serial " : ", serials ");
    put_unsigned(&l, g->first_serial, 10);
    if (g->blocks > 1) {
        put(&l, " to ");
        put_unsigned(&l, g->last_serial, 10);
    }
    emit(&l);
}

/* "ant: leak check: 4 of 17 used blocks leaked: 2 definite (96 bytes),
 * 1 indirect (40 bytes), 1 possible (64 bytes); exit status 23" */
void ant_report_leak_total(const uint64_t blocks[4], const uint64_t bytes[4], uint64_t checked, int status)
{
    struct line l = {.len = 0};
    put(&l, "ant: leak check: ");
    put_unsigned(&l, blocks[ANT_LEAK_DEFINITE] + blocks[ANT_LEAK_INDIRECT] + blocks[ANT_LEAK_POSSIBLE], 10);
    put(&l, " of ");
    put_count(&l, checked, " used block leaked", " used blocks leaked");
    for (int kind = ANT_LEAK_DEFINITE; kind <= ANT_LEAK_POSSIBLE; kind++) {
        put(&l, kind == ANT_LEAK_DEFINITE ? ": " : ", ");
        put_unsigned(&l, blocks[kind], 10);
        put(&l, " ");
        put(&l, leak_kinds[kind]);
        put(&l, " (");
        put_count(&l, bytes[kind], " byte)", " bytes)");
    }
    if (status) {
        put(&l, "; exit status ");
        put_unsigned(&l, (uint64_t)status, 10);
    }
    emit(&l);
}

/* "ant: leak check: not done: 2 threads did not stop (signal 64 blocked,
 * or hung), and a block only their registers hold would read as leaked" */
void ant_report_leak_unstopped(unsigned threads, int signal)
{
    struct line l = {.len = 0};
    put(&l, "ant: leak check: not done: ");
    put_count(&l, threads, " thread did not stop (", " threads did not stop (");
    if (signal) {
        put(&l, "signal ");
        put_unsigned(&l, (uint64_t)signal, 10);
        put(&l, " blocked, or hung");
    } else {
        put(&l, "no real-time signal was free, or the threads could not be listed");
    }
    put(&l, "), and a block only their registers hold would read as leaked");
    emit(&l);
}
