/* Uses plain malloc and free: linked with libantmalloc, Ant serves them,
 * which its statistics confirm. Prints "ok" when they do. */
#include <ant/ant.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    char *text = malloc(32);
    if (!text)
        return 1;
    strcpy(text, "served by Ant");
    ant_stats_t stats;
    ant_stats(&stats);
    free(text);
    if (stats.allocations == 0 || stats.used_blocks == 0) {
        printf("malloc was not served by Ant\n");
        return 1;
    }
    printf("ok: malloc served by Ant\n");
    return 0;
}
