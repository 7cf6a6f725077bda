#!/bin/sh
# Runs a program that must report a problem on stderr and then abort.
# Usage: expect-abort.sh PROGRAM PATTERN
# Passes when a line of stderr matches the extended regular expression
# PATTERN and the program died of SIGABRT.
program=$1
pattern=$2

# The abort is expected; its core file would only litter the build tree.
ulimit -c 0

stderr=$("$program" 2>&1 >/dev/null)
status=$?
printf '%s\n' "$stderr"

if [ "$status" -ne 134 ]; then
    echo "FAIL: expected death by SIGABRT (status 134), got status $status"
    exit 1
fi
if ! printf '%s\n' "$stderr" | grep -Eq -- "$pattern"; then
    echo "FAIL: no line of stderr matches: $pattern"
    exit 1
fi
