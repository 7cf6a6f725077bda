/*
 * ant/problems.h: the words Ant uses for what is wrong with a heap.
 *
 * One vocabulary for the allocator's own reports (stderr and the last-error
 * record) and for the debugger's ant-check: every problem either names is
 * one row of ANT_PROBLEM_RULES, a kind of ANT_PROBLEM_KINDS together with
 * the invariant of <ant/layout.h> it breaks. gdb/antgdb/check.py holds the
 * same two tables; tests/python/test_vocabulary.py holds them to these and
 * checks that both sides name no other pair.
 */
#ifndef ANT_PROBLEMS_H
#define ANT_PROBLEMS_H

/* X(enum name, value, name, what it means): the values are those of enum
 * ant_problem_kind in <ant/ant.h>, kept in root.last_error.kind. */
#define ANT_PROBLEM_KINDS(X)                                                                                        \
    X(OVERFLOW, 1, "overflow", "a tail sentinel is damaged: the block's own writes ran past its requested size")    \
    X(HEADER, 2, "header",                                                                                          \
      "a head sentinel or a header's magic does not match: the node or header was overwritten, forged, "            \
      "or the address is not one")                                                                                  \
    X(LINK, 3, "link", "links that disagree, form a cycle, or leave the heap")                                      \
    X(SIZE, 4, "size",                                                                                              \
      "a size that cannot be: out of its region, misaligned, or disagreeing with where the next node is")           \
    X(USE_AFTER_FREE, 5, "use-after-free",                                                                          \
      "bytes of a free or cached block's mem changed: its poison, or a free-list or cache link the "                \
      "allocator keeps there")                                                                                      \
    X(ACCOUNTING, 6, "accounting", "an arena's or a thread cache's counters disagree with the blocks")              \
    X(DOUBLE_FREE, 7, "double-free", "free or realloc of a block that is free already")                             \
    X(INVALID_FREE, 8, "invalid-free", "free or realloc of a pointer that is not a block Ant handed out")           \
    X(COALESCE, 9, "coalesce", "two neighbouring blocks are both free: free always merges them")                    \
    X(STATE, 10, "state", "a state or flag word that cannot be, or that contradicts where its node or record lies") \
    X(UNREADABLE, 11, "unreadable", "memory the layout names cannot be read")                                       \
    X(UNDERFLOW, 12, "underflow", "a read or write before a guarded block's node reached the guard page before it")

/* X(invariant or 0, kind, what breaking it so means). */
#define ANT_PROBLEM_RULES(X)                                                                                          \
    X("I1", "header", "a node's head sentinel does not match its address and words")                                  \
    X("I2", "overflow", "a used block's tail sentinel changed")                                                       \
    X("I2", "unreadable", "a used block's tail sentinel cannot be read")                                              \
    X("I3", "use-after-free", "a byte of a free or cached block's poison, or its record of who freed it, changed")    \
    X("I3", "unreadable", "a free or cached block's poison cannot be read")                                           \
    X("I4", "link", "a node's below disagrees with the size of the block below it")                                   \
    X("I5", "link", "region.first or region.last names another node than the first or the last")                      \
    X("I6", "size", "a block's size is misaligned, too small, past its region, or too small for its request")         \
    X("I7", "size", "the last block does not end where the wilderness begins, or that lies outside its region")       \
    X("I8", "coalesce", "two neighbouring blocks are both free")                                                      \
    X("I9", "use-after-free", "a free block's bin links lead astray or do not link back")                             \
    X("I10", "accounting", "an arena's or a thread cache's counters disagree with the blocks")                        \
    X("I11", "state", "a node's state, arena or flags cannot be, or contradict where it lies")                        \
    X("I12", "size", "a mem address is not aligned")                                                                  \
    X("I13", "link", "a cache bin's list loops, crosses another, disagrees with its count, or misses a cached block") \
    X("I13", "use-after-free", "a link a cached block keeps in its mem changed")                                      \
    X("I13", "size", "a block sits in a cache bin of another size")                                                   \
    X("I14", "link", "root.arenas names no arena, or one with another index")                                         \
    X("I14", "unreadable", "an arena cannot be read")                                                                 \
    X("I15", "link", "a region list loops, overlaps, or names a region of another kind or arena")                     \
    X("I15", "header", "a region list leads to what is not a region header")                                          \
    X("I15", "unreadable", "a region header cannot be read")                                                          \
    X("I16", "size", "a region's length cannot be")                                                                   \
    X("I16", "unreadable", "a node of a region cannot be read")                                                       \
    X("I17", "link", "the list of caches loops")                                                                      \
    X("I17", "header", "the list of caches leads to what is not a cache")                                             \
    X("I17", "state", "a cache is neither LIVE, IDLE nor DEPOT")                                                      \
    X("I17", "size", "a cache has another number of bins than the layout")                                            \
    X("I17", "unreadable", "a cache cannot be read")                                                                  \
    X("I18", "state", "an arena's journal cannot be read as whole records of readable memory")                        \
    X("I19", "link", "an arena's quarantine loops, leads astray, or misses a quarantined block")                      \
    X("I19", "use-after-free", "a link a quarantined block keeps in its mem changed")                                 \
    X("I19", "accounting", "an arena's quarantine counts disagree with its list")                                     \
    X(0, "double-free", "free or realloc of a block that is free already")                                            \
    X(0, "invalid-free", "free or realloc of a pointer that is not a block Ant handed out")                           \
    X(0, "overflow", "a read or write past a guarded block's end reached the guard page after it")                    \
    X(0, "underflow", "a read or write before a guarded block's node reached the guard page before it")               \
    X(0, "use-after-free", "a read or write of a freed guarded or big block, kept inaccessible")

#endif
