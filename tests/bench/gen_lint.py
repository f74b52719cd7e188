#!/usr/bin/env python3
"""Generate a project for the lint benchmark: N revisions in one chain, each with
PostgreSQL SQL of the kinds lint reads (tables, columns, indexes, constraints, data),
as migrate YAML files and the same upgrade SQL as one .sql file per revision (for
Squawk). Deterministic: the same arguments always give the same files.

usage: gen_lint.py N OUT_DIR   (writes OUT_DIR/revisions/*.yaml and OUT_DIR/sql/*.sql)
"""
import os
import random
import sys


def statements(i, rnd, tables):
    """The upgrade SQL of revision i: a few statements, some safe, some flagged."""
    kind = i % 6
    if kind == 0 or not tables:
        t = "t%05d" % i
        tables.append(t)
        return [
            "CREATE TABLE %s (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
            "name text NOT NULL, owner_id bigint, created_at timestamptz DEFAULT now())" % t,
            "CREATE INDEX %s_name_idx ON %s (name)" % (t, t),
        ]
    t = rnd.choice(tables)
    if kind == 1:
        return [
            "SET lock_timeout = '2s'",
            "ALTER TABLE %s ADD COLUMN c%d text" % (t, i),
        ]
    if kind == 2:
        return ["CREATE INDEX %s_c%d_idx ON %s (owner_id, created_at)" % (t, i, t)]
    if kind == 3:
        other = rnd.choice(tables)
        return [
            "SET lock_timeout = '2s'",
            "ALTER TABLE %s ADD CONSTRAINT %s_fk%d FOREIGN KEY (owner_id) REFERENCES %s (id) NOT VALID" % (t, t, i, other),
            "ALTER TABLE %s VALIDATE CONSTRAINT %s_fk%d" % (t, t, i),
        ]
    if kind == 4:
        return [
            "UPDATE %s SET name = lower(name) WHERE id IN (SELECT id FROM %s WHERE name <> lower(name) LIMIT 1000)" % (t, t),
        ]
    return ["ALTER TABLE %s ALTER COLUMN name SET NOT NULL" % t]


def main():
    n = int(sys.argv[1])
    out = sys.argv[2]
    rnd = random.Random(11)
    os.makedirs(os.path.join(out, "revisions"), exist_ok=True)
    os.makedirs(os.path.join(out, "sql"), exist_ok=True)
    with open(os.path.join(out, "migrate.yaml"), "w") as f:
        f.write("revisions: revisions\nlint:\n  dialects: [postgres]\n")
    tables = []
    prev = None
    for i in range(n):
        rid = "r%07d" % i
        sql = ";\n".join(statements(i, rnd, tables)) + ";\n"
        body = "".join("  %s\n" % line for line in sql.splitlines())
        with open(os.path.join(out, "revisions", "%s.yaml" % rid), "w") as f:
            f.write("revision: %s\ndown_revision: %s\nmessage: step %d\n"
                    "create_date: 2026-01-01T00:00:00Z\nupgrade: |\n%sdowngrade: |\n  SELECT 1;\n"
                    % (rid, prev or "null", i, body))
        with open(os.path.join(out, "sql", "%s.sql" % rid), "w") as f:
            f.write(sql)
        prev = rid


if __name__ == "__main__":
    main()
