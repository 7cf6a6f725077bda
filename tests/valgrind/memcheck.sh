#!/bin/sh
# Runs a program under memcheck and checks what memcheck says of it.
# Usage: memcheck.sh STATUS [PATTERN...] -- PROGRAM [ARG...]
# Passes when the exit status is STATUS (99 for memcheck's errors, as
# --error-exitcode sets it, or "signal" for death by any signal) and, for
# each extended regular expression PATTERN, a line of the output matches.
want=$1
shift
patterns=
while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
    patterns="$patterns$1
"
    shift
done
shift

ulimit -c 0
output=$(valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible \
    "$@" 2>&1)
status=$?
printf '%s\n' "$output"

fail=0
case $want in
signal) [ "$status" -gt 128 ] || { echo "FAIL: expected death by a signal, got status $status"; fail=1; } ;;
*) [ "$status" -eq "$want" ] || { echo "FAIL: expected status $want, got $status"; fail=1; } ;;
esac
printf '%s' "$patterns" | while IFS= read -r pattern; do
    printf '%s\n' "$output" | grep -Eq -- "$pattern" || echo "FAIL: no line matches: $pattern"
done | grep . && fail=1
exit $fail
