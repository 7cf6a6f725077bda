"""ant-leaks and ant-refs end to end: leaks.c plants blocks behind each kind
of root and leaks of each kind and writes what it planted; gdb stops it,
and ant-leaks must name exactly the planted leaks with their kinds, live
and on a core written there; ant-refs must name the root that holds each
reachable block.

Usage: leaks_e2e.py EXTENSION PROGRAM WORKDIR
"""
import os
import sys

import gdbrun


def planted(path):
    """[(kind, root, mem)] as leaks.c wrote them."""
    with open(path) as lines:
        return [(kind, root, int(mem)) for kind, root, mem in (line.split() for line in lines)]


def expected_leaks(blocks):
    return {mem: kind for kind, _, mem in blocks if kind != "reachable"}


def leaks_found(text, where, failures):
    report = gdbrun.first_json(text)
    if report is None:
        failures.append("%s: ant-leaks printed no JSON:\n%s" % (where, text))
        return None
    return {row["mem"]: row["kind"] for row in report["leaked"]}


def compare(found, expected, where, failures):
    if found is None:
        return
    for mem, kind in sorted(expected.items()):
        if found.get(mem) != kind:
            failures.append("%s: mem 0x%x should be %s, ant-leaks says %s"
                            % (where, mem, kind, found.get(mem, "reachable")))
    for mem, kind in sorted(found.items()):
        if mem not in expected:
            failures.append("%s: ant-leaks calls mem 0x%x %s, but it is reachable" % (where, mem, kind))


def holds(root, refs, by_root):
    """Whether one of the references is the kind of root leaks.c used."""
    for ref in refs:
        if root == "register" and ref["root"] == "register":
            return ref["register"] == "r12" and ref["thread"] == 1
        if root == "global" and ref["root"] == "mapping":
            return (ref["symbol"] or "").startswith("keep_global ")
        if root == "library-static" and ref["root"] == "mapping":
            return (ref["symbol"] or "").startswith("kept ")
        if root == "stack" and ref["root"] == "stack":
            return ref["thread"] == 1 and ref["function"] == "main"
        if root == "thread-stack" and ref["root"] == "stack":
            return ref["thread"] != 1 and ref["function"] == "worker"
        if root in ("block", "big-block") and ref["root"] is None:
            holder = by_root["global" if root == "block" else "global-big"]
            return ref["block"] == holder and ref["offset_in_holder"] == (24 if root == "block" else 8000)
        if root in ("mmap", "other-allocator", "tls") and ref["root"] == "mapping":
            return True
        if root == "thread-tls" and ref["root"] in ("mapping", "stack"):
            return True
        if root == "global-big" and ref["root"] is None:
            return ref["block"] == by_root["global"] and ref["offset_in_holder"] == 32
    return False


def main():
    extension, program, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    knows, core = os.path.join(work, "planted.txt"), os.path.join(work, "core")
    for path in (knows, core):
        if os.path.exists(path):
            os.unlink(path)
    failures = []
    status, out, err = gdbrun.run([program, "-ex", "source " + extension, "-ex", "break leaks_stop",
                                   "-ex", "run " + knows] + gdbrun.marked([
                                       ("leaks", "ant-leaks --json"),
                                       ("text", "ant-leaks"),
                                       ("refs-r12", "ant-refs $r12 --json"),
                                       ("gcore", "gcore " + core)]) + ["-ex", "kill"])
    parts = gdbrun.sections(out)
    blocks = planted(knows)
    expected = expected_leaks(blocks)
    by_root = {root: mem for kind, root, mem in blocks if kind == "reachable"}
    compare(leaks_found(parts.get("leaks", ""), "live", failures), expected, "live", failures)
    definite = sum(1 for kind in expected.values() if kind == "definite")
    if "ant-leaks: %d blocks definitely lost" % definite not in err:
        failures.append("live: ant-leaks did not end in its error for %d definite leaks:\n%s"
                        % (definite, err))
    refs = gdbrun.first_json(parts.get("refs-r12", "")) or {"refs": []}
    if refs.get("mem") != by_root["register"] or not holds("register", refs["refs"], by_root):
        failures.append("live: ant-refs $r12 does not name register r12:\n%s" % parts.get("refs-r12"))
    if not os.path.exists(core):
        failures.append("gcore wrote no core:\n%s\n%s" % (out, err))
    else:
        commands = [("leaks", "ant-leaks --json")]
        commands += [("refs-" + root, "ant-refs 0x%x --json" % mem) for root, mem in sorted(by_root.items())]
        status, out, err = gdbrun.run([program, core, "-ex", "source " + extension]
                                      + gdbrun.marked(commands))
        parts = gdbrun.sections(out)
        compare(leaks_found(parts.get("leaks", ""), "core", failures), expected, "core", failures)
        for root, mem in sorted(by_root.items()):
            refs = gdbrun.first_json(parts.get("refs-" + root, "")) or {"refs": []}
            if not holds(root, refs["refs"], by_root):
                failures.append("core: ant-refs of the block held by %s does not name it:\n%s"
                                % (root, parts.get("refs-" + root)))
    print(open(knows).read() if os.path.exists(knows) else "no file of planted blocks")
    print(out)
    if failures:
        print("FAIL:\n" + "\n".join(failures))
        return 1
    print("OK: %d blocks planted, %d leaks named as planted, live and on the core"
          % (len(blocks), len(expected)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
