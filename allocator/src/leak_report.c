/*
 * leak_report.c: the leaks, grouped by kind and site (as LeakSanitizer
 * groups them by stack), in order for report.c to print: the definite
 * leaks first, then the indirect, then the possible, each kind by the
 * bytes its sites leaked, most first. A check that found nothing prints
 * nothing.
 */
#include "leak.h"

static int by_bytes(const void *a, const void *b)
{
    const struct ant_leak_group *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind < y->kind;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes;
    return x->site < y->site;
}

size_t ant_leak_report(struct ant_leak_found *f, size_t checked)
{
    if (!f->count)
        return 0;
    uint64_t blocks[4] = {0}, bytes[4] = {0};
    for (size_t i = 0; i < f->count; i++) {
        blocks[f->leaks[i].kind] += f->leaks[i].blocks;
        bytes[f->leaks[i].kind] += f->leaks[i].bytes;
    }
    ant_leak_sort(f->leaks, f->count, sizeof *f->leaks, by_bytes);
    for (size_t i = 0; i < f->count; i++)
        ant_report_leak(&f->leaks[i]);
    bool failing = f->status == 0 && blocks[ANT_LEAK_DEFINITE];
    ant_report_leak_total(blocks, bytes, checked, failing ? ANT_LEAK_EXIT_STATUS : 0);
    return blocks[ANT_LEAK_DEFINITE];
}
