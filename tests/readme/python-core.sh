#!/bin/sh
# python-core.sh LIBANTMALLOC EXTENSION WORKDIR: the README's Python core,
# step by step as the README shows it: Python under the drop-in builds
# twenty thousand objects and stops itself, gdb writes a core, and Ant's
# commands read it. Each command is printed as the README writes it, run
# from the source tree, then run here with this build's files.
set -u
lib=$1
extension=$2
work=$3
mkdir -p "$work" && cd "$work" || exit 1
rm -f python.core

cat >objects.py <<'PY'
import os, signal
keep = [("item-%d" % i, [i] * (i % 5), {"k": i}) for i in range(20000)]
os.kill(os.getpid(), signal.SIGTRAP)
PY
echo '$ cat objects.py'
cat objects.py

echo '$ gdb -q -batch -ex "set environment LD_PRELOAD=$PWD/build/allocator/libantmalloc.so" \'
echo "      -ex 'set environment PYTHONMALLOC=malloc' -ex 'run objects.py' -ex 'gcore python.core' /usr/bin/python3"
gdb -q -batch -ex "set environment LD_PRELOAD=$lib" \
    -ex 'set environment PYTHONMALLOC=malloc' -ex 'run objects.py' -ex 'gcore python.core' /usr/bin/python3 2>&1

echo "\$ gdb -q -batch -ex 'source gdb/ant-gdb.py' -ex 'core-file python.core' \\"
echo "      -ex 'ant-heap' -ex 'ant-walk --used --min-size 1000 --limit 5' -ex 'ant-check' /usr/bin/python3"
gdb -q -batch -ex "source $extension" -ex 'core-file python.core' \
    -ex 'ant-heap' -ex 'ant-walk --used --min-size 1000 --limit 5' -ex 'ant-check' /usr/bin/python3 2>&1
