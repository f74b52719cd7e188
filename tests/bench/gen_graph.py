#!/usr/bin/env python3
"""Generate a synthetic revision graph for benchmarks, as migrate YAML files and, with
--alembic, as an equivalent Alembic versions directory.

Shapes:
  chain   one long chain with a side branch merged back every 40 revisions
          (the shape Alembic was timed on in issue 2)
  wide    many long-lived parallel branches from one root, merged in the end
  mixed   random branching, merges of 2-7 parents, branch labels, depends_on

Deterministic: the same arguments always give the same files.
"""
import argparse
import os
import random


def build(n, shape, seed):
    rnd = random.Random(seed)
    revs = []  # (id, parents, labels, deps)

    def new_id(i):
        return "r%07d%04x" % (i, rnd.getrandbits(16))

    if shape == "chain":
        main = []
        i = 0
        while len(revs) < n:
            rid = new_id(i)
            i += 1
            if main and len(main) % 40 == 0 and len(main) > 20 and len(revs) + 2 <= n:
                side = new_id(i)
                i += 1
                revs.append((side, [main[-20]], [], []))
                revs.append((rid, [main[-1], side], [], []))
            else:
                revs.append((rid, [main[-1]] if main else [], [], []))
            main.append(rid)
    elif shape == "wide":
        width = max(2, min(500, n // 200))
        root = new_id(0)
        revs.append((root, [], [], []))
        tips = []
        i = 1
        per = max(1, (n - 1 - (width - 1)) // width)
        for b in range(width):
            prev = root
            for _ in range(per):
                rid = new_id(i)
                i += 1
                labels = ["wide%d" % b] if prev == root else []
                revs.append((rid, [prev], labels, []))
                prev = rid
            tips.append(prev)
        # merge the tips in groups of 2-7 until one head is left
        while len(tips) > 1 and len(revs) < n + width:
            k = min(len(tips), rnd.randint(2, 7))
            group, tips = tips[:k], tips[k:]
            rid = new_id(i)
            i += 1
            revs.append((rid, group, [], []))
            tips.append(rid)
    else:  # mixed
        heads = []
        ids = []
        label_no = 0
        for i in range(n):
            rid = new_id(i)
            r = rnd.random()
            labels, deps = [], []
            if not heads:
                parents = []
            elif len(heads) >= 2 and (r < 0.05 or len(heads) > 40):
                k = min(len(heads), rnd.randint(2, 7))
                parents = rnd.sample(heads, k)
            elif r < 0.10 and len(ids) > 10:
                parents = [ids[rnd.randrange(len(ids) // 2, len(ids))]]
                # About one label per 5,000 revisions: teams label long-lived
                # branches, and a label spreads to every descendant.
                if rnd.random() < 0.002:
                    labels = ["lbl%d" % label_no]
                    label_no += 1
            else:
                parents = [rnd.choice(heads)]
            if ids and rnd.random() < 0.01:
                dep = ids[rnd.randrange(len(ids))]
                if dep not in parents:
                    deps = [dep]
            for p in parents:
                if p in heads:
                    heads.remove(p)
            heads.append(rid)
            ids.append(rid)
            revs.append((rid, parents, labels, deps))
        # a final merge so the graph is clean, as teams keep it
        while len(heads) > 1:
            k = min(len(heads), 7)
            group, heads = heads[:k], heads[k:]
            rid = new_id(len(ids))
            ids.append(rid)
            revs.append((rid, group, [], []))
            heads.append(rid)
    return revs


def yaml_list(items):
    return "[" + ", ".join(items) + "]"


def write_migrate(revs, out):
    os.makedirs(out, exist_ok=True)
    for rid, parents, labels, deps in revs:
        if not parents:
            down = "null"
        elif len(parents) == 1:
            down = parents[0]
        else:
            down = yaml_list(parents)
        lines = [
            "revision: %s" % rid,
            "down_revision: %s" % down,
            "message: benchmark revision %s" % rid,
            "create_date: 2026-11-23T10:04:00Z",
        ]
        if labels:
            lines.append("branch_labels: %s" % yaml_list(labels))
        if deps:
            lines.append("depends_on: %s" % yaml_list(deps))
        lines.append("upgrade: |\n  CREATE TABLE t_%s (id INTEGER PRIMARY KEY);" % rid)
        lines.append("downgrade: |\n  DROP TABLE t_%s;" % rid)
        with open(os.path.join(out, "%s_bench.yaml" % rid), "w") as f:
            f.write("\n".join(lines) + "\n")


def write_alembic(revs, out):
    """Alembic-style modules as `alembic revision` writes them: docstring with Revision
    ID / Revises / Create Date, imports, every other file with typed assignments (the
    1.x templates), tuples for merges, labels and depends_on."""
    versions = os.path.join(out, "versions")
    os.makedirs(versions, exist_ok=True)
    with open(os.path.join(out, "env.py"), "w") as f:
        f.write("# not used by heads/history\n")
    with open(os.path.join(out, "script.py.mako"), "w") as f:
        f.write("")
    typed_hint = "Union[str, Sequence[str], None]"
    for i, (rid, parents, labels, deps) in enumerate(revs):
        if not parents:
            down = "None"
        elif len(parents) == 1:
            down = repr(parents[0])
        else:
            down = repr(tuple(parents))
        label_v = repr(tuple(labels)) if labels else "None"
        deps_v = repr(tuple(deps)) if deps else "None"
        typed = i % 2 == 0
        hint = (lambda t: ": %s" % t) if typed else (lambda t: "")
        body = (
            '"""benchmark revision %s\n\nRevision ID: %s\nRevises: %s\n'
            'Create Date: 2026-11-23 10:04:00.000000\n\n"""\n'
            "from typing import Sequence, Union\n\nfrom alembic import op\nimport sqlalchemy as sa\n\n\n"
            "# revision identifiers, used by Alembic.\n"
            "revision%s = %r\ndown_revision%s = %s\nbranch_labels%s = %s\ndepends_on%s = %s\n\n\n"
            "def upgrade()%s:\n    op.create_table('t_%s', sa.Column('id', sa.Integer, primary_key=True))\n\n\n"
            "def downgrade()%s:\n    op.drop_table('t_%s')\n"
            % (rid, rid, ", ".join(parents), hint("str"), rid, hint(typed_hint), down,
               hint(typed_hint), label_v, hint(typed_hint), deps_v,
               " -> None" if typed else "", rid, " -> None" if typed else "", rid)
        )
        with open(os.path.join(versions, "%s_bench.py" % rid), "w") as f:
            f.write(body)
    with open(os.path.join(out, "..", "alembic.ini"), "w") as f:
        f.write("[alembic]\nscript_location = %(here)s/" + os.path.basename(out) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("shape", choices=["chain", "wide", "mixed"])
    ap.add_argument("out")
    ap.add_argument("--alembic", metavar="DIR")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    revs = build(a.n, a.shape, a.seed)
    write_migrate(revs, a.out)
    if a.alembic:
        write_alembic(revs, a.alembic)
    print(len(revs))


if __name__ == "__main__":
    main()
