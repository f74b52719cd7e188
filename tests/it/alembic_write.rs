//! The files migrate writes for an Alembic project are the files `alembic revision` and
//! `alembic merge` write for the same inputs, byte for byte: rendered from the
//! project's own `script.py.mako`, named by its `file_template`.

use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use migrate::files::alembic::newfile::{module_file_name, render_module, CreateDate, NewModule};

use super::alembic_cli::{alembic, init, set_ini};

/// The file Alembic wrote for `rev_id` under `dir`: (name, text).
fn written(dir: &Path, rev_id: &str) -> (String, String) {
    let entry = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .find(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.ends_with(".py")
                && std::fs::read_to_string(e.path())
                    .unwrap()
                    .contains(&format!("Revision ID: {rev_id}\n"))
        })
        .unwrap_or_else(|| panic!("Alembic's file for {rev_id}"));
    (
        entry.file_name().to_string_lossy().into_owned(),
        std::fs::read_to_string(entry.path()).unwrap(),
    )
}

/// The create date Alembic put in `text`.
fn create_date(text: &str) -> CreateDate {
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("Create Date: "))
        .expect("a Create Date line");
    let (local, offset) = match line.rsplit_once('+') {
        Some((l, "00:00")) => (l, Some(0)),
        _ => (line, None),
    };
    let local = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M:%S"))
        .expect("Alembic's date format");
    CreateDate {
        local,
        offset_seconds: offset,
    }
}

/// Renders what migrate would write for `m` in `root` and compares it with Alembic's.
fn same_as_alembic(root: &Path, versions: &Path, mut m: NewModule, file_template: &str) {
    let (their_name, their_text) = written(versions, &m.rev_id);
    m.create_date = create_date(&their_text);
    let template = std::fs::read_to_string(root.join("migrations/script.py.mako")).unwrap();
    let ini = std::fs::read_to_string(root.join("alembic.ini")).unwrap_or_default();
    let options = |key: &str| {
        ini.lines()
            .find_map(|l| l.strip_prefix(&format!("{key} = ")))
            .map(str::to_owned)
    };
    let ours = render_module(&template, &m, &options).expect("renders");
    assert_eq!(ours, their_text, "content of {}", m.rev_id);
    let name = module_file_name(file_template, &m, 40).expect("a name");
    assert_eq!(name, their_name, "file name of {}", m.rev_id);
}

fn module(rev: &str, down: &[&str], message: Option<&str>) -> NewModule {
    NewModule {
        rev_id: rev.to_owned(),
        down_revisions: down.iter().map(|s| s.to_string()).collect(),
        branch_labels: Vec::new(),
        depends_on: Vec::new(),
        message: message.map(str::to_owned),
        create_date: CreateDate {
            local: NaiveDateTime::default(),
            offset_seconds: None,
        },
    }
}

/// Grows a project with real Alembic and checks every file it wrote.
fn check_template(template: &str, configure: impl Fn(&Path)) {
    let (_tmp, root) = init(template);
    configure(&root);
    let versions: PathBuf = root.join("migrations/versions");
    let a = |args: &[&str]| {
        alembic(&root, args);
    };
    let file_template = {
        let ini = std::fs::read_to_string(root.join("alembic.ini")).unwrap_or_default();
        ini.lines()
            .find_map(|l| l.strip_prefix("file_template = "))
            .map(|t| t.replace("%%", "%"))
            .unwrap_or_else(|| "%(rev)s_%(slug)s".to_owned())
    };
    a(&["revision", "-m", "create users", "--rev-id", "0001"]);
    same_as_alembic(
        &root,
        &versions,
        module("0001", &[], Some("create users")),
        &file_template,
    );
    a(&[
        "revision",
        "-m",
        "it's \"quoted\" ünïcode, and a very long message past the slug limit",
        "--rev-id",
        "0002",
    ]);
    same_as_alembic(
        &root,
        &versions,
        module(
            "0002",
            &["0001"],
            Some("it's \"quoted\" ünïcode, and a very long message past the slug limit"),
        ),
        &file_template,
    );
    a(&[
        "revision",
        "--rev-id",
        "0003",
        "--head",
        "0001",
        "--splice",
        "--branch-label",
        "side",
    ]);
    let mut m = module("0003", &["0001"], None);
    m.branch_labels = vec!["side".into()];
    same_as_alembic(&root, &versions, m, &file_template);
    a(&[
        "revision",
        "-m",
        "needs",
        "--rev-id",
        "0004",
        "--head",
        "0001",
        "--splice",
        "--depends-on",
        "0002",
    ]);
    let mut m = module("0004", &["0001"], Some("needs"));
    m.depends_on = vec!["0002".into()];
    same_as_alembic(&root, &versions, m, &file_template);
    a(&[
        "revision",
        "-m",
        "needs two",
        "--rev-id",
        "0005",
        "--head",
        "0001",
        "--splice",
        "--depends-on",
        "0002",
        "--depends-on",
        "0003",
    ]);
    let mut m = module("0005", &["0001"], Some("needs two"));
    m.depends_on = vec!["0002".into(), "0003".into()];
    same_as_alembic(&root, &versions, m, &file_template);
    a(&[
        "revision",
        "-m",
        "third head",
        "--rev-id",
        "0006",
        "--head",
        "0001",
        "--splice",
    ]);
    same_as_alembic(
        &root,
        &versions,
        module("0006", &["0001"], Some("third head")),
        &file_template,
    );
    a(&["merge", "heads", "-m", "merge three", "--rev-id", "m1"]);
    // Alembic's heads order: as its revision map lists them.
    let (_, text) = written(&versions, "m1");
    let revises = text
        .lines()
        .find_map(|l| l.strip_prefix("Revises: "))
        .unwrap()
        .to_owned();
    let parents: Vec<&str> = revises.split(", ").collect();
    assert_eq!(parents.len(), 3, "{text}");
    same_as_alembic(
        &root,
        &versions,
        module("m1", &parents, Some("merge three")),
        &file_template,
    );
}

