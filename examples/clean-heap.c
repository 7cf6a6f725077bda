/*
 * clean-heap.c: a sound heap to look at in gdb.
 *
 *   ./clean-heap [COUNT]     (COUNT blocks, 10 by default)
 *
 * It allocates COUNT blocks of growing sizes, frees every third one, and
 * calls ant_example_stop() with the heap in that state: break there and
 * try ant-heap, ant-walk, ant-check and ant-block. Then it exits with 0.
 */
#include <ant/ant.h>

#include <stdio.h>
#include <stdlib.h>

void ant_example_stop(void);

/* A place for a breakpoint. noinline and the empty asm keep the call in
 * place: the compiler may neither inline it nor drop it as useless. */
__attribute__((noinline)) void ant_example_stop(void)
{
    __asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
    size_t count = argc > 1 ? strtoul(argv[1], 0, 10) : 10;
    void **blocks = calloc(count ? count : 1, sizeof *blocks);
    if (!blocks)
        return 1;
    for (size_t i = 0; i < count; i++)
        blocks[i] = ant_malloc(16 * (i % 32 + 1));
    /* Every third, so that no two freed blocks are neighbours. */
    for (size_t i = 0; i < count; i += 3)
        ant_free(blocks[i]);
    ant_example_stop();
    printf("%zu blocks allocated, %zu freed\n", count, (count + 2) / 3);
    free(blocks);
    return 0;
}
