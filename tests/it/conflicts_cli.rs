//! `migrate conflicts`: per pair of heads, the merge base, what each side touches and a
//! verdict, proven on SQLite where the SQL runs there; `merge` prints it and
//! `--require-independent` refuses; `rebase` refuses overlapping sides.

use serde_json::Value;

use super::alembic_cli::{alembic, init};
use super::git_fixture::{day, GitFixture, ADA, GRACE};
use super::support::{json, project, run};

fn yaml(id: &str, down: &str, up: &str) -> String {
    let up = up.replace('\n', "\n  ");
    format!("revision: {id}\ndown_revision: {down}\nmessage: {id}\nupgrade: |\n  {up}\ndowngrade: |\n  SELECT 1;\n")
}

/// a1 creates users; two heads on it, each adding `a` and `b`'s SQL.
fn two_heads(a: &str, b: &str) -> tempfile::TempDir {
    project(&[
        (
            "a1.yaml",
            &yaml(
                "a1",
                "null",
                "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);",
            ),
        ),
        ("ha.yaml", &yaml("ha", "a1", a)),
        ("hb.yaml", &yaml("hb", "a1", b)),
    ])
}

fn pair(dir: &std::path::Path, args: &[&str]) -> Value {
    let mut all = vec!["conflicts"];
    all.extend(args);
    let (code, v) = json(dir, &all);
    let pairs = v["pairs"].as_array().expect("pairs");
    assert_eq!(pairs.len(), 1, "{v:#}");
    // The exit status follows the verdicts: 0 only when every pair is independent.
    let expected = if pairs[0]["verdict"] == "independent" {
        0
    } else {
        1
    };
    assert_eq!(code, expected, "{v}");
    pairs[0].clone()
}

#[test]
fn independent_tables_are_independent_and_proven_on_sqlite() {
    let dir = two_heads(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY);",
        "CREATE TABLE invoices (id INTEGER PRIMARY KEY);\nCREATE INDEX ix_inv ON invoices (id);",
    );
    let p = pair(dir.path(), &[]);
    assert_eq!(p["verdict"], "independent");
    assert_eq!(p["proven"], true);
    assert_eq!(p["merge_base"], serde_json::json!(["a1"]));
    assert_eq!(p["shared"], serde_json::json!([]));
    assert_eq!(p["unknown"], serde_json::json!([]));
    let mut heads: Vec<&str> = p["heads"]
        .as_array()
        .expect("heads")
        .iter()
        .map(|h| h.as_str().expect("id"))
        .collect();
    heads.sort();
    assert_eq!(heads, ["ha", "hb"]);
    // The JSON has exactly the keys.
    let mut keys: Vec<&str> = p
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "heads",
            "merge_base",
            "proven",
            "shared",
            "unknown",
            "verdict"
        ]
    );

    let (code, out, _) = run(dir.path(), &["conflicts"]);
    assert_eq!(code, 0);
    assert!(out.contains(": independent (proven on SQLite)\n"), "{out}");
    assert!(out.contains("give the same schema on SQLite"), "{out}");
    let (code, out, _) = run(dir.path(), &["conflicts", "--no-proof"]);
    assert_eq!(code, 0);
    assert!(
        out.contains(": independent\n") && out.contains("read from the SQL alone"),
        "{out}"
    );
}

#[test]
fn both_adding_a_column_to_users_overlap_with_both_revisions_named_and_their_authors() {
    let fx = GitFixture::new();
    fx.write(
        "revisions/a1.yaml",
        &yaml("a1", "null", "CREATE TABLE users (id INTEGER PRIMARY KEY);"),
    );
    fx.commit(ADA, day(0, 9), "a1");
    fx.write(
        "revisions/ha.yaml",
        &yaml("ha", "a1", "ALTER TABLE users ADD COLUMN email TEXT;"),
    );
    fx.commit(ADA, day(1, 9), "ha");
    fx.write(
        "revisions/hb.yaml",
        &yaml(
            "hb",
            "a1",
            "SELECT 1;\nALTER TABLE users ADD COLUMN phone TEXT;",
        ),
    );
    fx.commit(GRACE, day(2, 9), "hb");
    let p = pair(fx.path(), &[]);
    assert_eq!(p["verdict"], "overlapping");
    // Same columns both ways, but in another order: the replay proves the overlap.
    assert_eq!(p["proven"], true, "{p:#}");
    let shared = p["shared"].as_array().expect("shared");
    assert_eq!(shared.len(), 1, "{p:#}");
    assert_eq!(shared[0]["object"], "users");
    assert_eq!(shared[0]["kind"], "table");
    let side = |s: &Value| s.as_array().expect("side")[0].clone();
    let (a, b) = if p["heads"][0] == "ha" {
        (side(&shared[0]["a"]), side(&shared[0]["b"]))
    } else {
        (side(&shared[0]["b"]), side(&shared[0]["a"]))
    };
    assert_eq!(a["revision"], "ha");
    assert_eq!(a["action"], "create column email");
    assert_eq!(a["path"], "revisions/ha.yaml");
    assert_eq!(a["line"], 5, "the statement's line in the file");
    assert_eq!(a["author"], "Ada Lovelace");
    assert_eq!(b["revision"], "hb");
    assert_eq!(b["action"], "create column phone");
    assert_eq!(b["line"], 6);
    assert_eq!(b["author"], "Grace Hopper");
    let (code, out, _) = run(fx.path(), &["conflicts"]);
    assert_eq!(code, 1, "overlapping heads: exit 1\n{out}");
    assert!(out.contains(": overlapping (proven on SQLite)\n"), "{out}");
    assert!(
        out.contains("give different schemas on SQLite (the columns of users (id, email, phone / id, phone, email) come in another order)"),
        "{out}"
    );
    assert!(out.contains("  shared table users:\n"), "{out}");
    assert!(
        out.contains("hb create column phone (revisions/hb.yaml:6, Grace Hopper)"),
        "{out}"
    );
}

