//! The "Examples:" block at the end of each command's `--help`.

pub const INIT: &str = "Examples:
  migrate init                  a migrate.yaml and revisions/ here
  migrate init db/schema        the same in db/schema";

pub const REVISION: &str = "Examples:
  migrate revision -m \"add orders\"
  migrate revision -m \"orders from models\" --autogenerate
  migrate revision -m \"billing base\" --head base --branch-label billing";

pub const MERGE: &str = "Examples:
  migrate merge heads -m \"join billing and auth\"
  migrate merge heads --require-independent    refuse heads that touch the same tables";

pub const HEADS: &str = "Examples:
  migrate heads
  migrate heads --verbose --format json";

pub const BRANCHES: &str = "Examples:
  migrate branches --verbose";

pub const HISTORY: &str = "Examples:
  migrate history --indicate-current
  migrate history -r base:head --verbose
  migrate history -r 4f2a:                     from 4f2a up to the heads";

pub const SHOW: &str = "Examples:
  migrate show head
  migrate show 4f2a --format json              a prefix of four or more characters";

pub const GRAPH: &str = "Examples:
  migrate graph
  migrate graph --output dot | dot -Tsvg > graph.svg
  migrate graph --output mermaid";

pub const CHECK: &str = "Examples:
  migrate check
  migrate check --base origin/main --format github   in CI, before the merge
  migrate check --offline                            models.yaml against the revisions";

pub const CONFLICTS: &str = "Examples:
  migrate conflicts
  migrate conflicts --base origin/main --format json";

pub const REBASE: &str = "Examples:
  migrate rebase --onto origin/main --dry-run
  migrate rebase 9c8d --onto 1a2b";

pub const UPGRADE: &str = "Examples:
  migrate upgrade                     to head
  migrate upgrade +1 --dry-run
  migrate upgrade head --sql --dialect postgres > upgrade.sql
  migrate upgrade head --database-url postgres://app@db/app";

pub const DOWNGRADE: &str = "Examples:
  migrate downgrade -1
  migrate downgrade auth@-1            one step down the auth branch
  migrate downgrade base --dry-run";

pub const STAMP: &str = "Examples:
  migrate stamp head                   record head without running SQL
  migrate stamp 4f2a9c1e7b3d --purge   replace every version row
  migrate stamp base:head --sql --dialect mysql";

pub const RESOLVE: &str = "Examples:
  migrate resolve 4f2a9c1e7b3d --applied       the statement in doubt did take effect
  migrate resolve 4f2a9c1e7b3d --rolled-back   it did not: the next upgrade runs it";

pub const CURRENT: &str = "Examples:
  migrate current --verbose
  migrate current --check-heads        exit 1 unless the database is at head";

pub const BLAME: &str = "Examples:
  migrate blame
  migrate blame 4f2a head --format csv";

pub const AUDIT: &str = "Examples:
  migrate audit --author alice --since 2026-01-01
  migrate audit --branch billing --format csv
  migrate audit --applied               who applied each revision, and when";

pub const STATUS: &str = "Examples:
  migrate status
  migrate status --format json --database-url postgres://app@db/app";

pub const DATABASE: &str = "Examples:
  migrate database create
  migrate database reset -y            drop, create, upgrade head";

pub const LINT: &str = "Examples:
  migrate lint
  migrate lint --base origin/main --format github
  migrate lint -r 4f2a: --dialect postgres";

pub const TEST: &str = "Examples:
  migrate test                          each revision on a scratch SQLite file
  migrate test --data -r 4f2a:head
  migrate test --database-url postgres://postgres@127.0.0.1/app";
