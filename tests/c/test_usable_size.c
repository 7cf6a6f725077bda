/*
 * test_usable_size.c: ant_usable_size answers the requested size of a live
 * block, since writing past it is an overflow; and 0 for anything that is
 * not a live block, without touching memory it cannot trust.
 */
#include "check.h"

#include <ant/ant.h>

int main(void)
{
    for (size_t n = 0; n < 300; n++) {
        void *p = ant_malloc(n);
        CHECK_EQ(ant_usable_size(p), n);
        ant_free(p);
    }
    void *big = ant_malloc(300000);
    CHECK_EQ(ant_usable_size(big), 300000);
    void *aligned = ant_aligned_alloc(4096, 33);
    CHECK_EQ(ant_usable_size(aligned), 33);
    void *grown = ant_realloc(ant_malloc(10), 7777);
    CHECK_EQ(ant_usable_size(grown), 7777);

    unsigned char *p = ant_malloc(256);
    void *guard = ant_malloc(8);
    CHECK_EQ(ant_usable_size(0), 0);
    CHECK_EQ(ant_usable_size(p + 64), 0);
    CHECK_EQ(ant_usable_size(p + 1), 0);
    CHECK_EQ(ant_usable_size((unsigned char *)big + 4096), 0);
    _Alignas(16) unsigned char on_stack[128] = {0};
    CHECK_EQ(ant_usable_size(on_stack + 64), 0);
    ant_free(p);
    CHECK_EQ(ant_usable_size(p), 0);

    ant_free(guard);
    ant_free(big);
    ant_free(aligned);
    ant_free(grown);
    CHECK_EQ(ant_check(), 0);
    return 0;
}
