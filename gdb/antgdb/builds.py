"""Where the native walker (libantfastwalk.so) is looked for, in order:

1. ANT_GDB_NATIVE=PATH in the environment: that file and no other;
2. the library a build's loader chose (`source BUILD/gdb/ant-gdb.py`,
   written by CMake from cmake/build-gdb.py.in);
3. the file next to the antgdb package, where `cmake --install` puts it;
4. in a source tree, the builds under it that made one: build/ first, the
   folder the README builds in, then every other build*/, newest library
   first. A build counts only if its CMakeCache.txt names this tree as its
   source.

A library built with a sanitizer that must be the first library of its
process (ASan, TSan, MSan) is never loaded: gdb is not built with it, and
the sanitizer's runtime would end gdb at once. UBSan's runtime loads
anywhere.
"""
import glob
import os

LIBRARY = "libantfastwalk.so"
CACHE = "CMakeCache.txt"
HOSTED_SANITIZERS = ("undefined",)  # sanitizers whose runtime a dlopen can bring
_CACHE_KEYS = {"CMAKE_HOME_DIRECTORY": "home", "ANT_SANITIZE": "sanitize"}

chosen = []  # [(path, sanitizers)] a build's loader named


def refusal(sanitize):
    """Why a library built with `sanitize` (ANT_SANITIZE's value, such as
    "address,undefined") cannot be loaded into gdb, or None."""
    wanted = [name.strip() for name in sanitize.replace(";", ",").split(",") if name.strip()]
    if any(name not in HOSTED_SANITIZERS for name in wanted):
        return ("it is built with -fsanitize=%s, whose runtime must be the first library "
                "of its process, and gdb's is not" % ",".join(wanted))
    return None


def cache_facts(build):
    """{"home": source tree, "sanitize": ANT_SANITIZE} as the build's
    CMakeCache.txt records them; {} when it cannot be read."""
    facts = {}
    try:
        with open(os.path.join(build, CACHE), encoding="utf-8", errors="replace") as cache:
            for line in cache:
                name, _, value = line.partition("=")
                key = _CACHE_KEYS.get(name.partition(":")[0])
                if key:
                    facts[key] = value.rstrip("\n")
    except OSError:
        return {}
    return facts


def tree_libraries(tree):
    """[(library, refusal or None)] of the builds of the source tree at
    `tree` (see the module's docstring), in the order to try them."""
    home = os.path.realpath(tree)
    found = []
    for library in glob.glob(os.path.join(glob.escape(tree), "build*", "gdb", LIBRARY)):
        build = os.path.dirname(os.path.dirname(library))
        facts = cache_facts(build)
        if os.path.realpath(facts.get("home", "")) != home:
            continue
        try:
            age = -os.path.getmtime(library)
        except OSError:
            continue
        first = os.path.basename(build) != "build"
        found.append(((first, age, library), (library, refusal(facts.get("sanitize", "")))))
    return [entry for _, entry in sorted(found)]


def is_source_tree(tree):
    """True for Ant's source tree, not an installed copy of the extension."""
    return (os.path.isfile(os.path.join(tree, "CMakeLists.txt"))
            and os.path.isfile(os.path.join(tree, "gdb", "ant-gdb.py")))


def places(setting, beside):
    """[(library, refusal or None)] to try in order, for ANT_GDB_NATIVE's
    value `setting` (not "0") and `beside`, the library's place next to the
    antgdb package."""
    if setting:
        return [(setting, None)]
    if chosen:
        path, sanitize = chosen[0]
        return [(path, refusal(sanitize))]
    tree = os.path.dirname(os.path.dirname(beside))
    if not is_source_tree(tree):
        return [(beside, None)]
    return ([(beside, None)] if os.path.exists(beside) else []) + tree_libraries(tree)
