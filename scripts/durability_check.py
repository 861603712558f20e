#!/usr/bin/env python3
"""Reads an `strace -f -yy` trace of minimal-registry and checks, for each
201 the server sent, that what it acknowledged was durable first.

Usage: durability_check.py TRACE KIND:DIGEST_HEX [KIND:DIGEST_HEX ...]

The i-th argument names what the i-th `HTTP/1.1 201` response acknowledged:
`blob:<hex>` (the blob and its repository link) or `manifest:<hex>` (the
manifest, and its tag when pushed by tag). For each object, before the first
byte of its 201, in that request's part of the trace:
  1. an fsync/fdatasync of the file completed before it was renamed,
  2. the rename into its final path completed,
  3. an fsync of the final path's directory completed after the rename.
Exit 1 with a message naming what was missing.
"""
import re
import sys

CALL = re.compile(r"^(\d+)\s+(?:<\.\.\. (\w+) resumed>|(\w+)\()")
FD_PATH = re.compile(r"^\d+\s+(?:fsync|fdatasync)\(\d+<([^>]*)>")
QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
RESPONSE = re.compile(r'^\d+\s+(?:write|writev|sendto|sendmsg)\(\d+<TCP[^>]*>.*HTTP/1\.1 201 ')


def events(lines):
    """(completion index, name, details) of every fsync and rename, and the
    entry indexes of the 201 responses."""
    pending = {}
    done = []
    responses = []
    for i, line in enumerate(lines):
        if RESPONSE.match(line):
            responses.append(i)
        m = CALL.match(line)
        if not m:
            continue
        pid, resumed, name = m.group(1), m.group(2), m.group(3)
        if resumed:
            entry = pending.pop((pid, resumed), None)
            if entry is not None and line.rstrip().endswith("= 0"):
                done.append((i, resumed, entry))
            continue
        if name in ("fsync", "fdatasync"):
            fd = FD_PATH.match(line)
            detail = fd.group(1) if fd else ""
        elif name in ("rename", "renameat", "renameat2"):
            quoted = QUOTED.findall(line)
            detail = tuple(quoted[-2:]) if len(quoted) >= 2 else None
        else:
            continue
        if "<unfinished ...>" in line:
            pending[(pid, name)] = detail
        elif re.search(r"= 0\s*$", line):
            done.append((i, name, detail))
    return done, responses


def durable(done, start, end, dest_test, what):
    """Checks the three steps for the first rename in (start, end) whose
    destination passes `dest_test`."""
    renames = [
        (i, d) for i, n, d in done
        if n.startswith("rename") and d and start < i < end and dest_test(d[1])
    ]
    if not renames:
        return f"{what}: no rename into place before its 201"
    at, (source, dest) = renames[0]
    synced = [i for i, n, d in done if n in ("fsync", "fdatasync") and d == source and i < at]
    if not synced:
        return f"{what}: {source} was not fsynced before its rename to {dest}"
    parent = dest.rsplit("/", 1)[0]
    dir_synced = [i for i, n, d in done if n == "fsync" and d == parent and at < i < end]
    if not dir_synced:
        return f"{what}: the directory {parent} was not fsynced after the rename, before the 201"
    return None


def main():
    trace, acks = sys.argv[1], sys.argv[2:]
    with open(trace, encoding="utf-8", errors="replace") as f:
        lines = f.readlines()
    done, responses = events(lines)
    if len(responses) < len(acks):
        print(f"expected {len(acks)} responses 201 in the trace, found {len(responses)}")
        return 1
    failures = []
    previous = -1
    for ack, end in zip(acks, responses):
        kind, hex_digest = ack.split(":", 1)
        checks = []
        if kind == "blob":
            checks.append((lambda d, h=hex_digest: "/blobs/" in d and d.endswith("/" + h), f"blob {hex_digest[:12]}"))
            checks.append((lambda d, h=hex_digest: "/_links/" in d and h in d, f"link of blob {hex_digest[:12]}"))
        elif kind == "manifest":
            checks.append((lambda d, h=hex_digest: "/_manifests/" in d and h in d, f"manifest {hex_digest[:12]}"))
            checks.append((lambda d: "/_tags/" in d, f"tag of manifest {hex_digest[:12]}"))
        else:
            print(f"unknown kind {kind}")
            return 2
        for test, what in checks:
            problem = durable(done, previous, end, test, what)
            if problem:
                failures.append(problem)
            else:
                print(f"ok - {what}: file fsynced, renamed into place, directory fsynced, then 201")
        previous = end
    for problem in failures:
        print(f"not ok - {problem}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
