"""The errors the core raises: each carries a sentence fit to show a user."""


class AntError(Exception):
    """Base of every error the commands turn into a gdb error as it is."""


class Unreadable(AntError):
    """Memory that the layout names cannot be read."""

    def __init__(self, address, size, why=None):
        self.address = address
        self.size = size
        text = "cannot read %d bytes at 0x%x" % (size, address)
        super().__init__(text + (": " + why if why else ""))


class NoHeap(AntError):
    """No Ant root could be found, or it is not initialised yet."""


class UnsupportedVersion(AntError):
    """The root's layout version is not one this extension reads."""


class DamagedRoot(AntError):
    """The root is there but cannot be trusted."""


class UsageError(AntError):
    """A command was given arguments it does not accept."""
