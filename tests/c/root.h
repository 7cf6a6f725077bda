/*
 * root.h: the allocator's root as a program reaches it. <ant/layout.h>
 * documents the exported symbol ant_root but does not declare it.
 */
#ifndef ANT_TEST_ROOT_H
#define ANT_TEST_ROOT_H

#include <ant/layout.h>

extern ant_root_t ant_root;

#endif
