"""Where the native walker is looked for (antgdb/builds.py): in a source
tree, its builds, build/ first, never one made from another tree or with a
sanitizer gdb cannot host; elsewhere, only beside the package."""
import os
import tempfile
import unittest
from unittest import mock

import gdbpath  # noqa: F401
from antgdb import builds, native


def make_build(tree, name, home, sanitize="", age=0):
    """A build folder under tree with a library file and a CMakeCache.txt
    naming `home`; its library `age` seconds old."""
    library = os.path.join(tree, name, "gdb", builds.LIBRARY)
    os.makedirs(os.path.dirname(library))
    with open(library, "wb") as f:
        f.write(b"\x7fELF not really")
    with open(os.path.join(tree, name, builds.CACHE), "w") as f:
        f.write("# This is the CMakeCache file.\n"
                "CMAKE_HOME_DIRECTORY:INTERNAL=%s\n"
                "ANT_SANITIZE:STRING=%s\n" % (home, sanitize))
    when = os.path.getmtime(library) - age
    os.utime(library, (when, when))
    return library


def make_tree(root):
    """A folder that looks like Ant's source tree."""
    os.makedirs(os.path.join(root, "gdb", "antgdb"))
    for name in ("CMakeLists.txt", os.path.join("gdb", "ant-gdb.py")):
        open(os.path.join(root, name), "w").close()
    return os.path.join(root, "gdb", builds.LIBRARY)


class BuildsTest(unittest.TestCase):
    def setUp(self):
        scratch = tempfile.TemporaryDirectory()
        self.addCleanup(scratch.cleanup)
        self.tree = os.path.join(scratch.name, "ant")
        self.beside = make_tree(self.tree)
        self.elsewhere = os.path.join(scratch.name, "other")
        os.makedirs(self.elsewhere)
        self.addCleanup(builds.chosen.clear)

    def test_build_first_then_the_newest(self):
        old = make_build(self.tree, "build-old", self.tree, age=100)
        build = make_build(self.tree, "build", self.tree, age=1000)
        new = make_build(self.tree, "build-new", self.tree, age=10)
        self.assertEqual(builds.places("", self.beside), [(build, None), (new, None), (old, None)])

    def test_a_library_beside_the_package_comes_first(self):
        build = make_build(self.tree, "build", self.tree)
        open(self.beside, "w").close()
        self.assertEqual(builds.places("", self.beside), [(self.beside, None), (build, None)])

    def test_builds_of_another_tree_are_left_alone(self):
        make_build(self.tree, "build", self.elsewhere)
        os.makedirs(os.path.join(self.tree, "build-bare", "gdb"))
        open(os.path.join(self.tree, "build-bare", "gdb", builds.LIBRARY), "w").close()
        self.assertEqual(builds.places("", self.beside), [])

    def test_sanitizers_that_must_come_first_are_refused(self):
        asan = make_build(self.tree, "build-asan", self.tree, sanitize="address,undefined", age=10)
        ubsan = make_build(self.tree, "build-ubsan", self.tree, sanitize="undefined", age=20)
        found = builds.places("", self.beside)
        self.assertEqual([path for path, _ in found], [asan, ubsan])
        self.assertIn("-fsanitize=address,undefined", found[0][1])
        self.assertIsNone(found[1][1])
        for sanitize in ("thread", "memory", "undefined;address"):
            self.assertIsNotNone(builds.refusal(sanitize), sanitize)
        for sanitize in ("", "undefined", " undefined "):
            self.assertIsNone(builds.refusal(sanitize), sanitize)

    def test_an_installed_extension_looks_beside_itself_only(self):
        installed = os.path.join(self.elsewhere, "share", "ant", "gdb", builds.LIBRARY)
        make_build(os.path.join(self.elsewhere, "share", "ant"), "build", os.path.join(self.elsewhere, "share", "ant"))
        self.assertEqual(builds.places("", installed), [(installed, None)])

    def test_the_environment_then_a_build_loader_decide(self):
        make_build(self.tree, "build", self.tree)
        builds.chosen[:] = [("/b/gdb/libantfastwalk.so", "address")]
        self.assertEqual(builds.places("/x.so", self.beside), [("/x.so", None)])
        (path, why), = builds.places("", self.beside)
        self.assertEqual(path, "/b/gdb/libantfastwalk.so")
        self.assertIn("-fsanitize=address", why)

    def test_every_refusal_is_said(self):
        make_build(self.tree, "build", self.tree)
        make_build(self.tree, "build-asan", self.tree, sanitize="address")
        with mock.patch.object(native, "default_path", return_value=self.beside), \
                mock.patch.dict(os.environ, {native.ENVIRONMENT: ""}):
            loaded, why = native._try_load()
        self.assertIsNone(loaded)
        self.assertTrue(why.startswith("python (%s cannot be used: " % os.path.join(
            self.tree, "build", "gdb", builds.LIBRARY)), why)
        self.assertIn("; %s cannot be used: it is built with -fsanitize=address" % os.path.join(
            self.tree, "build-asan", "gdb", builds.LIBRARY), why)

    def test_a_tree_never_built_says_so(self):
        with mock.patch.object(native, "default_path", return_value=self.beside), \
                mock.patch.dict(os.environ, {native.ENVIRONMENT: ""}):
            self.assertEqual(native._try_load(), (
                None, "python (no libantfastwalk.so beside the package or in a build of its source tree)"))


if __name__ == "__main__":
    unittest.main()
