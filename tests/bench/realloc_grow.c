/*
 * realloc_grow.c: strings and vectors grown by realloc from a few bytes to
 * tens of KiB, then freed, among short-lived small blocks. Half the buffers
 * grow to the exact length at every append (a naive string builder), half
 * by half again their capacity (a vector); the first stresses realloc in
 * place, the second the copy to a bigger block.
 *
 * Usage: realloc_grow [appends]
 */
#include "workload.h"

#include <string.h>

#define BUFFERS 256
#define SMALL 1024

typedef struct {
    unsigned char *data;
    size_t length, capacity, limit;
    uint64_t byte_sum; /* of the bytes appended, to check at the end */
    int exact;
} buffer_t;

static uint64_t finish(buffer_t *b, uint64_t sum)
{
    uint64_t seen = 0;
    for (size_t i = 0; i < b->length; i++)
        seen += b->data[i];
    if (seen != b->byte_sum)
        corrupt("realloc_grow", b->length);
    sum = mix(sum, seen + b->length);
    free(b->data);
    b->data = 0;
    return sum;
}

static void append(buffer_t *b, size_t n, unsigned char byte)
{
    size_t need = b->length + n;
    if (need > b->capacity) {
        b->capacity = b->exact ? need : need + need / 2;
        b->data = must(realloc(b->data, b->capacity), "realloc_grow");
    }
    memset(b->data + b->length, byte, n);
    b->length = need;
    b->byte_sum += (uint64_t)byte * n;
}

int main(int argc, char **argv)
{
    size_t appends = scale_arg(argc, argv, 2000000);
    buffer_t buffers[BUFFERS] = {0};
    unsigned char *small[SMALL] = {0};
    rng_t rng = {0x5eed0002};
    uint64_t sum = 0;

    for (size_t i = 0; i < appends; i++) {
        buffer_t *b = &buffers[rng_range(&rng, 0, BUFFERS - 1)];
        if (!b->data) {
            b->length = 0;
            b->capacity = rng_range(&rng, 8, 64);
            b->limit = rng_range(&rng, 1024, 48 << 10);
            b->byte_sum = 0;
            b->exact = (int)(i & 1);
            b->data = must(malloc(b->capacity), "realloc_grow");
        }
        append(b, rng_range(&rng, 1, 96), (unsigned char)(i & 0xff));
        if (b->length >= b->limit)
            sum = finish(b, sum);
        /* Small blocks of a shorter life come and go between appends, so
         * that a buffer's neighbour is not always free when it grows. */
        if (i % 4 == 0) {
            unsigned char **t = &small[rng_range(&rng, 0, SMALL - 1)];
            if (*t) {
                sum = mix(sum, **t);
                free(*t);
            }
            *t = must(malloc(rng_range(&rng, 16, 200)), "realloc_grow");
            **t = (unsigned char)i;
        }
    }
    for (size_t i = 0; i < BUFFERS; i++)
        if (buffers[i].data)
            sum = finish(&buffers[i], sum);
    for (size_t i = 0; i < SMALL; i++)
        free(small[i]);
    print_checksum("realloc_grow", sum);
    return 0;
}
