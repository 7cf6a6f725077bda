/*
 * break.c: stopping at one allocation, as MSVC's _CrtSetBreakAlloc does.
 *
 * A report names a block by its serial; ANT_OPTIONS=break_serial=N, or a
 * debugger writing N into root.break_serial, makes the allocation that
 * takes serial N raise SIGTRAP in its own thread, after the block is
 * whole and every lock is let go. Under a debugger the program stops
 * there with the block in hand, and goes on when told to (gdb does not
 * pass the SIGTRAP on). Without one, SIGTRAP's default action ends the
 * process and leaves a core.
 */
#include "internal.h"

#include <signal.h>

/* Out of line and cold: the allocation paths pay for the comparison
 * alone (internal.h, ant_break_at). */
__attribute__((noinline, cold)) void ant_break_now(void *mem)
{
    ant_note_block("break_serial: SIGTRAP at the allocation of", ant_node_of(mem));
    raise(SIGTRAP);
}
