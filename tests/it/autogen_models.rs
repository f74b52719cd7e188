//! Bad model files: each is an error naming the file and the line.

use migrate::schema::model::load_models;

fn error_of(text: &str) -> String {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("models.yaml");
    std::fs::write(&path, text).expect("write models.yaml");
    let e = load_models(&path).expect_err("the model is invalid");
    e.to_string()
        .replace(&dir.path().display().to_string(), "DIR")
}

#[test]
fn unknown_type() {
    assert_eq!(
        error_of("tables:\n  t:\n    columns:\n      a: {type: varchr(10)}\n").lines().next(),
        Some("DIR/models.yaml:4: unknown type 'varchr(10)' for column t.a (known: smallint, integer, bigint, boolean, text, string(n), numeric(p,s), float, double, date, time, timestamp, timestamptz, uuid, json, bytes, enum(a, b, ...))")
    );
}

#[test]
fn foreign_key_to_a_missing_table() {
    let e = error_of(
        "tables:\n  t:\n    columns:\n      a: integer\n    foreign_keys:\n      - {columns: [a], references: missing(id)}\n",
    );
    assert_eq!(
        e,
        "DIR/models.yaml:6: foreign key on t(a) references table 'missing', which is not in the model"
    );
}

#[test]
fn foreign_key_to_a_missing_column() {
    let e = error_of(
        "tables:\n  u:\n    columns:\n      id: {type: integer, primary_key: true}\n  t:\n    columns:\n      a: integer\n    foreign_keys:\n      - columns: [a]\n        references: u(nope)\n",
    );
    assert_eq!(
        e,
        "DIR/models.yaml:9: foreign key on t(a) references column 'u.nope', which is not in the model"
    );
}

#[test]
fn duplicate_names() {
    let e = error_of(
        "tables:\n  t:\n    columns:\n      a: integer\n  t:\n    columns:\n      b: integer\n",
    );
    assert!(e.starts_with("DIR/models.yaml:5: invalid YAML: "), "{e}");
    assert!(e.contains("duplicate entry with key \"t\""), "{e}");
    let e = error_of(
        "tables:\n  t:\n    columns:\n      a: integer\n    indexes:\n      - {name: ix_a, columns: [a]}\n  u:\n    columns:\n      a: integer\n    indexes:\n      - {name: ix_a, columns: [a]}\n",
    );
    assert_eq!(
        e,
        "DIR/models.yaml:11: duplicate constraint or index name 'ix_a'"
    );
}

#[test]
fn unknown_key_and_missing_column() {
    let e = error_of("tables:\n  t:\n    columns:\n      a: {type: integer, uniq: true}\n");
    assert!(
        e.starts_with("DIR/models.yaml:4: unknown key 'uniq' in column t.a"),
        "{e}"
    );
    let e = error_of(
        "tables:\n  t:\n    columns:\n      a: integer\n    indexes:\n      - columns: [a, b]\n",
    );
    assert_eq!(
        e,
        "DIR/models.yaml:6: an index names column 'b', which is not in table 't'"
    );
}

#[test]
fn unreadable_file() {
    let e = load_models(std::path::Path::new("/nonexistent/models.yaml")).expect_err("missing");
    assert!(
        e.to_string()
            .starts_with("/nonexistent/models.yaml: cannot read the model file"),
        "{e}"
    );
}

#[test]
fn set_null_on_a_not_null_column() {
    let e = error_of(
        "tables:\n  u:\n    columns:\n      id: {type: integer, primary_key: true}\n  t:\n    columns:\n      a: {type: integer, nullable: false}\n    foreign_keys:\n      - {columns: [a], references: u, on_delete: set null}\n",
    );
    assert_eq!(
        e,
        "DIR/models.yaml:9: a foreign key of table 't' sets column 'a' to NULL, but the column is not nullable"
    );
}

/// Check expressions, index conditions and expressions, comments and enums are
/// checked at load: one error each, at the line of the bad value.
#[test]
fn bad_expressions_comments_and_enums() {
    let e = error_of(
        "tables:
  t:
    columns:
      a: integer
      s: {type: \"enum(x, x)\"}
      c: {type: text, comment: [not, text]}
    checks:
      - {name: ck_empty, expr: \"\"}
      - name: ck_bad
        expr: a >
    indexes:
      - {name: ix_w, columns: [a], where: \"a > 0 ) OR (1\"}
      - {expressions: [lower(c)]}
      - {name: ix_e, expressions: [\"lower(c\"]}
      - {name: ix_both, columns: [a], expressions: [lower(c)]}
",
    );
    let lines: Vec<&str> = e.lines().collect();
    assert_eq!(lines.len(), 8, "{e}");
    for (want, line) in [
        (
            "DIR/models.yaml:5: bad enum type 'enum(x, x)' for column t.s",
            0,
        ),
        (
            "DIR/models.yaml:6: the comment of column t.c must be text",
            1,
        ),
        (
            "DIR/models.yaml:8: the expr of a check constraint of table 't' is empty",
            2,
        ),
        (
            "DIR/models.yaml:10: the expr of a check constraint of table 't' does not parse (",
            3,
        ),
        (
            "DIR/models.yaml:12: the where of an index of table 't' does not parse (",
            4,
        ),
        (
            "DIR/models.yaml:13: an expression index of table 't' needs a name",
            5,
        ),
        (
            "DIR/models.yaml:14: an expression of an index of table 't' does not parse (",
            6,
        ),
        (
            "DIR/models.yaml:15: an index of table 't' has both columns and expressions",
            7,
        ),
    ] {
        assert!(
            lines[line].starts_with(want),
            "{want:?} vs {:?}",
            lines[line]
        );
    }
}
