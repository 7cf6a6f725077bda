/*
 * churn.c: small-block churn. Millions of malloc/free pairs of 16-128
 * bytes around a live set of a few thousand blocks, the pattern of a
 * program full of short-lived nodes and strings. The free is of a random
 * live block, not the newest, so a LIFO cache alone does not serve it.
 *
 * Usage: churn [operations]
 */
#include "workload.h"

#include <string.h>

#define LIVE 4096

int main(int argc, char **argv)
{
    size_t operations = scale_arg(argc, argv, 12000000);
    unsigned char *live[LIVE] = {0};
    size_t sizes[LIVE] = {0};
    rng_t rng = {0x5eed0001};
    uint64_t sum = 0;

    for (size_t i = 0; i < operations; i++) {
        uint64_t r = rng_next(&rng);
        size_t slot = (size_t)(r % LIVE);
        if (live[slot]) {
            /* First and last byte: a block that moved or was overwritten
             * under us shows here without reading every byte. */
            unsigned char *p = live[slot];
            size_t n = sizes[slot];
            if (p[0] != p[n - 1])
                corrupt("churn", i);
            sum = mix(sum, p[0] + n);
            free(p);
        }
        size_t n = 16 + (size_t)((r >> 32) % 113);
        live[slot] = must(malloc(n), "churn");
        sizes[slot] = n;
        memset(live[slot], (int)(i & 0xff), n);
    }
    for (size_t slot = 0; slot < LIVE; slot++)
        free(live[slot]);
    print_checksum("churn", sum);
    return 0;
}
