/*
 * root.h: the allocator's root as a test reads it.
 *
 * <ant/layout.h> does not declare ant_root for programs: one linked against
 * the shared library would get a copy made at load time that the library
 * never updates. The tests that read the root link the static library,
 * where ant_root is the heap's own root, and root() confirms it by
 * root.self before every use.
 */
#ifndef ANT_TEST_ROOT_H
#define ANT_TEST_ROOT_H

#include <ant/layout.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern ant_root_t ant_root;

static inline const ant_root_t *root(void)
{
    if (ant_root.self != &ant_root) {
        fprintf(stderr, "ant_root is a copy, not the heap's root: link the static library\n");
        exit(1);
    }
    return &ant_root;
}

/* Where the field table puts a field, as a debugger would look it up. */
static inline size_t field_offset(const char *name)
{
    for (uint32_t i = 0; i < root()->field_count; i++)
        if (strcmp(root()->fields[i].name, name) == 0)
            return root()->fields[i].offset;
    fprintf(stderr, "no field %s\n", name);
    exit(1);
}

#endif