#[test]
fn revision_and_merge_files_match_the_generic_template() {
    check_template("generic", |_| {});
}

#[test]
fn revision_and_merge_files_match_the_async_and_pyproject_templates() {
    check_template("async", |_| {});
    check_template("pyproject", |_| {});
    check_template("pyproject_async", |_| {});
}

#[test]
fn revision_files_match_the_multidb_template() {
    check_template("multidb", |_| {});
}

#[test]
fn a_dated_file_template_and_utc_timezone_match() {
    check_template("generic", |root| {
        let ini = root.join("alembic.ini");
        set_ini(
            &ini,
            "file_template",
            "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d-%%(rev)s_%%(slug)s",
        );
        set_ini(&ini, "timezone", "UTC");
    });
}

#[test]
fn a_project_template_with_typed_lines_and_extra_imports_matches() {
    check_template("generic", |root| {
        let path = root.join("migrations/script.py.mako");
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text.replace(
            "import sqlalchemy as sa\n",
            "import sqlalchemy as sa\nimport typing as t  # noqa: F401\n<%doc>project notes</%doc>\n## a Mako comment line\n% if branch_labels:\n# labelled: ${branch_labels | comma,n}\n% endif\n",
        );
        std::fs::write(path, text).unwrap();
    });
}

#[test]
fn an_unsupported_construct_is_an_error_naming_it() {
    let m = module("x1", &[], Some("m"));
    let err = render_module("${some_function(up_revision)}\n", &m, &|_| None).unwrap_err();
    assert_eq!(err.line, 1);
    assert!(err.message.contains("some_function"), "{err}");
    let err = render_module("a\n<%include file=\"x\"/>\n", &m, &|_| None).unwrap_err();
    assert_eq!(err.line, 2);
    assert!(err.message.contains("<%include"), "{err}");
}

#[test]
fn migrate_merge_and_revision_on_an_alembic_project_are_read_by_alembic() {
    let (_tmp, root) = init("generic");
    alembic(&root, &["revision", "-m", "one", "--rev-id", "0001"]);
    alembic(
        &root,
        &[
            "revision", "-m", "two", "--rev-id", "0002", "--head", "0001",
        ],
    );
    alembic(
        &root,
        &[
            "revision", "-m", "side", "--rev-id", "0003", "--head", "0001", "--splice",
        ],
    );
    let (code, out, err) = super::support::run(&root, &["merge", "-m", "join", "--rev-id", "m9"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "migrations/versions/m9_join.py\n");
    assert_eq!(alembic(&root, &["heads"]), "m9 (head)\n");
    let (code, _, err) =
        super::support::run(&root, &["revision", "-m", "next step", "--rev-id", "r9"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        alembic(&root, &["history", "-r", "m9:"]),
        "m9 -> r9 (head), next step\n0002, 0003 -> m9 (mergepoint), join\n"
    );
    // Autogenerate is Alembic's own on an Alembic project.
    let (code, _, err) = super::support::run(&root, &["revision", "-m", "x", "--autogenerate"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("alembic revision --autogenerate"), "{err}");
}
