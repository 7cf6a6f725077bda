"""Sourced by gdb (tests/gdb/gdb_e2e.py) once the scenario program stopped.

Reads the manifest the program wrote, plants gdb's own scribble where the
scenario asks for one, and runs the ant-* commands, each after a marker line
so the driver can split the output. A command's error is printed in its
section rather than ending the script.
"""
import json
import os
import sys

import gdb

sys.path.insert(0, os.environ["ANT_E2E_HERE"])
from gdbrun import MARK  # noqa: E402  (the folder is known only now)

SCRIBBLE = 0x4141414141414141

workdir = os.environ["ANT_E2E_WORKDIR"]
scenario = os.environ["ANT_E2E_SCENARIO"]
with open(os.path.join(workdir, "manifest.json")) as f:
    manifest = json.load(f)
if scenario == "gdb-scribble":
    manifest["kind"] = "header"
    manifest["damaged"] = manifest["blocks"][12][0]
    # The node's site and the high bits of its serial, 16 bytes into it.
    gdb.execute("set {unsigned long}(%d) = %d" % (manifest["damaged"] - 32 + 16, SCRIBBLE))
with open(os.path.join(workdir, "expected.json"), "w") as f:
    json.dump(manifest, f)

probe = manifest["damaged"] or manifest["blocks"][len(manifest["blocks"]) // 2][0]
for name, command in (("walker", "python from antgdb import native; print(native.describe())"),
                      ("heap", "ant-heap --json"), ("walk", "ant-walk --json"),
                      ("block", "ant-block %d --json" % (probe + 5)), ("heap-text", "ant-heap"),
                      ("check", "ant-check --json")):
    print("\n" + MARK + name)
    try:
        gdb.execute(command)
    except gdb.error as e:
        print("gdb error: %s" % e)
gdb.execute("gcore " + os.path.join(workdir, "core"))
