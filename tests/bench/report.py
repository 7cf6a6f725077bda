"""Tables for the terminal and for Markdown, and the facts that make a
number readable later: when, on what machine, how loaded."""
import datetime
import os
import platform


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine():
    return "%s, %d cores, Linux %s" % (cpu_model(), os.cpu_count() or 0, platform.release())


def load():
    try:
        return "%.2f" % os.getloadavg()[0]
    except OSError:
        return "unknown"


def today():
    return datetime.date.today().isoformat()


def text_table(header, rows, right):
    """Columns padded to their widest cell; `right` names the columns
    aligned right (the numbers)."""
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]

    def line(cells):
        return "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def markdown_table(header, rows, right):
    def line(cells):
        return "| " + " | ".join(str(c) for c in cells) + " |"

    rule = "|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|"
    return "\n".join([line(header), rule] + [line(r) for r in rows])
