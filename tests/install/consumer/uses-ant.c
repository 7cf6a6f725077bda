/* Uses the ant_* API beside the C library's malloc: prints "ok" when Ant
 * served the allocations and finds its heap sound. */
#include <ant/ant.h>
#include <ant/layout.h>

#include <stdio.h>

static int count(const ant_block_info_t *block, void *arg)
{
    (void)block;
    ++*(size_t *)arg;
    return 0;
}

int main(void)
{
    void *a = ant_malloc(10);
    void *b = ant_calloc(3, 100);
    ant_free(a);
    size_t blocks = 0;
    ant_walk(count, &blocks);
    if (!b || blocks < 2 || ant_check() != 0) {
        printf("unexpected heap: %zu blocks\n", blocks);
        return 1;
    }
    ant_free(b);
    printf("ok: Ant %s, layout %u\n", ANT_VERSION_STRING, ANT_LAYOUT_VERSION);
    return 0;
}
