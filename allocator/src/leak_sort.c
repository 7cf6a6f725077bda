/*
 * leak_sort.c: sorting for the leak check, which must not allocate from the
 * heap it reads (qsort may call malloc for a buffer): a heapsort in place,
 * O(n log n) for the million leaked blocks a report may group.
 */
#include "leak.h"

static void swap(unsigned char *a, unsigned char *b, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        unsigned char t = a[i];
        a[i] = b[i];
        b[i] = t;
    }
}

static void sift_down(unsigned char *base, size_t root, size_t n, size_t size,
                      int (*less)(const void *a, const void *b))
{
    for (size_t child; (child = 2 * root + 1) < n; root = child) {
        if (child + 1 < n && less(base + child * size, base + (child + 1) * size))
            child++;
        if (!less(base + root * size, base + child * size))
            return;
        swap(base + root * size, base + child * size, size);
    }
}

void ant_leak_sort(void *base, size_t n, size_t size, int (*less)(const void *a, const void *b))
{
    unsigned char *b = base;
    for (size_t i = n / 2; i-- > 0;)
        sift_down(b, i, n, size, less);
    for (size_t end = n; end > 1; end--) {
        swap(b, b + (end - 1) * size, size);
        sift_down(b, 0, end - 1, size, less);
    }
}

static int lower(const void *a, const void *b)
{
    return ((const struct ant_leak_range *)a)->low < ((const struct ant_leak_range *)b)->low;
}

void ant_leak_merge(struct ant_leak_ranges *r)
{
    ant_leak_sort(r->at, r->count, sizeof *r->at, lower);
    size_t kept = 0;
    for (size_t i = 0; i < r->count; i++) {
        if (kept && r->at[i].low <= r->at[kept - 1].high) {
            if (r->at[i].high > r->at[kept - 1].high)
                r->at[kept - 1].high = r->at[i].high;
        } else {
            r->at[kept++] = r->at[i];
        }
    }
    r->count = kept;
}
