"""--output FILE without gdb: a regular file is replaced whole or not at
all; a device, a FIFO or gdb's own stdout is written as the text comes,
and never replaced."""
import glob
import os
import stat
import subprocess
import tempfile
import unittest

import gdbpath  # noqa: F401
from antgdb.errors import UsageError
from antgdb.output import OutputFile

TEXT = "Ant heap at 0x1000\n  blocks  3 (\u00e9)\n"


def nothing():
    pass


def leftovers(directory):
    return glob.glob(os.path.join(directory, ".ant-output-*"))


def put_back(device, before):
    """False, and the device made again, if a file was renamed over it: as
    root a regression would otherwise leave the machine without /dev/null."""
    now = os.stat(device)
    if stat.S_ISCHR(now.st_mode) and now.st_rdev == before.st_rdev:
        return True
    os.unlink(device)
    os.mknod(device, before.st_mode, before.st_rdev)
    os.chmod(device, stat.S_IMODE(before.st_mode))
    return False


class RegularFileTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "out.txt")

    def tearDown(self):
        self.dir.cleanup()

    def read(self, path=None):
        with open(path or self.path, encoding="utf-8") as f:
            return f.read()

    def test_written_whole_on_commit(self):
        out = OutputFile(self.path, nothing)
        self.assertFalse(out.direct)
        out.write(TEXT)
        self.assertFalse(os.path.exists(self.path))
        out.commit()
        out.discard()  # what a command's finally does: nothing now
        self.assertEqual(self.read(), TEXT)
        self.assertEqual((out.written, out.path), (len(TEXT), os.path.realpath(self.path)))
        mask = os.umask(0)
        os.umask(mask)
        self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode), 0o666 & ~mask)
        self.assertEqual(leftovers(self.dir.name), [])

    def test_discard_keeps_what_was_there(self):
        with open(self.path, "w") as f:
            f.write("before\n")
        out = OutputFile(self.path, nothing)
        out.write(TEXT)
        out.discard()
        self.assertEqual(self.read(), "before\n")
        self.assertEqual(leftovers(self.dir.name), [])

    def test_link_to_a_regular_file_replaces_its_target(self):
        link = os.path.join(self.dir.name, "link")
        os.symlink("out.txt", link)
        out = OutputFile(link, nothing)
        out.write(TEXT)
        out.commit()
        self.assertTrue(os.path.islink(link))
        self.assertEqual(self.read(), TEXT)

    def test_directory_and_missing_directory(self):
        with self.assertRaisesRegex(UsageError, "cannot write .*: it is a directory"):
            OutputFile(self.dir.name, nothing)
        missing = os.path.join(self.dir.name, "no", "x")
        with self.assertRaisesRegex(UsageError, "cannot write %s: No such file" % missing):
            OutputFile(missing, nothing)


class DirectTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def test_dev_null(self):
        before = os.stat("/dev/null")
        try:
            out = OutputFile("/dev/null", nothing)
            out.write(TEXT)
            out.commit()
        finally:
            kept = put_back("/dev/null", before)
        self.assertTrue(kept, "/dev/null was replaced by a file")
        self.assertTrue(out.direct)
        self.assertEqual(out.path, "/dev/null")
        self.assertEqual(leftovers("/dev"), [])

    def test_a_full_device_is_one_clear_error(self):
        out = OutputFile("/dev/full", nothing)
        with self.assertRaisesRegex(UsageError, "^cannot write /dev/full: No space left on device$"):
            out.write(TEXT)
        out.discard()

    def fifo(self):
        path = os.path.join(self.dir.name, "fifo")
        os.mkfifo(path)
        return path

    def test_fifo_through_a_link_gets_the_text_and_stays(self):
        fifo = self.fifo()
        link = os.path.join(self.dir.name, "link")
        os.symlink("fifo", link)
        reader = subprocess.Popen(["cat", fifo], stdout=subprocess.PIPE)
        try:
            out = OutputFile(link, nothing)  # waits for the reader, as a shell's `>` does
            out.write(TEXT[:5])
            out.write(TEXT[5:])
            out.commit()
            got = reader.communicate(timeout=30)[0].decode("utf-8")
        finally:
            reader.kill()
            reader.wait()
        self.assertEqual(got, TEXT)
        self.assertTrue(stat.S_ISFIFO(os.stat(fifo).st_mode))
        self.assertTrue(os.path.islink(link))
        self.assertEqual(leftovers(self.dir.name), [])

    def test_a_reader_that_goes_away_is_one_clear_error(self):
        fifo = self.fifo()
        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        out = OutputFile(fifo, nothing)
        os.close(reader)
        with self.assertRaisesRegex(UsageError, "^cannot write %s: Broken pipe$" % fifo):
            out.write(TEXT)
        out.discard()


class GdbStdoutTest(unittest.TestCase):
    """/dev/stdout as gdb's own: a pipe, or a file the shell redirected it to."""

    def with_stdout(self, target, action):
        saved = os.dup(1)
        try:
            os.dup2(target, 1)
            action()
        finally:
            os.dup2(saved, 1)
            os.close(saved)

    def test_redirected_to_a_file_keeps_what_came_before_and_after(self):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "out.txt")
            target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)

            def command():
                gdb_stdout = open(1, "w", closefd=False)  # buffered, as gdb's may be
                gdb_stdout.write("first\n")
                out = OutputFile("/dev/stdout", gdb_stdout.flush)
                self.assertTrue(out.direct)
                out.write(TEXT)
                out.commit()
                gdb_stdout.write("second\n")
                gdb_stdout.flush()

            try:
                self.with_stdout(target, command)
            finally:
                os.close(target)
            with open(path, encoding="utf-8") as f:
                self.assertEqual(f.read(), "first\n" + TEXT + "second\n")
            self.assertEqual(leftovers(directory), [])

    def test_a_pipe(self):
        read_end, write_end = os.pipe()
        try:
            def command():
                out = OutputFile("/dev/stdout", nothing)
                out.write(TEXT)
                out.commit()

            self.with_stdout(write_end, command)
        finally:
            os.close(write_end)
        with os.fdopen(read_end, encoding="utf-8") as f:
            self.assertEqual(f.read(), TEXT)


if __name__ == "__main__":
    unittest.main()
