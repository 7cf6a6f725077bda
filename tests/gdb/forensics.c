/*
 * forensics.c: a heap whose blocks come from known sites, changed between
 * two stops, for ant-walk's filters and order, ant-sites, ant-diff and
 * ant-break (tests/gdb/forensics.py).
 *
 * Usage: forensics MANIFEST
 *
 * Stop 1: NODES nodes of 48 bytes from make_node(), NAMES names of 10 to
 * 109 bytes from make_name(), TABLES tables of 4096 bytes from
 * grow_table(). Stop 2: every other node freed, MORE names of 200 bytes
 * more. Then AFTER nodes more, one at a time, freed, and the program ends.
 * Before each stop MANIFEST is rewritten: each function's blocks and
 * requested bytes, and the mem of every block allocated or freed since
 * the previous stop. gdb stops in forensics_stop() by a breakpoint where
 * there are symbols, by its SIGTRAP where there are none.
 */
#include <ant/ant.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define NODES 300
#define NAMES 100
#define TABLES 20
#define MORE 50
#define AFTER 200

static void *nodes[NODES];
static void *names[NAMES + MORE];
static void *tables[TABLES];

__attribute__((noinline)) void forensics_stop(void);
__attribute__((noinline)) void forensics_stop(void)
{
    raise(SIGTRAP);
}

/* Read at run time, so that no copy of make_name() specialised for it
 * becomes a second site. */
static volatile size_t later_length = 200;

/* After a call, so that the call is not made a jump (a tail call), whose
 * return address would be the caller's. */
#define AFTER_THE_CALL() __asm__ volatile("" ::: "memory")

/* One function per site, kept out of line so that each is its own. */
__attribute__((noinline)) static void *make_node(void)
{
    void *mem = ant_malloc(48);
    AFTER_THE_CALL();
    return mem;
}

__attribute__((noinline)) static void *make_name(size_t length)
{
    void *mem = ant_malloc(length);
    AFTER_THE_CALL();
    return mem;
}

__attribute__((noinline)) static void *grow_table(void)
{
    void *mem = ant_malloc(4096);
    AFTER_THE_CALL();
    return mem;
}

static void *checked(void *mem)
{
    if (!mem) {
        fputs("forensics: out of memory\n", stderr);
        exit(1);
    }
    return mem;
}

/* list[from], list[from + step] ... below `to`, each after a comma but the
 * array's first. */
static void mems(FILE *out, int *first, void **list, size_t from, size_t to, size_t step)
{
    for (size_t i = from; i < to; i += step) {
        fprintf(out, "%s%lu", *first ? "" : ", ", (unsigned long)(uintptr_t)list[i]);
        *first = 0;
    }
}

static void manifest(const char *path, int stop)
{
    FILE *out = fopen(path, "w");
    if (!out) {
        perror(path);
        exit(1);
    }
    size_t live_nodes = stop == 1 ? NODES : NODES / 2;
    size_t name_bytes = 0;
    for (size_t i = 0; i < NAMES; i++)
        name_bytes += 10 + i;
    if (stop == 2)
        name_bytes += (size_t)MORE * 200;
    fprintf(out,
            "{\"stop\": %d, \"sites\": {\"make_node\": [%zu, %zu], \"make_name\": [%zu, %zu], "
            "\"grow_table\": [%d, %d]}",
            stop, live_nodes, live_nodes * 48, (size_t)(stop == 1 ? NAMES : NAMES + MORE), name_bytes, TABLES,
            TABLES * 4096);
    int first = 1;
    fputs(", \"new\": [", out);
    if (stop == 1) {
        mems(out, &first, nodes, 0, NODES, 1);
        mems(out, &first, names, 0, NAMES, 1);
        mems(out, &first, tables, 0, TABLES, 1);
    } else {
        mems(out, &first, names, NAMES, NAMES + MORE, 1);
    }
    first = 1;
    fputs("], \"freed\": [", out);
    if (stop == 2)
        mems(out, &first, nodes, 0, NODES, 2);
    fputs("]}\n", out);
    fclose(out);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: forensics MANIFEST\n", stderr);
        return 2;
    }
    for (size_t i = 0; i < NODES; i++)
        nodes[i] = checked(make_node());
    for (size_t i = 0; i < NAMES; i++)
        names[i] = checked(make_name(10 + i));
    for (size_t i = 0; i < TABLES; i++)
        tables[i] = checked(grow_table());
    manifest(argv[1], 1);
    forensics_stop();

    for (size_t i = 0; i < NODES; i += 2)
        ant_free(nodes[i]);
    for (size_t i = NAMES; i < NAMES + MORE; i++)
        names[i] = checked(make_name(later_length));
    manifest(argv[1], 2);
    forensics_stop();

    for (size_t i = 0; i < AFTER; i++)
        ant_free(checked(make_node()));
    return 0;
}
