"""The words for what is wrong with a heap: the kinds of problem and the
invariants each breaks, as <ant/problems.h> has them for the allocator.
Every problem ant-check names is one row of RULES;
tests/python/test_vocabulary.py holds both tables to the header."""

# kind -> what it means, in the order of enum ant_problem_kind.
KINDS = {
    'overflow':
        "a tail sentinel is damaged: the block's own writes ran past its "
        'requested size',
    'header':
        "a head sentinel or a header's magic does not match: the node or header "
        'was overwritten, forged, or the address is not one',
    'link':
        'links that disagree, form a cycle, or leave the heap',
    'size':
        'a size that cannot be: out of its region, misaligned, or disagreeing '
        'with where the next node is',
    'use-after-free':
        "bytes of a free or cached block's mem changed: its poison, or a "
        'free-list or cache link the allocator keeps there',
    'accounting':
        "an arena's or a thread cache's counters disagree with the blocks",
    'double-free':
        'free or realloc of a block that is free already',
    'invalid-free':
        'free or realloc of a pointer that is not a block Ant handed out',
    'coalesce':
        'two neighbouring blocks are both free: free always merges them',
    'state':
        'a state or flag word that cannot be, or that contradicts where its '
        'node or record lies',
    'unreadable':
        'memory the layout names cannot be read',
    'underflow':
        "a read or write before a guarded block's node reached the guard page "
        'before it',
}

# (invariant or None, kind, what breaking it so means).
RULES = (
    ('I1', 'header', "a node's head sentinel does not match its address and words"),
    ('I2', 'overflow', "a used block's tail sentinel changed"),
    ('I2', 'unreadable', "a used block's tail sentinel cannot be read"),
    ('I3', 'use-after-free',
     "a byte of a free or cached block's poison, or its record of who freed it, changed"),
    ('I3', 'unreadable', "a free or cached block's poison cannot be read"),
    ('I4', 'link', "a node's below disagrees with the size of the block below it"),
    ('I5', 'link', 'region.first or region.last names another node than the first or the last'),
    ('I6', 'size',
     "a block's size is misaligned, too small, past its region, or too small for its request"),
    ('I7', 'size',
     'the last block does not end where the wilderness begins, or that lies outside its region'),
    ('I8', 'coalesce', 'two neighbouring blocks are both free'),
    ('I9', 'use-after-free', "a free block's bin links lead astray or do not link back"),
    ('I10', 'accounting', "an arena's or a thread cache's counters disagree with the blocks"),
    ('I11', 'state', "a node's state, arena or flags cannot be, or contradict where it lies"),
    ('I12', 'size', 'a mem address is not aligned'),
    ('I13', 'link',
     "a cache bin's list loops, crosses another, disagrees with its count, or misses a cached block"),
    ('I13', 'use-after-free', 'a link a cached block keeps in its mem changed'),
    ('I13', 'size', 'a block sits in a cache bin of another size'),
    ('I14', 'link', 'root.arenas names no arena, or one with another index'),
    ('I14', 'unreadable', 'an arena cannot be read'),
    ('I15', 'link', 'a region list loops, overlaps, or names a region of another kind or arena'),
    ('I15', 'header', 'a region list leads to what is not a region header'),
    ('I15', 'unreadable', 'a region header cannot be read'),
    ('I16', 'size', "a region's length cannot be"),
    ('I16', 'unreadable', 'a node of a region cannot be read'),
    ('I17', 'link', 'the list of caches loops'),
    ('I17', 'header', 'the list of caches leads to what is not a cache'),
    ('I17', 'state', 'a cache is neither LIVE, IDLE nor DEPOT'),
    ('I17', 'size', 'a cache has another number of bins than the layout'),
    ('I17', 'unreadable', 'a cache cannot be read'),
    ('I18', 'state', "an arena's journal cannot be read as whole records of readable memory"),
    ('I19', 'link', "an arena's quarantine loops, leads astray, or misses a quarantined block"),
    ('I19', 'use-after-free', "a link a quarantined block keeps in its mem changed"),
    ('I19', 'accounting', "an arena's quarantine counts disagree with its list"),
    (None, 'double-free', 'free or realloc of a block that is free already'),
    (None, 'invalid-free', 'free or realloc of a pointer that is not a block Ant handed out'),
    (None, 'overflow', "a read or write past a guarded block's end reached the guard page after it"),
    (None, 'underflow',
     "a read or write before a guarded block's node reached the guard page before it"),
    (None, 'use-after-free', 'a read or write of a freed guarded or big block, kept inaccessible'),
)

PAIRS = frozenset((kind, invariant) for invariant, kind, _ in RULES)
