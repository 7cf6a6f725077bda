"""One vocabulary of problems for the allocator and the debugger.

<ant/problems.h> is the source: its kinds (with the values of enum
ant_problem_kind in <ant/ant.h>) and its rules, each a kind with the
invariant of <ant/layout.h> it breaks. antgdb/problems.py must hold the
same tables, every invariant a rule names must be one layout.h defines, and
neither the allocator's sources nor the extension's may name a (kind,
invariant) pair that is not a rule.
"""
import glob
import os
import re
import unittest

from gdbpath import GDB_DIR
from antgdb import problems

TOP = os.path.dirname(GDB_DIR)
INCLUDE = os.path.join(TOP, "allocator", "include", "ant")
SOURCES = os.path.join(TOP, "allocator", "src")


def read(path):
    with open(path) as f:
        return f.read()


def x_rows(text, table):
    """The rows of `#define table(X)` as (first argument, its string literals)."""
    start = text.index("#define %s(X)" % table)
    end = text.find("\n\n", start)
    body = text[start:end if end >= 0 else len(text)].replace("\\\n", "\n")
    rows = []
    for part in re.split(r"\n\s*(?=X\()", body)[1:]:
        inner = part[2:part.rindex(")")]
        rows.append((inner.split(",")[0].strip(), re.findall(r'"((?:[^"\\]|\\.)*)"', inner)))
    return rows


def header_kinds():
    """[(enum name, value, name, meaning)] of ANT_PROBLEM_KINDS."""
    found = []
    for symbol, literals in x_rows(read(os.path.join(INCLUDE, "problems.h")), "ANT_PROBLEM_KINDS"):
        text = read(os.path.join(INCLUDE, "problems.h"))
        value = int(re.search(r"X\(%s,\s*(\d+)," % symbol, text).group(1))
        found.append((symbol, value, literals[0], "".join(literals[1:])))
    return found


def header_rules():
    """[(invariant or None, kind, meaning)] of ANT_PROBLEM_RULES."""
    rows = []
    for first, literals in x_rows(read(os.path.join(INCLUDE, "problems.h")), "ANT_PROBLEM_RULES"):
        if first == "0":
            rows.append((None, literals[0], "".join(literals[1:])))
        else:
            rows.append((literals[0], literals[1], "".join(literals[2:])))
    return rows


class TablesTest(unittest.TestCase):
    def test_kinds_are_the_headers(self):
        kinds = header_kinds()
        self.assertEqual([(name, meaning) for _, _, name, meaning in kinds],
                         list(problems.KINDS.items()))

    def test_kind_values_are_the_enum(self):
        enum = dict(re.findall(r"ANT_PROBLEM_(\w+) = (\d+)", read(os.path.join(INCLUDE, "ant.h"))))
        for symbol, value, name, _ in header_kinds():
            self.assertEqual(int(enum[symbol]), value, name)

    def test_rules_are_the_headers(self):
        self.assertEqual(header_rules(), list(problems.RULES))

    def test_rules_name_kinds(self):
        for invariant, kind, _ in problems.RULES:
            self.assertIn(kind, problems.KINDS, invariant)

    def test_every_invariant_is_defined_once_and_broken_somehow(self):
        layout = read(os.path.join(INCLUDE, "layout.h"))
        section = layout[layout.index(" * Invariants"):layout.index(" * The root\n")]
        defined = re.findall(r"^ \*   (I\d+) ", section, re.M)
        self.assertEqual(len(defined), len(set(defined)))
        named = {invariant for invariant, _, _ in problems.RULES if invariant}
        self.assertEqual(sorted(named, key=lambda i: int(i[1:])), defined)


def c_pairs():
    """{(kind, invariant or None): where} for every problem the allocator's
    sources make: struct ant_problem initializers (every invariant literal
    in one counts, as in a ternary), a kind assigned to one after it (no
    invariant), and the problem() and cache_problem() helpers."""
    names = {symbol: name for symbol, _, name, _ in header_kinds()}
    pairs = {}
    for path in sorted(glob.glob(os.path.join(SOURCES, "*.c"))):
        text = read(path)
        where = os.path.basename(path)
        for body in re.findall(r"struct ant_problem \w+ = \{(.*?)\};", text, re.S):
            kind = re.search(r"\.kind = ANT_PROBLEM_(\w+)", body)
            if kind is None:
                continue  # a helper passing its own kind on: its callers are read below
            invariants = re.findall(r'"(I\d+)"', body) or [None]
            for invariant in invariants:
                pairs[(names[kind.group(1)], invariant)] = where
        self_assigned = re.findall(r"\bp\.invariant = ", text)
        assert not self_assigned, "%s assigns an invariant apart from its kind" % where
        for kind in re.findall(r"p\.kind = ANT_PROBLEM_(\w+);", text):
            pairs[(names[kind], None)] = where
        for kind, invariant in re.findall(
                r'(?:problem|cache_problem)\(\s*(?:&?\w+,\s*)?ANT_PROBLEM_(\w+),\s*[^,]+,\s*"(I\d+)"', text):
            pairs[(names[kind], invariant)] = where
    return pairs


def python_pairs():
    """{(kind, invariant or None): where} for every literal pair the
    extension's sources add."""
    pairs = {}
    for path in sorted(glob.glob(os.path.join(GDB_DIR, "antgdb", "*.py"))):
        text = read(path)
        for kind, invariant in re.findall(r'add\(\s*"([a-z-]+)",\s*(None|"I\d+")', text):
            pairs[(kind, None if invariant == "None" else invariant.strip('"'))] = os.path.basename(path)
    return pairs


class SourcesTest(unittest.TestCase):
    def assert_rules(self, pairs):
        for (kind, invariant), where in pairs.items():
            self.assertIn((kind, invariant), problems.PAIRS,
                          "%s names %s (%s), which is no rule of <ant/problems.h>"
                          % (where, kind, invariant))

    def test_the_allocator_names_only_rules(self):
        pairs = c_pairs()
        self.assertGreater(len(pairs), 15)  # the scan finds what there is
        self.assert_rules(pairs)

    def test_the_extension_names_only_rules(self):
        pairs = python_pairs()
        self.assertGreater(len(pairs), 25)
        self.assert_rules(pairs)
        # Problems without an invariant are the allocator's own reports.
        self.assertNotIn(None, {invariant for _, invariant in pairs})

    def test_the_checker_refuses_other_pairs(self):
        from antgdb.check import Checker

        class Heap:
            layout = type("Layout", (), dict(secret=0, node_size=32, alignment=16, min_block=64,
                                             tail_size=8, poison=0xA5, version=4))()
            reader = None

            def add(self, problem):
                raise AssertionError("added")

        checker = Checker(Heap(), None)
        with self.assertRaisesRegex(ValueError, "no rule"):
            checker.add("header", "I3", "a mismatch")


if __name__ == "__main__":
    unittest.main()