#[test]
fn a_foreign_key_to_a_table_the_other_side_drops_overlaps() {
    let dir = two_heads(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));",
        "DROP TABLE users;",
    );
    let p = pair(dir.path(), &[]);
    assert_eq!(p["verdict"], "overlapping");
    let s = &p["shared"][0];
    assert_eq!(s["object"], "users");
    let actions: Vec<&str> = [&s["a"], &s["b"]]
        .iter()
        .flat_map(|side| {
            side.as_array()
                .expect("side")
                .iter()
                .map(|e| e["action"].as_str().expect("action"))
        })
        .collect();
    assert!(
        actions.contains(&"foreign key to table users"),
        "{actions:?}"
    );
    assert!(actions.contains(&"drop table users"), "{actions:?}");
}

#[test]
fn a_statement_the_parser_cannot_read_is_unknown_and_named() {
    let dir = two_heads(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY);",
        "FROB THE users;",
    );
    let p = pair(dir.path(), &[]);
    assert_eq!(p["verdict"], "unknown");
    assert_eq!(p["proven"], false);
    let u = &p["unknown"][0];
    assert_eq!(u["revision"], "hb");
    assert_eq!(u["path"], "revisions/hb.yaml");
    assert_eq!(u["line"], 5);
    assert!(
        u["statement"]
            .as_str()
            .expect("statement")
            .contains("FROB THE users"),
        "{u}"
    );
    let (code, out, _) = run(dir.path(), &["conflicts"]);
    assert_eq!(code, 1, "an unknown pair: exit 1\n{out}");
    assert!(
        out.contains("unknown (hb side): hb at revisions/hb.yaml:5: statement 1 `FROB THE users`"),
        "{out}"
    );
    assert!(
        out.contains("fails"),
        "the replay of hb fails on SQLite: {out}"
    );
}

