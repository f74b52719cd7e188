"""Alembic's side of the autogenerate benchmark.

Declares the same 500-table schema as tests/it/autogen_bench.rs with SQLAlchemy and
times alembic.autogenerate.compare_metadata against the live PostgreSQL database
(reflection + compare: what `alembic revision --autogenerate` does before writing).
Prints one markdown table row.
"""

import os
import statistics
import sys
import time

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext


def bench_metadata(tables: int) -> sa.MetaData:
    md = sa.MetaData()
    for i in range(tables):
        a = i - 1 if i >= 1 else tables - 1
        b = i - 2 if i >= 2 else tables - 2 + i
        sa.Table(
            f"t{i}",
            md,
            sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
            sa.Column("ref_a", sa.BigInteger, sa.ForeignKey(f"t{a}.id", name=f"fk_t{i}_ref_a", use_alter=True)),
            sa.Column(
                "ref_b",
                sa.BigInteger,
                sa.ForeignKey(f"t{b}.id", name=f"fk_t{i}_ref_b", ondelete="SET NULL", use_alter=True),
            ),
            sa.Column("name", sa.String(100), nullable=False),
            sa.Column("code", sa.String(20), nullable=False),
            sa.Column("amount", sa.Numeric(12, 2), nullable=False, server_default=sa.text("0")),
            sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
            sa.Column("note", sa.Text),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
            sa.Column("payload", sa.dialects.postgresql.JSONB),
            sa.Index(f"ix_t{i}_name", "name"),
            sa.Index(f"ix_t{i}_code_created", "code", "created_at"),
            sa.Index(f"ux_t{i}_code", "code", unique=True),
        )
    return md


def main() -> int:
    url = os.environ["MIGRATE_BENCH_PG_URL"].replace("postgres://", "postgresql+psycopg2://", 1)
    tables = int(os.environ.get("MIGRATE_BENCH_TABLES", "500"))
    runs = int(os.environ.get("MIGRATE_BENCH_RUNS", "5"))
    md = bench_metadata(tables)
    engine = sa.create_engine(url)
    times = []
    diffs = None
    for _ in range(runs):
        with engine.connect() as conn:
            start = time.perf_counter()
            ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
            diffs = compare_metadata(ctx, md)
            times.append(time.perf_counter() - start)
    print(
        f"| Alembic {__import__('alembic').__version__} / SQLAlchemy {sa.__version__}: "
        f"compare_metadata, {tables} tables | {statistics.median(times):.3f} | n/a | {min(times):.3f} |"
    )
    print(f"alembic found {len(diffs)} difference(s) on the matching schema", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
