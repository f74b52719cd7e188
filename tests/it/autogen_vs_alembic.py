"""Alembic's side of tests/it/autogen_vs_alembic.rs.

The Rust test builds one schema in a live database and lists changes to it; each
change comes here as a set of parameters for the same schema declared with
SQLAlchemy. For each, Alembic's compare_metadata runs against the database (with
compare_type and compare_server_default on, as a careful user sets them) and the
differences it reports are printed, one JSON object: {case: [diff, ...]}.

Usage: python autogen_vs_alembic.py URL DIALECT CASES_JSON
"""

import json
import sys
import warnings

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext


def metadata(dialect: str, p: dict) -> sa.MetaData:
    md = sa.MetaData()
    cols = [
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("email", sa.String(100), nullable=False, comment=p.get("email_comment", "mail")),
        sa.Column("score", sa.Integer, server_default=sa.text(p.get("score_default", "0"))),
        sa.Column("status", sa.Enum(*p.get("enum", ["new", "done"]), name="t_status")),
        sa.Column("created_at", sa.DateTime, server_default=sa.text(p.get("created_default", "now()"))),
        sa.Column("bio", sa.Text),
        sa.CheckConstraint(p.get("check", "score >= 0"), name="ck_t_score"),
    ]
    if dialect == "mysql":
        on_update = " ON UPDATE CURRENT_TIMESTAMP" if p.get("on_update", True) else ""
        cols.append(
            sa.Column("updated_at", sa.DateTime, server_default=sa.text("CURRENT_TIMESTAMP" + on_update))
        )
    if dialect == "postgresql":
        cols.append(sa.Index("ix_t_email_live", "email", postgresql_where=sa.text(p.get("where", "score > 0"))))
        cols.append(sa.Index("ix_t_lower_email", sa.text(p.get("expr", "lower(email)"))))
        cols.append(sa.Index("ix_t_email_hash", "email", postgresql_using=p.get("using", "hash")))
        cols.append(sa.Index("ix_t_email_cover", "email", postgresql_include=p.get("include", ["score"])))
        cols.append(sa.Index("ix_t_bio", "bio"))
    else:
        cols.append(sa.Index("ix_t_bio", "bio", mysql_length={"bio": p.get("bio_length", 50)}))
    t = sa.Table("t", md, *cols, comment=p.get("table_comment", "base comment"))
    score = t.c.score.desc() if p.get("score_desc", True) else t.c.score
    if p.get("score_nulls_last"):
        score = score.nulls_last()
    sa.Index("ix_t_score_desc", score)
    if dialect == "postgresql":
        sa.Table(
            "s",
            md,
            sa.Column(
                "id",
                sa.BigInteger,
                sa.Identity(always=p.get("identity_always", True), start=p.get("identity_start", 10)),
                primary_key=True,
            ),
        )
        ledger = [sa.Column("id", sa.Integer, primary_key=True, autoincrement=False)]
        if p.get("ledger_note"):
            ledger.append(sa.Column("note", sa.Text))
        sa.Table("ledger", md, *ledger, schema="billing")
        sa.Sequence("invoice_no", start=1000, increment=p.get("seq_increment", 1), metadata=md)
        if p.get("new_sequence"):
            sa.Sequence("order_no", start=1, metadata=md)
    return md


def describe(d) -> str:
    """A diff entry without memory addresses, so the same finding reads the same."""
    if isinstance(d, (list, tuple)):
        return "(" + ", ".join(describe(x) for x in d) + ")"
    if isinstance(d, sa.Column):
        return f"Column({d.table.name if d.table is not None else ''}.{d.name})"
    if isinstance(d, (sa.Table, sa.Index, sa.Constraint)):
        return f"{type(d).__name__}({d.name})"
    if isinstance(d, sa.schema.DefaultClause):
        return f"DefaultClause({getattr(d.arg, 'text', d.arg)})"
    if isinstance(d, sa.types.TypeEngine):
        return repr(d)
    return str(d)[:200]


def main() -> int:
    url, dialect, cases = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    engine = sa.create_engine(url)
    out = {}
    with engine.connect() as conn:
        for name, params in cases.items():
            ctx = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "compare_server_default": True,
                    # The model's tables in other schemas are compared too (PostgreSQL).
                    "include_schemas": dialect == "postgresql",
                },
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                diffs = compare_metadata(ctx, metadata(dialect, params))
            out[name] = [describe(d) for d in diffs]
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
