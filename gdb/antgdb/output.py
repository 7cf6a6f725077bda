"""The file a command's --output names, open for the command's text.

A regular file, or a name not taken yet, is written under a temporary name
beside it and takes the name only once the command has written all of it,
so a command that fails leaves whatever was there before. Anything else (a
terminal, a pipe or FIFO, /dev/null, another device) is opened and written
as the text comes, as a shell's `>` would: a rename would replace the
device or FIFO itself, and its directory (/dev) is seldom writable. A file
that gdb's own stdout or stderr already writes to (/dev/stdout, say) is
written through that descriptor, so the text lands between what gdb prints
before and after it instead of over it.

No gdb here, so that the unit tests need none.
"""
import os
import stat
import tempfile

from .errors import UsageError


def _cannot_write(path, error):
    return UsageError("cannot write %s: %s" % (path, error.strerror or error))


def _gdb_descriptor(status):
    """gdb's stdout or stderr if it writes to the file of this status."""
    for fd in (1, 2):
        try:
            mine = os.fstat(fd)
        except OSError:
            continue
        if (mine.st_dev, mine.st_ino) == (status.st_dev, status.st_ino):
            return fd
    return None


class OutputFile:
    """write() the text, then commit(); discard() on failure, and after
    commit() it does nothing. `path` is the name to tell the user.
    flush_first (gdb.flush) runs before each direct write: what gdb has
    buffered for a shared stdout is older than this text."""

    def __init__(self, path, flush_first):
        self.flush_first = flush_first
        expanded = os.path.expanduser(path)
        try:
            status = os.stat(expanded)
        except OSError:
            status = None  # not there yet, or unreachable: mkstemp below says why
        if status is not None and stat.S_ISDIR(status.st_mode):
            raise UsageError("cannot write %s: it is a directory" % path)
        self.temporary = None
        self.written = 0
        shared = None if status is None else _gdb_descriptor(status)
        try:
            if shared is not None:
                self.path, fd = expanded, os.dup(shared)  # shares gdb's file offset
            elif status is not None and not stat.S_ISREG(status.st_mode):
                # /dev/stdout on a pipe names no file realpath could find:
                # the kernel follows the name as given.
                self.path, fd = expanded, os.open(expanded, os.O_WRONLY)
            else:
                # A symbolic link keeps pointing where it did: its target is replaced.
                self.path = os.path.realpath(expanded)
                fd, self.temporary = tempfile.mkstemp(prefix=".ant-output-",
                                                      dir=os.path.dirname(self.path))
        except OSError as error:
            raise _cannot_write(path, error) from None
        self.direct = self.temporary is None  # the text reaches the file as it is written
        if not self.direct:
            mask = os.umask(0)
            os.umask(mask)
            os.fchmod(fd, 0o666 & ~mask)  # as open() would make it, not mkstemp's 0600
        self.file = os.fdopen(fd, "w", encoding="utf-8")

    def write(self, text):
        try:
            if self.direct:
                self.flush_first()
            self.file.write(text)
            if self.direct:
                self.file.flush()  # before gdb prints anything more to the same place
        except OSError as error:
            raise _cannot_write(self.path, error) from None
        self.written += len(text)

    def commit(self):
        try:
            self.file.close()
            if self.temporary is not None:
                os.replace(self.temporary, self.path)
        except OSError as error:
            raise _cannot_write(self.path, error) from None
        self.temporary = None

    def discard(self):
        try:
            self.file.close()
        except OSError:
            pass  # the command's own error is the one to tell
        if self.temporary is not None:
            try:
                os.unlink(self.temporary)
            except OSError:
                pass
            self.temporary = None
