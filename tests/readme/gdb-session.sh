#!/bin/sh
# gdb-session.sh EXTENSION GDB_ARG... -- COMMAND...: a gdb session as the
# README quotes one. gdb runs in batch mode with the extension loaded and
# the GDB_ARGs (the program, and its core if any), and runs each COMMAND
# after a line "(gdb) COMMAND", as the command would show typed at the
# prompt. What gdb prints before the first command (loading a core) is
# left out.
set -u
extension=$1
shift
commands=
for arg do
    shift
    if [ -n "$commands" ]; then
        set -- "$@" -ex "echo (gdb) $arg\\n" -ex "$arg"
    elif [ "$arg" = -- ]; then
        commands=1
    else
        set -- "$@" "$arg"
    fi
done
gdb -nx -batch -ex "source $extension" "$@" 2>&1 | sed -n '/^(gdb) /,$p'
