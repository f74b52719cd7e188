#!/usr/bin/env python3
"""Writes a `git fast-import` stream: N commits, each adding one revision file.

Usage: gen_blame_repo.py N [FIRST] [BRANCH_FROM]
The files form one chain (revisions/<id>_rev_<i>.yaml) written by five authors, one
commit per file, with fixed dates so the repository is the same on every run.
FIRST (default 0) starts numbering there and continues refs/heads/main from its tip.
"""
import sys

n = int(sys.argv[1])
first = int(sys.argv[2]) if len(sys.argv) > 2 else 0
authors = [
    ("Ada Lovelace", "ada@example.com"),
    ("Grace Hopper", "grace@example.com"),
    ("Alan Turing", "alan@example.com"),
    ("Edsger Dijkstra", "edsger@example.com"),
    ("Barbara Liskov", "barbara@example.com"),
]
out = sys.stdout.buffer
base_time = 1767225600  # 2026-01-01T00:00:00Z


def rid(i):
    return "r%011d" % i


for i in range(first, first + n):
    name, email = authors[i % len(authors)]
    t = base_time + i * 60
    down = "null" if i == 0 else rid(i - 1)
    body = (
        f"revision: {rid(i)}\n"
        f"down_revision: {down}\n"
        f"message: revision number {i}\n"
        f"upgrade: |\n  CREATE TABLE t{i} (id INTEGER PRIMARY KEY);\n"
        f"downgrade: |\n  DROP TABLE t{i};\n"
    ).encode()
    msg = f"Add revision {i}\n".encode()
    out.write(b"commit refs/heads/main\n")
    out.write(f"mark :{i + 1}\n".encode())
    out.write(f"author {name} <{email}> {t} +0000\n".encode())
    out.write(f"committer {name} <{email}> {t} +0000\n".encode())
    out.write(b"data %d\n" % len(msg) + msg)
    if i == first and first > 0:
        out.write(b"from refs/heads/main^0\n")
    out.write(f"M 100644 inline revisions/{rid(i)}_rev_{i}.yaml\n".encode())
    out.write(b"data %d\n" % len(body) + body + b"\n")
out.write(b"done\n")
