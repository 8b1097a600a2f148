#!/usr/bin/env python3
"""Runs the shell walkthroughs of the user docs as written, and checks what they print.

    docs_walkthroughs.py BUILD_DIR SOURCE_DIR DOC.md...

The rules (docs/architecture.md#tested-docs):

- Every ```sh block of a DOC is run, in document order, in one bash session per DOC (variables and
  background jobs carry from block to block). A block whose fence says ```sh illustrative is not
  run (commands that build, need a network, or show a shape rather than a session).
- The session starts in a fresh temporary directory laid out like the repository's root: `examples`,
  `tests`, `docs` and `scripts` link to the source tree, `build/runtime/switchyard` and
  `build/tests/switchyard_fault_server` to the build's programs. So a command written for the
  repository's root runs as written, against a fresh journal (./switchyard.db is new).
- A block is cut into commands: one line, or as many lines as it takes for bash to parse them
  (continuations, loops, heredocs). Each must exit 0, unless the expected output after it says
  `[exit N]`.
- Comment lines after a command (in the same block) that start with "#   " (a hash and three
  spaces) are its expected output: each must match a line of what the command printed (stdout and stderr), in
  order. `...` matches anything (run ids, timings, ports); a run of spaces matches any run of
  whitespace; the match may start and end anywhere in the line. Other comments are prose.

On the first failure it prints the doc, the line, the command, its exit status and output, and the
expected line that did not match, and exits 1. All background processes a doc starts are killed at
the end (each doc runs in a process group of its own).
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

EXPECT_PREFIX = "#   "
EXIT_RE = re.compile(r"^\[exit (\d+)\]$")
TIMEOUT_S = 180


class Command:
    def __init__(self, doc, line, text):
        self.doc, self.line, self.text = doc, line, text
        self.expected = []  # (line number, pattern text)
        self.exit = 0


def parses(text):
    """True when bash can parse text as a complete command list (an open here-document is
    only a warning to bash: any message counts as incomplete)."""
    check = subprocess.run(["bash", "-n"], input=text, text=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
    return check.returncode == 0 and not check.stderr


def blocks(doc_path):
    """Yields (first line number, [lines]) of every ```sh block that is meant to run."""
    lines = open(doc_path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        fence = lines[i].strip()
        if fence.startswith("```") and fence != "```":
            info = fence[3:].split()
            body_start = i + 1
            j = body_start
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            if info and info[0] == "sh" and "illustrative" not in info[1:]:
                yield body_start + 1, lines[body_start:j]
            i = j + 1
        else:
            i += 1


def commands(doc_path):
    out = []
    for first, body in blocks(doc_path):
        pending, pending_line, last = [], None, None
        for k, line in enumerate(body):
            number = first + k
            if not pending:
                stripped = line.strip()
                if line.startswith(EXPECT_PREFIX) and last is not None:
                    expect = line[len(EXPECT_PREFIX):].strip()
                    m = EXIT_RE.match(expect)
                    if m:
                        last.exit = int(m.group(1))
                    elif expect:
                        last.expected.append((number, expect))
                    continue
                if not stripped or stripped.startswith("#"):
                    continue
                pending_line = number
            pending.append(line)
            text = "\n".join(pending)
            if not text.endswith("\\") and parses(text + "\n"):
                last = Command(doc_path, pending_line, text)
                out.append(last)
                pending = []
        if pending:
            sys.exit(f"{doc_path}:{pending_line}: the block ends inside a command:\n"
                     + "\n".join(pending))
    return out


def pattern(expect):
    parts = [re.sub(r"\\\s+", r"\\s+", re.escape(p)) for p in re.split(r"\s*\.\.\.\s*", expect)]
    joined = ".*".join(parts)
    return re.compile(joined)


def layout(work, build, source):
    for name in ("examples", "tests", "docs", "scripts"):
        os.symlink(os.path.join(source, name), os.path.join(work, name))
    for program in ("runtime/switchyard", "tests/switchyard_fault_server"):
        target = os.path.join(build, program)
        if not os.access(target, os.X_OK):
            sys.exit(f"not built: {target}")
        os.makedirs(os.path.join(work, "build", os.path.dirname(program)), exist_ok=True)
        os.symlink(target, os.path.join(work, "build", program))


def run_doc(doc, build, source):
    cmds = commands(doc)
    work = tempfile.mkdtemp(prefix="switchyard-docs-")
    results = os.path.join(work, ".walkthrough")
    os.makedirs(results)
    layout(work, build, source)
    script = ["cd " + work]
    for n, c in enumerate(cmds):
        script.append("{\n" + c.text + "\n} >%s/%d.out 2>&1 </dev/null" % (results, n))
        script.append("echo $? >%s/%d.rc" % (results, n))
        script.append('[ "$(cat %s/%d.rc)" = %d ] || exit 100' % (results, n, c.exit))
    proc = subprocess.Popen(["bash", "-c", "\n".join(script)], cwd=work, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        shell_out, _ = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        shell_out = f"(timed out after {TIMEOUT_S} s)"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()

    failure = None
    ran = matched = 0
    for n, c in enumerate(cmds):
        rc_path = os.path.join(results, "%d.rc" % n)
        if not os.path.exists(rc_path):
            failure = failure or (c, None, "(not run: the session stopped before it)\n" + shell_out)
            break
        ran += 1
        output = open(os.path.join(results, "%d.out" % n), encoding="utf-8",
                      errors="replace").read()
        rc = int(open(rc_path).read())
        if rc != c.exit:
            failure = (c, None, f"exit status {rc}, the doc implies {c.exit}\n" + output)
            break
        lines = output.split("\n")
        at = 0
        for number, expect in c.expected:
            regex = pattern(expect)
            hit = next((i for i in range(at, len(lines)) if regex.search(lines[i])), None)
            if hit is None:
                failure = (c, number, f"expected (line {number}): {expect}\nprinted:\n{output}")
                break
            at = hit + 1
            matched += 1
        if failure:
            break
    shutil.rmtree(work, ignore_errors=True)
    if failure:
        c, _, detail = failure
        print(f"FAIL {c.doc}:{c.line}:\n$ {c.text}\n{detail}")
        return False
    print(f"ok   {doc}: {ran} command(s), {matched} expected line(s) matched")
    return True


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    build, source = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    for tool in ("bash", "curl", "jq", "openssl"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (scripts/install-deps installs it)")
    ok = True
    for doc in sys.argv[3:]:
        ok = run_doc(os.path.join(source, doc), build, source) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
