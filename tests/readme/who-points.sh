#!/bin/sh
# who-points.sh PYTHON EXTENSION PROGRAM CORE: the README's "Who points
# here?" on the core of examples/sessions.c: ant-refs at the indirect leak
# that ant-leaks lists, its address taken from ant-leaks --json as a
# reader takes it from the text, then at the block a variable names, as
# one gdb session (gdb-session.sh).
set -u
python=$1
extension=$2
program=$3
core=$4
rm -f leaks.json
gdb -nx -batch -ex "source $extension" -ex 'ant-leaks --json --output leaks.json' "$program" "$core" >/dev/null 2>&1
leak=$("$python" -c 'import json, sys
rows = json.load(open(sys.argv[1]))["leaked"]
print(hex(next(row["mem"] for row in rows if row["kind"] == "indirect")))' leaks.json) || exit 1
exec sh "$(dirname "$0")/gdb-session.sh" "$extension" "$program" "$core" -- "ant-refs $leak" 'ant-refs sessions->last'
