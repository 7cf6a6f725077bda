#!/bin/sh
# addr2line.sh PROGRAM: runs PROGRAM, which Ant stops with a report, and
# turns the sites the report names as PROGRAM+OFFSET into lines, one less
# than each offset (a site is a return address), as the README shows it:
# `addr2line -s -e PROGRAM OFFSET...`.
program=$1
name=$(basename "$program")
offsets=
# The report goes to stderr; the shell's word on the abort does not count.
for site in $(sh -c '"$0" 2>&1' "$program" 2>/dev/null | grep -o "($name+0x[0-9a-f]*)" | sed "s/($name+\(0x[0-9a-f]*\))/\1/"); do
    offsets="$offsets $(printf '0x%x' $((site - 1)))"
done
if [ -z "$offsets" ]; then
    echo "addr2line.sh: $program's report names no site in $name" >&2
    exit 1
fi
exec addr2line -s -e "$program" $offsets
