"""gdb in batch mode for the end-to-end tests, and what it printed.

One gdb per run, its settings pinned so that output does not depend on the
user's gdbinit or terminal. Commands whose output a test reads are preceded
by a marker line, so the output splits into one section per command.
"""
import json
import subprocess

MARK = "@@ant-test "
SETTINGS = ["-nx", "-batch", "-iex", "set pagination off", "-iex", "set confirm off",
            "-iex", "set width 0", "-iex", "set style enabled off"]


def run(args, timeout=300):
    """(exit status, stdout, stderr) of gdb with these arguments."""
    proc = subprocess.run(["gdb"] + SETTINGS + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)
    return proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")


def marked(commands):
    """gdb arguments running each (name, command), after its marker."""
    args = []
    for name, command in commands:
        args += ["-ex", "echo \\n%s%s\\n" % (MARK, name), "-ex", command]
    return args


def sections(stdout):
    """{name: what the command printed}, split at the markers."""
    parts, name = {}, None
    for line in stdout.splitlines():
        if line.startswith(MARK):
            name = line[len(MARK):].strip()
            parts[name] = []
        elif name:
            parts[name].append(line)
    return {key: "\n".join(lines).strip() for key, lines in parts.items()}


def first_json(text):
    """The first JSON value in text (what follows it, such as gdb's own
    messages, is left alone); None if there is none. Raises ValueError on
    malformed JSON."""
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    if not starts:
        return None
    return json.JSONDecoder().raw_decode(text[min(starts):])[0]
