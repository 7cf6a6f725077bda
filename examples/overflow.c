/*
 * overflow.c: the classic off-by-one. strlen() counts the letters but not
 * the '\0' that ends the string, so strcpy() writes one byte past the block.
 *
 * That byte lands on the block's tail sentinel, which Ant placed right after
 * the requested bytes. ant_free() finds the sentinel changed, prints one
 * "ant: overflow: ..." line and aborts, leaving a core file where core dumps
 * are enabled (ulimit -c unlimited) for ant-heap and ant-check in gdb.
 */
#include <ant/ant.h>

#include <string.h>

int main(void)
{
    const char *greeting = "hello, ant";
    char *copy = ant_malloc(strlen(greeting)); /* the bug: no room for '\0' */
    strcpy(copy, greeting);
    ant_free(copy);
    return 0;
}