#[test]
fn merge_prints_the_verdict_and_require_independent_refuses_overlap() {
    let dir = two_heads(
        "ALTER TABLE users ADD COLUMN email TEXT;",
        "ALTER TABLE users ADD COLUMN phone TEXT;",
    );
    let (code, _, err) = run(
        dir.path(),
        &["merge", "-m", "join", "--require-independent"],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(": overlapping\n"), "the verdict first: {err}");
    assert!(
        err.contains("merge refused (--require-independent)"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("revisions"))
            .expect("dir")
            .count(),
        3,
        "nothing written"
    );
    // Rebasing would change the order they run in: refused too.
    let (code, _, err) = run(dir.path(), &["rebase", "hb", "--onto", "ha"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("`migrate conflicts` says hb and ha are overlapping (table users)"),
        "{err}"
    );
    // Without the flag the merge is written, after the verdict.
    let (code, out, err) = run(dir.path(), &["merge", "-m", "join"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains(": overlapping\n"), "{err}");
    let (code, out, _) = run(dir.path(), &["conflicts"]);
    assert_eq!((code, out.starts_with("one head")), (0, true), "{out}");

    let dir = two_heads(
        "CREATE TABLE a (id INTEGER);",
        "CREATE TABLE b (id INTEGER);",
    );
    let (code, out, err) = run(
        dir.path(),
        &["merge", "-m", "join", "--require-independent"],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains(": independent"), "{err}");
}

#[test]
fn conflicts_base_compares_the_heads_a_merge_would_make() {
    let fx = GitFixture::new();
    fx.write(
        "revisions/a1.yaml",
        &yaml("a1", "null", "CREATE TABLE users (id INTEGER PRIMARY KEY);"),
    );
    fx.commit(ADA, day(0, 9), "a1");
    fx.branch("feature");
    fx.write("revisions/m1.yaml", &yaml("m1", "a1", "DROP TABLE users;"));
    fx.commit(ADA, day(1, 9), "m1");
    fx.checkout("feature");
    fx.write(
        "revisions/f1.yaml",
        &yaml("f1", "a1", "CREATE INDEX ix_users ON users (id);"),
    );
    fx.commit(GRACE, day(2, 9), "f1");
    let (code, out, _) = run(fx.path(), &["conflicts"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("one head (f1)"), "alone, one head: {out}");
    let p = pair(fx.path(), &["--base", "main"]);
    assert_eq!(p["verdict"], "overlapping");
    assert_eq!(p["merge_base"], serde_json::json!(["a1"]));
    assert_eq!(p["shared"][0]["object"], "users");
}

#[test]
fn an_alembic_projects_op_calls_are_compared() {
    let (_tmp, root) = init("generic");
    alembic(&root, &["revision", "-m", "base", "--rev-id", "0001"]);
    alembic(&root, &["revision", "-m", "side a", "--rev-id", "a001"]);
    alembic(
        &root,
        &[
            "revision", "-m", "side b", "--rev-id", "b001", "--head", "0001", "--splice",
        ],
    );
    alembic(
        &root,
        &[
            "revision", "-m", "side c", "--rev-id", "c001", "--head", "0001", "--splice",
        ],
    );
    let versions = root.join("migrations/versions");
    let set_upgrade = |prefix: &str, body: &str| {
        let file = std::fs::read_dir(&versions)
            .expect("versions")
            .flatten()
            .find(|e| e.file_name().to_string_lossy().starts_with(prefix))
            .expect("the revision file")
            .path();
        let text = std::fs::read_to_string(&file).expect("read");
        let start = text.find("def upgrade()").expect("upgrade");
        let end = text.find("def downgrade()").expect("downgrade");
        let head = &text[..start];
        let tail = &text[end..];
        std::fs::write(
            &file,
            format!("{head}def upgrade() -> None:\n{body}\n\n\n{tail}"),
        )
        .expect("write");
    };
    set_upgrade(
        "a001",
        "    op.create_table('orders', sa.Column('id', sa.Integer(), primary_key=True), sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id')))\n    op.create_index('ix_orders_user', 'orders', ['user_id'])\n    with op.batch_alter_table('items') as batch_op:\n        batch_op.add_column(sa.Column('sku', sa.String()))\n    op.bulk_insert(sa.table('orders', sa.column('id')), [{'id': 1}])",
    );
    set_upgrade(
        "b001",
        "    op.alter_column('users', 'name', new_column_name='full_name')\n    op.create_unique_constraint('uq_x', 'invoices', ['n'])\n    op.execute(\"UPDATE users SET name = 'x'\")",
    );
    set_upgrade("c001", "    op.create_table('audit', sa.Column('id', sa.Integer()))\n    op.rename_table('logs', 'old_logs')\n    op.drop_constraint('ck', 'logs')");
    // The real Alembic reads the edited project: the files are valid revisions.
    assert_eq!(alembic(&root, &["heads"]).lines().count(), 3);
    let (code, v) = json(&root, &["conflicts"]);
    // a001 and b001 overlap: one such pair is enough for exit 1.
    assert_eq!(code, 1, "{v}");
    let pairs = v["pairs"].as_array().expect("pairs");
    assert_eq!(pairs.len(), 3);
    let find = |x: &str, y: &str| {
        pairs
            .iter()
            .find(|p| {
                let h: Vec<&str> = p["heads"]
                    .as_array()
                    .expect("h")
                    .iter()
                    .map(|s| s.as_str().expect("s"))
                    .collect();
                h.contains(&x) && h.contains(&y)
            })
            .expect("the pair")
            .clone()
    };
    let ab = find("a001", "b001");
    assert_eq!(
        ab["verdict"], "overlapping",
        "a's foreign key to users, b renames a column of users"
    );
    assert_eq!(ab["shared"][0]["object"], "users");
    assert_eq!(ab["proven"], false, "Python revisions are not replayed");
    let ac = find("a001", "c001");
    assert_eq!(ac["verdict"], "independent", "{ac:#}");
    let bc = find("b001", "c001");
    assert_eq!(bc["verdict"], "independent", "{bc:#}");
    let (_, out, _) = run(&root, &["conflicts", "a001", "b001"]);
    assert!(
        out.contains("can't run on SQLite (it is an Alembic revision (Python))"),
        "{out}"
    );
    assert!(out.contains("rename column name to full_name"), "{out}");
}
