#!/bin/sh
# demo.sh: a program crashes; the core file it leaves, read with Ant's gdb
# commands, tells which block was damaged, which block did it, and where
# that block was allocated.
#
# Usage: demo.sh PROGRAM GDB_EXTENSION WORKDIR   (the demo target runs it)
set -u
program=$1
extension=$2
work=$3
core=$work/phonebook.core
mkdir -p "$work"
rm -f "$core"

step() {
    printf '\n==> %s\n' "$*"
}

# gdb, quiet, as a script would run it.
ant_gdb() {
    gdb -nx -q -batch -iex 'set pagination off' -iex 'set style enabled off' \
        -ex "source $extension" "$@" 2>&1
}

step "1. Run the phone book (examples/phonebook.c). It has a bug, and Ant stops it:"
"$program" 2>"$work/report.txt"
status=$?
cat "$work/report.txt"
echo "(exit status $status: the allocator aborted, which is what leaves a core file)"

step "2. Run it again under gdb, and keep a core file of the crash, as the kernel would with 'ulimit -c unlimited':"
gdb -nx -batch -ex run -ex "gcore $core" "$program" >"$work/gdb-run.txt" 2>&1
ls -l "$core" | awk '{print $5, "bytes:", $NF}'

step "3. Open the core in gdb. The backtrace says where it crashed, which is not where the bug is:"
echo "(gdb) bt"
# From Ant's first frame on: the C library's frames of abort() above it
# differ from one C library to the next and say nothing of the bug.
ant_gdb -ex "core-file $core" -ex 'echo @@\n' -ex "bt" "$program" | sed '1,/^@@$/d' | sed -n '/ in ant_/,$p'

step "4. ant-heap: what the heap held when it crashed, and what the allocator saw:"
echo "(gdb) ant-heap"
ant_gdb -ex "core-file $core" -ex "ant-heap" "$program" | sed -n '/^Ant heap/,$p'

step "5. ant-check: every problem, each with the block that probably caused it:"
echo "(gdb) ant-check"
ant_gdb -ex "core-file $core" -ex "ant-check" "$program" | sed -n '/^ant-check/,$p'

# The run under gdb, without address randomisation, made the core.
culprit=$(sed -n 's/.*likely culprit: block \(0x[0-9a-f]*\).*/\1/p' "$work/gdb-run.txt")
step "6. ant-block: the culprit, its node field by field and the bytes it wrote:"
echo "(gdb) ant-block $culprit"
ant_gdb -ex "core-file $core" -ex "ant-block $culprit" "$program" | sed -n '/^block at/,$p'
echo
echo "The core file is $core; open it yourself with:"
echo "  gdb -ex 'source $extension' $program $core"
