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
        Some("DIR/models.yaml:4: unknown type 'varchr(10)' for column t.a (known: smallint, integer, bigint, boolean, text, string(n), numeric(p,s), float, double, date, time, timestamp, timestamptz, uuid, json, bytes)")
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
