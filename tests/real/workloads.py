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

# Programs full of small objects, each a few seconds under glibc. Their
# output is the same under every allocator; so is the sequence of their
# allocations, since hash seeds are fixed.

# perl: a hash of 300,000 arrays of three or four short strings, half of
# the keys deleted, 150,000 new ones.
PERL_HASH_OF_ARRAYS = r"""
my %h;
for my $i (0 .. 299999) {
    my $k = "key" . ($i * 7919 % 300007);
    push @{ $h{$k} }, "a$i", "b" . ($i % 977), "c" . ($i * 31 % 1013);
    push @{ $h{$k} }, "d$i" if $i % 3 == 0;
}
my ($arrays, $strings, $bytes) = (0, 0, 0);
for my $k (keys %h) {
    $arrays++;
    for my $s (@{ $h{$k} }) { $strings++; $bytes += length $s; }
}
for my $i (0 .. 299999) { delete $h{"key" . ($i * 7919 % 300007)} if $i % 2; }
for my $i (0 .. 149999) { push @{ $h{"new$i"} }, "x$i", "y"; }
my $left = 0;
$left += scalar @{ $h{$_} } for keys %h;
print "$arrays $strings $bytes ", scalar(keys %h), " $left\n";
"""

# python3 with PYTHONMALLOC=malloc: every object through malloc, pymalloc
# bypassed, as when one debugs a C extension's heap. Tuples, small strings,
# small dicts and lists, an index of lists, a sorted sample; three rounds.
PYTHON_SMALL_OBJECTS = r"""
total = 0
for round in range(3):
    rows = []
    for i in range(120000):
        name = "n%d" % (i * 7919 % 120011)
        rows.append((i, name, {"id": i, "name": name, "tag": name[-2:]}, [i, name[:3]]))
    index = {}
    for row in rows:
        index.setdefault(row[2]["tag"], []).append(row)
    total += sum(len(r[1]) + len(r[2]) + len(r[3]) for r in rows)
    total += sum(len(v) for v in index.values()) + len(index)
    pairs = sorted((r[1], r[0]) for r in rows[::7])
    total += pairs[0][1] + pairs[-1][1]
    del rows, index, pairs
print(total)
"""

# bash: an array of 200,000 strings by appends, slices of it, an array
# built from two others, an associative array of 100,000 keys.
BASH_ARRAYS = r"""
a=()
for ((i = 0; i < 200000; i++)); do
    a+=("item$i")
done
b=("${a[@]:1000:100000}")
c=()
for ((i = 0; i < ${#b[@]}; i += 3)); do
    c+=("${b[i]}-${a[i * 2]}")
done
declare -A seen
for ((i = 0; i < 100000; i++)); do
    seen["k$((i * 7919 % 100003))"]=$i
done
unset 'a[5]' 'a[7]'
d=("${a[@]: -50000}" "${c[@]:0:20000}")
total=0
for s in "${d[@]}"; do
    total=$((total + ${#s}))
done
echo "${#a[@]} ${#b[@]} ${#c[@]} ${#seen[@]} ${#d[@]} $total ${c[12345]} ${d[-1]}"
"""

# awk: each line's fields concatenated into a long string, cut up again
# past 20,000 bytes; a row of the fields in reverse; 5,000 strings each
# grown by a piece of every 5,000th row.
AWK_CONCAT = r"""
{
    s = s $3 ":" $2 ","
    row = ""
    for (j = NF; j >= 1; j--)
        row = row "<" $j ">"
    k = NR % 5000
    rows[k] = rows[k] substr(row, 1, 12)
    if (length(s) > 20000) {
        total += length(s)
        pieces += split(s, parts, ",")
        s = ""
    }
}
END {
    for (k in rows) {
        total += length(rows[k])
        count++
    }
    print NR, total, pieces, count, substr(rows[4999], 1, 40)
}
"""

# Debian's default awk: mawk (Priority: required); gawk only if installed
# by hand. Named, not `awk`, so the row means one program everywhere.
AWK = "mawk"

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ant", "GIT_AUTHOR_EMAIL": "ant@example.invalid",
    "GIT_COMMITTER_NAME": "Ant", "GIT_COMMITTER_EMAIL": "ant@example.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
}


def python_objects(scratch):
    return [sys.executable, "-c", PYTHON_OBJECTS], {}


def perl_hash(scratch):
    return ["perl", "-e", PERL_HASH_OF_ARRAYS], {"PERL_HASH_SEED": "0", "PERL_PERTURB_KEYS": "0"}


def python_malloc(scratch):
    return ([sys.executable, "-c", PYTHON_SMALL_OBJECTS],
            {"PYTHONMALLOC": "malloc", "PYTHONHASHSEED": "0"})


def bash_arrays(scratch):
    return ["bash", "--norc", "--noprofile", "-c", BASH_ARRAYS], {"LC_ALL": "C"}


def awk_concat(scratch):
    path = os.path.join(scratch, "fields.txt")
    if not os.path.exists(path):
        with open(path + ".tmp", "w") as f:
            for i in range(900000):
                f.write("f%d %d w%d %d %s\n" % (i, i * 7919 % 10007, i % 613, i % 97, "abcdefghij"[:i % 11]))
        os.replace(path + ".tmp", path)
    return [AWK, AWK_CONCAT, "fields.txt"], {"LC_ALL": "C"}


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
    "perl": perl_hash,
    "python-malloc": python_malloc,
    "bash": bash_arrays,
    "awk": awk_concat,
}


def program(path):
    """A program of our own, given by path, run with no arguments."""
    return lambda scratch: ([path], {})


def workload(name):
    """The workload called name, or None: 'program:PATH' names a program."""
    if name.startswith("program:"):
        return program(name[len("program:"):])
    return WORKLOADS.get(name)


# The program each workload needs, and its Debian package.
TOOLS = {
    "sort": ("sort", "coreutils"), "gcc": ("gcc", "gcc"), "git": ("git", "git"),
    "sqlite3": ("sqlite3", "sqlite3"), "perl": ("perl", "perl-base"), "bash": ("bash", "bash"),
    "awk": (AWK, "mawk"),
}


def missing_tool(name):
    tool = TOOLS.get(name, (None, None))[0]
    return tool if tool and shutil.which(tool) is None else None


def package(name):
    """The Debian package of the program a workload needs, or None."""
    return TOOLS.get(name, (None, None))[1]


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
