/*
 * leaks_keep.c: a shared library whose static variable holds a block, so
 * that ant-leaks' test has a root in another module's data.
 */
void leaks_keep(void *mem);

/* volatile: a store to a static that nothing reads would be left out. */
static void *volatile kept;

void leaks_keep(void *mem)
{
    kept = mem;
}
