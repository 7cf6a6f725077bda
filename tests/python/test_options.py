"""The commands' arguments, help and completion."""
import os
import tempfile
import unittest

import gdbpath  # noqa: F401
from antgdb import options
from antgdb.errors import UsageError


class ParseTest(unittest.TestCase):
    def test_defaults(self):
        values = options.parse("ant-walk", "")
        self.assertEqual((values["json"], values["used"], values["free"], values["min_size"],
                          values["limit"], values["state"]), (False, False, False, 0, None, None))

    def test_walk_options(self):
        values = options.parse("ant-walk", "--free --min-size 4K --limit=10 --json")
        self.assertEqual((values["free"], values["min_size"], values["limit"], values["json"]),
                         (True, 4096, 10, True))
        self.assertEqual(values["state"], "free")
        self.assertEqual(options.parse("ant-walk", "--cached")["state"], "cached")
        self.assertEqual(options.parse("ant-walk", "--min-size=0x100")["min_size"], 256)
        self.assertEqual(options.parse("ant-walk", "--min-size 2MiB")["min_size"], 2 << 20)

    def test_errors(self):
        cases = [
            ("ant-walk", "--used --free", "exclude each other"),
            ("ant-walk", "--free --cached", "--free and --cached exclude each other"),
            ("ant-walk", "--min-size", "--min-size needs a value"),
            ("ant-walk", "--min-size lots", "wants a number of bytes"),
            ("ant-walk", "--limit 0", "at least 1"),
            ("ant-walk", "--limit 4K", "number of rows"),
            ("ant-walk", "--jsn", "unknown option --jsn"),
            ("ant-walk", "--lim 3", "did you mean --limit"),
            ("ant-heap", "extra", "unexpected argument 'extra'"),
            ("ant-heap", "--json=yes", "--json takes no value"),
            ("ant-block", "--json", "which address?"),
        ]
        for command, text, message in cases:
            with self.assertRaisesRegex(UsageError, message):
                options.parse(command, text)

    def test_block_expression(self):
        values = options.parse("ant-block", "(char *) p + 8 --json")
        self.assertEqual((values["address"], values["json"]), ("(char *) p + 8", True))
        self.assertEqual(options.parse("ant-block", "-- x --y")["address"], "x --y")
        self.assertEqual(options.parse("ant-block", "p - -1")["address"], "p - -1")
        values = options.parse("ant-refs", "&list->head --json")
        self.assertEqual((values["address"], values["json"]), ("&list->head", True))
        with self.assertRaisesRegex(UsageError, "which address"):
            options.parse("ant-refs", "--json")

    def test_output(self):
        self.assertIsNone(options.parse("ant-heap", "")["output"])
        for command in options.SPECS:
            text = {"ant-block": "0x10 --output ~/rows.json", "ant-refs": "p --output ~/rows.json",
                    "ant-map": "--svg ~/rows.json",
                    "ant-diff": "old.json --output ~/rows.json"}.get(command, "--output=~/rows.json")
            self.assertEqual(options.parse(command, text)["output"], "~/rows.json", command)
        with self.assertRaisesRegex(UsageError, "--output needs a value"):
            options.parse("ant-walk", "--json --output")

    def test_root(self):
        self.assertEqual(options.parse("ant-check", "--root &ant_root")["root"], "&ant_root")

    def test_help_flag(self):
        self.assertTrue(options.parse("ant-walk", "--help --bogus-later")["help"])


class HelpTest(unittest.TestCase):
    def test_every_help_reads_well(self):
        for name, spec in options.SPECS.items():
            lines = spec.help().splitlines()
            self.assertTrue(lines[0].endswith("."), name)
            self.assertLessEqual(len(lines[0]), 100, name)
            self.assertTrue(lines[1].startswith("Usage: " + name), name)
            self.assertIn("--help", spec.help())

    def test_check_help_lists_the_kinds(self):
        text = options.SPECS["ant-check"].help()
        for kind in ("overflow", "header", "link", "size", "use-after-free", "accounting",
                     "unreadable", "coalesce"):
            self.assertIn("  " + kind, text)

    def test_heap_help_defines_fragmentation(self):
        self.assertIn("1 - (largest free extent / free bytes)", options.SPECS["ant-heap"].help())


class CompleteTest(unittest.TestCase):
    def test_flags(self):
        # gdb breaks words at "-", so `word` is what follows the last one.
        self.assertEqual(options.complete("ant-walk", "--", ""),
                         ["used", "free", "cached", "quarantined", "min-size", "site", "serial", "requested",
                          "arena", "sort", "reverse", "limit", "json", "output", "root", "help"])
        self.assertEqual(options.complete("ant-walk", "--", "--"),
                         ["--used", "--free", "--cached", "--quarantined", "--min-size", "--site", "--serial",
                          "--requested", "--arena", "--sort", "--reverse", "--limit", "--json",
                          "--output", "--root", "--help"])
        self.assertEqual(options.complete("ant-walk", "--used --l", "l"), ["limit"])
        self.assertEqual(options.complete("ant-walk", "--used --min-", ""), ["size"])
        self.assertEqual(options.complete("ant-heap", "--j", "--j"), ["--json"])
        self.assertEqual(options.complete("ant-heap", "--json ", ""),
                         ["--output", "--root", "--help"])

    def test_a_file_after_output(self):
        with tempfile.TemporaryDirectory() as directory:
            for name in ("rows.json", "rows.txt", "runs", ".hidden"):
                open(os.path.join(directory, name), "w").close()
            os.mkdir(os.path.join(directory, "reports"))
            base = directory + "/r"
            # gdb breaks words at "/" too: `word` is what follows the last one.
            self.assertEqual(options.complete("ant-walk", "--json --output " + base, "r"),
                             ["reports/", "rows.json", "rows.txt", "runs"])
            self.assertEqual(options.complete("ant-check", "--output %s/rows." % directory, "rows."),
                             ["rows.json", "rows.txt"])
            self.assertEqual(options.complete("ant-heap", "--output %s/." % directory, "."),
                             [".hidden"])
            self.assertEqual(options.complete("ant-heap", "--output %s/nothing/x" % directory, "x"),
                             [])
        self.assertEqual(options.complete("ant-check", "--output /tmp/x --j", "j"), ["json"])

    def test_expression_for_block(self):
        self.assertIsNone(options.complete("ant-block", "ptr", "ptr"))
        self.assertEqual(options.complete("ant-heap", "x", "x"), [])


if __name__ == "__main__":
    unittest.main()
