"""Real programs we did not write, each run the same way under two allocators.

A workload prepares its inputs in a scratch folder and names the command to
run there; its stdout and exit status are what must agree between glibc and
Ant. Everything is deterministic: fixed seeds, fixed dates, fixed names.
"""
import os
import random
import shutil
import subprocess
import sys

PYTHON_OBJECTS = r"""
total = 0
for round in range(3):
    objects = [(i, str(i), [i] * 3, {"k": i}) for i in range(400000)]
    total += sum(len(o[1]) + len(o[2]) + len(o[3]) for o in objects)
    del objects
text = " ".join(str(i) for i in range(200000))
words = {}
for word in text.split():
    words[word[-2:]] = words.get(word[-2:], 0) + 1
print(total, len(words), sum(words.values()))
"""

C_PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compare(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    char *words[1000];
    for (int i = 0; i < 1000; i++) {
        words[i] = malloc(16);
        snprintf(words[i], 16, "w%07d", (i * 7919) % 1000);
    }
    qsort(words, 1000, sizeof words[0], compare);
    printf("%s %s\n", words[0], words[999]);
    for (int i = 0; i < 1000; i++)
        free(words[i]);
    return 0;
}
"""

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ant", "GIT_AUTHOR_EMAIL": "ant@example.invalid",
    "GIT_COMMITTER_NAME": "Ant", "GIT_COMMITTER_EMAIL": "ant@example.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
}


def python_objects(scratch):
    return [sys.executable, "-c", PYTHON_OBJECTS], {}


def sort_file(scratch):
    path = os.path.join(scratch, "lines.txt")
    if not os.path.exists(path):
        rng = random.Random(1)
        with open(path + ".tmp", "w") as f:
            for _ in range(2_500_000):
                f.write("%08x %s\n" % (rng.getrandbits(32), "x" * rng.randint(0, 20)))
        os.replace(path + ".tmp", path)
    return ["sh", "-c", "sort lines.txt | md5sum"], {"LC_ALL": "C"}


def gcc_compile(scratch):
    with open(os.path.join(scratch, "words.c"), "w") as f:
        f.write(C_PROGRAM)
    return ["sh", "-c", "rm -f words && gcc -O2 -Wall -o words words.c && ./words"], {}


def git_commit(scratch):
    script = (
        "rm -rf repo && git init -q -b main repo && cd repo && "
        "for i in $(seq 1 200); do echo \"line $i\" > file$i.txt; done && "
        "git add . && git commit -q -m first && "
        "sed -i s/line/LINE/ file1*.txt && git commit -q -am second && "
        "git log --format='%H %s' && git diff --stat HEAD~1 | tail -1 && git gc -q && git fsck"
    )
    return ["sh", "-c", script], GIT_ENV


def sqlite(scratch):
    rows = "\n".join(
        "INSERT INTO t VALUES(%d, 'name-%d', %d);" % (i, (i * 7919) % 5000, (i * 31) % 97)
        for i in range(20000))
    sql = ("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v INTEGER);\nBEGIN;\n" + rows +
           "\nCOMMIT;\nCREATE INDEX tv ON t(v);\n"
           "SELECT count(*), sum(v), count(DISTINCT name) FROM t;\n"
           "SELECT v, count(*) FROM t GROUP BY v ORDER BY count(*) DESC, v LIMIT 5;\n"
           "SELECT group_concat(name, ',') FROM (SELECT name FROM t WHERE v = 3 ORDER BY name LIMIT 20);\n")
    with open(os.path.join(scratch, "load.sql"), "w") as f:
        f.write(sql)
    return ["sh", "-c", "rm -f db.sqlite && sqlite3 db.sqlite < load.sql"], {}


WORKLOADS = {
    "python": python_objects,
    "sort": sort_file,
    "gcc": gcc_compile,
    "git": git_commit,
    "sqlite3": sqlite,
}


def program(path):
    """A program of our own, given by path, run with no arguments."""
    return lambda scratch: ([path], {})


def workload(name):
    """The workload called name, or None: 'program:PATH' names a program."""
    if name.startswith("program:"):
        return program(name[len("program:"):])
    return WORKLOADS.get(name)


def missing_tool(name):
    tool = {"python": None, "sort": "sort", "gcc": "gcc", "git": "git", "sqlite3": "sqlite3"}.get(name)
    return tool if tool and shutil.which(tool) is None else None


def run(argv, scratch, env_extra, preload, options=None):
    """Runs one workload; returns (status, stdout, stderr, peak kilobytes)."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.update(env_extra)
    if preload:
        env["LD_PRELOAD"] = preload
    if options is not None:
        env["ANT_OPTIONS"] = options
    proc = subprocess.Popen(argv, cwd=scratch, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    return proc.returncode, out, err
