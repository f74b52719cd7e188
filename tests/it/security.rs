//! Hardening (issue 13): revision files come from strangers and CI logs are public, so
//! no command may print a database password, whatever form the URL takes and wherever
//! it comes from, and nothing a run records may hold it either.

use std::path::Path;

use sqlx::Connection;

use super::support::{block_on, migrate, project, Server, TestDb};

const SECRET: &str = "Pw5ecr3t";

/// Every database command, in text and JSON.
const COMMANDS: &[&[&str]] = &[
    &["upgrade", "head"],
    &["upgrade", "head", "--dry-run"],
    &["--format", "json", "upgrade", "head", "--dry-run"],
    &["current", "--verbose"],
    &["--format", "json", "current"],
    &["check"],
    &["--format", "json", "check"],
    &["audit", "--applied"],
    &["--format", "json", "audit", "--applied"],
    &["history", "--indicate-current"],
    &["revision", "--autogenerate", "-m", "x"],
    &["downgrade", "base"],
    &["stamp", "head"],
];

/// The URL forms that leaked (or could): unencoded '/', '#', '?' in the password, no
/// scheme, secret query parameters in any case, driver errors (unknown database, denied
/// login, unreachable server), aliases.
fn url_forms(pg: Option<&str>, my: Option<&str>, sqlite: &Path) -> Vec<String> {
    let mut forms = vec![
        format!("u:{SECRET}@127.0.0.1/x"),
        format!("oracle://u:{SECRET}@h/db"),
        format!("sqlite://{}?password={SECRET}", sqlite.display()),
        format!("postgres://postgres:{SECRET}@127.0.0.1:1/x"),
        format!("mysql://root:{SECRET}@127.0.0.1:1/x"),
    ];
    if let Some(name) = pg {
        let host = "127.0.0.1:5432";
        forms.extend([
            format!("postgres://postgres:{SECRET}@{host}/{name}"),
            format!("postgresql://postgres:{SECRET}@{host}/{name}"),
            format!("postgres://postgres:{SECRET}/x@{host}/{name}"),
            format!("postgres://postgres:{SECRET}#x@{host}/{name}"),
            format!("postgres://postgres:{SECRET}?x@{host}/{name}"),
            format!("postgres://postgres@{host}/{name}?sslpassword={SECRET}"),
            format!("postgres://postgres@{host}/{name}?Password={SECRET}"),
            format!("postgres://postgres@{host}/{name}?passfile=/tmp/{SECRET}"),
            format!("postgres://postgres:{SECRET}@{host}/no_such_db_{name}"),
        ]);
    }
    if let Some(name) = my {
        let host = "127.0.0.1:3306";
        forms.extend([
            format!("mysql://root:{SECRET}@{host}/{name}"),
            format!("mariadb://root:{SECRET}/x@{host}/{name}"),
            format!("mysql://root@{host}/{name}?Password={SECRET}"),
            format!("mysql://root@{host}/{name}?password={SECRET}"),
        ]);
    }
    forms
}

/// How the URL reaches `migrate`.
#[derive(Debug, Clone, Copy)]
enum Source {
    Flag,
    Env,
    Config,
}

fn run_with(dir: &Path, source: Source, url: &str, args: &[&str]) -> String {
    let mut cmd = migrate(dir);
    let _ = std::fs::remove_file(dir.join("migrate.yaml"));
    match source {
        Source::Flag => {
            cmd.arg("--database-url").arg(url);
        }
        Source::Env => {
            cmd.env("DATABASE_URL", url);
        }
        Source::Config => {
            let quoted = url.replace('\'', "''");
            std::fs::write(
                dir.join("migrate.yaml"),
                format!("database_url: '{quoted}'\n"),
            )
            .expect("config written");
        }
    }
    let out = cmd.args(args).output().expect("migrate runs");
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every text column of every log row, joined.
fn log_text(server: Server, url: &str) -> String {
    let url = url.to_owned();
    block_on(async move {
        let sql = "SELECT CONCAT(revision, '|', direction, '|', COALESCE(applied_by, ''), '|', \
                   COALESCE(error, ''), '|', COALESCE(git_commit, ''), '|', tool_version) FROM migrate_log";
        let rows: Vec<String> = match server {
            Server::Postgres => {
                let mut c = sqlx::PgConnection::connect(&url).await.expect("connect");
                sqlx::query_scalar(sql).fetch_all(&mut c).await
            }
            Server::Mysql => {
                let mut c = sqlx::MySqlConnection::connect(&url).await.expect("connect");
                sqlx::query_scalar(sql).fetch_all(&mut c).await
            }
        }
        .expect("log rows");
        rows.join("\n")
    })
}

#[test]
fn no_command_prints_a_database_password_in_any_url_form() {
    let dir = project(&[(
        "a_one.yaml",
        "revision: a\nmessage: one\nupgrade: CREATE TABLE t (id INTEGER);\ndowngrade: DROP TABLE t;\n",
    )]);
    let pg = TestDb::new(Server::Postgres);
    let my = TestDb::new(Server::Mysql);
    let sqlite = dir.path().join("s.db");
    let forms = url_forms(
        pg.as_ref().map(|d| d.name.as_str()),
        my.as_ref().map(|d| d.name.as_str()),
        &sqlite,
    );
    let mut leaks = Vec::new();
    for url in &forms {
        for source in [Source::Flag, Source::Env, Source::Config] {
            for args in COMMANDS {
                let out = run_with(dir.path(), source, url, args);
                if out.contains(SECRET) {
                    leaks.push(format!("{url} via {source:?}, migrate {args:?}:\n{out}"));
                }
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "password printed:\n{}",
        leaks.join("\n\n")
    );
    // The runs that connected left log rows; none holds the password.
    if let Some(db) = &pg {
        let log = log_text(Server::Postgres, &db.url);
        assert!(log.contains("a|upgrade"), "the runs did happen: {log}");
        assert!(!log.contains(SECRET), "{log}");
    }
    if let Some(db) = &my {
        let log = log_text(Server::Mysql, &db.url);
        assert!(log.contains("a|upgrade"), "the runs did happen: {log}");
        assert!(!log.contains(SECRET), "{log}");
    }
}

/// A secret file outside the revisions tree, as a stranger's pull request would point at.
fn secret_file() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("id_ed25519"),
        format!("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1r{SECRET}ZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n"),
    )
    .expect("secret written");
    std::fs::write(
        dir.path().join("config.yaml"),
        format!("revision: x\nmessage: m\n{SECRET}_key_{SECRET}: 1\n"),
    )
    .expect("secret written");
    dir
}

fn run_all(dir: &Path, args: &[&str]) -> String {
    let out = migrate(dir).args(args).output().expect("migrate runs");
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn links_out_of_the_revisions_tree_are_refused_and_never_read() {
    let secret = secret_file();
    let dir = project(&[
        ("a.yaml", "revision: a\nmessage: one\n"),
        // Inside the tree, a key YAML reads as one long string: only an excerpt is shown.
        (
            "long.yaml",
            &format!("padding padding padding {SECRET} padding\n"),
        ),
        (
            "longkey.yaml",
            &format!("revision: l\nmessage: m\nzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz{SECRET}: 1\n"),
        ),
    ]);
    let revs = dir.path().join("revisions");
    std::os::unix::fs::symlink(secret.path().join("id_ed25519"), revs.join("k.yaml"))
        .expect("link");
    std::os::unix::fs::symlink(secret.path().join("config.yaml"), revs.join("c.yaml"))
        .expect("link");
    std::os::unix::fs::symlink(secret.path(), revs.join("outside")).expect("link");
    for args in [
        &["check"][..],
        &["heads"],
        &["history"],
        &["--format", "json", "check"],
        &["--format", "json", "heads"],
    ] {
        let out = run_all(dir.path(), args);
        assert!(!out.contains(SECRET), "{args:?} echoed the secret:\n{out}");
        for entry in ["revisions/k.yaml", "revisions/c.yaml", "revisions/outside"] {
            assert!(out.contains(entry), "{args:?} names {entry}:\n{out}");
        }
        assert!(out.contains("outside the revisions directory"), "{out}");
        assert!(out.contains("exit Some(1)"), "{out}");
    }
}

#[test]
fn odd_entries_are_named_and_never_opened() {
    let dir = project(&[
        ("a.yaml", "\u{feff}revision: a\nmessage: one\n"),
        (
            "dir.yaml/b.yaml",
            "revision: b\ndown_revision: a\nmessage: two\n",
        ),
    ]);
    let revs = dir.path().join("revisions");
    std::os::unix::fs::symlink(revs.join("gone"), revs.join("dangling.yaml")).expect("link");
    std::os::unix::fs::symlink("/dev/zero", revs.join("zero.yaml")).expect("link");
    let fifo = revs.join("pipe.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let (tx, rx) = std::sync::mpsc::channel();
    let root = dir.path().to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(run_all(&root, &["check"]));
    });
    let out = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("check finished: it never opens the FIFO or /dev/zero");
    for (entry, says) in [
        ("revisions/dangling.yaml", "symbolic link to nothing"),
        ("revisions/zero.yaml", "outside the revisions directory"),
        ("revisions/pipe.yaml", "FIFO"),
        ("revisions/dir.yaml", "directory named like a revision file"),
    ] {
        let line = out
            .lines()
            .find(|l| l.contains(entry))
            .unwrap_or_else(|| panic!("{entry} not named:\n{out}"));
        assert!(line.contains(says), "{line}");
    }
    // The BOM is not content: a.yaml loads.
    assert!(!out.contains("a.yaml"), "{out}");
    assert!(out.contains("exit Some(1)"), "{out}");
}

#[test]
fn deep_nesting_is_refused_quickly_naming_the_file() {
    let deep = "[".repeat(100_000);
    let dir = project(&[
        ("a.yaml", "revision: a\nmessage: one\n"),
        (
            "deep.yaml",
            &format!("revision: d\nmessage: m\ndown_revision: {deep}\n"),
        ),
        (
            "many.yaml",
            &format!(
                "revision: m\nmessage: m\ndown_revision: [{}]\n",
                vec!["a"; 5000].join(", ")
            ),
        ),
    ]);
    let started = std::time::Instant::now();
    let out = run_all(dir.path(), &["--format", "json", "check"]);
    assert!(
        started.elapsed().as_secs() < 10,
        "took {:?}",
        started.elapsed()
    );
    assert!(
        out.contains("revisions/deep.yaml") && out.contains("nesting deeper than"),
        "{out}"
    );
    assert!(
        out.contains("revisions/many.yaml") && out.contains("at most 1000"),
        "{out}"
    );
    assert!(!out.contains("backtrace"), "{out}");
    std::fs::write(
        dir.path().join("migrate.yaml"),
        format!("database_url: {deep}\n"),
    )
    .expect("config");
    let started = std::time::Instant::now();
    let out = run_all(dir.path(), &["heads"]);
    assert!(
        started.elapsed().as_secs() < 10,
        "took {:?}",
        started.elapsed()
    );
    assert!(
        out.contains("migrate.yaml:1") && out.contains("nesting deeper than"),
        "{out}"
    );
    assert_eq!(out.matches("error").count(), 1, "{out}");
}

#[test]
fn first_hour_mistakes_are_caught() {
    let dir = project(&[]);
    let url = format!("sqlite://{}", dir.path().join("f.db").display());
    let (code, _, err) = super::support::run(dir.path(), &["revision", "-m", "   "]);
    assert_eq!(code, 2, "{err}");
    assert!(std::fs::read_dir(dir.path().join("revisions"))
        .expect("dir")
        .next()
        .is_none());
    let (code, out, err) = super::support::run(dir.path(), &["revision", "-m", "create t"]);
    assert_eq!(code, 0, "{err}");
    let path = dir.path().join(out.trim());
    let text = std::fs::read_to_string(&path).expect("written");
    // The author fills in upgrade only: the downgrade must not pass as a no-op.
    std::fs::write(
        &path,
        text.replace("upgrade: ''", "upgrade: CREATE TABLE t (x INTEGER);"),
    )
    .expect("edit");
    let (code, _, err) = super::support::run(dir.path(), &["--database-url", &url, "upgrade"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) =
        super::support::run(dir.path(), &["--database-url", &url, "downgrade", "base"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("irreversible"), "{err}");
    // A mistyped flag where the target goes is a usage error with clap's suggestion.
    let (code, _, err) =
        super::support::run(dir.path(), &["--database-url", &url, "upgrade", "--dry-rn"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("'--dry-run'"), "{err}");
    let (code, _, err) = super::support::run(
        dir.path(),
        &["--database-url", &url, "downgrade", "-1", "--dry-run"],
    );
    assert_eq!(code, 1, "{err}");
    // No untrue hint about prefix lengths.
    let (code, _, err) =
        super::support::run(dir.path(), &["--database-url", &url, "upgrade", "hed"]);
    assert_eq!(code, 1, "{err}");
    assert!(!err.contains("four characters"), "{err}");
    // Slugs transliterate; messages with escape sequences are shown escaped.
    let (code, out, err) =
        super::support::run(dir.path(), &["revision", "-m", "ünïcode \u{1b}[2J"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("_unicode_2j.yaml"), "{out}");
    let (code, out, err) = super::support::run(dir.path(), &["history"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        !out.contains('\u{1b}') && out.contains("\\u{1b}[2J"),
        "{out}"
    );
    // An unquoted number as an id is the error the docs promise.
    std::fs::write(
        dir.path().join("revisions/n.yaml"),
        "revision: 0001\nmessage: n\n",
    )
    .expect("write");
    let (code, out, err) = super::support::run(dir.path(), &["check"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        out.contains("revisions/n.yaml:1: revision is an unquoted number"),
        "{out}"
    );
}

#[test]
fn every_command_reads_a_sqlite_url_alike() {
    let dir = project(&[(
        "a.yaml",
        "revision: a\nmessage: one\nupgrade: CREATE TABLE t (x INTEGER);\ndowngrade: DROP TABLE t;\n",
    )]);
    let run = |url: &str, args: &[&str]| {
        let mut all = vec!["--database-url", url];
        all.extend(args);
        super::support::run(dir.path(), &all)
    };
    for url in ["sqlite://pct%20x.db", "sqlite://file:pct%20y.db"] {
        // Before anything exists, the read-only commands say so and create nothing.
        for args in [
            &["current"][..],
            &["check"],
            &["upgrade", "--dry-run"],
            &["downgrade", "base"],
        ] {
            let (_, _, err) = run(url, args);
            assert!(err.contains("no database at"), "{url} {args:?}: {err}");
        }
        let (code, _, err) = run(url, &["upgrade"]);
        assert_eq!(code, 0, "{err}");
        let (code, out, err) = run(url, &["current"]);
        assert_eq!(code, 0, "{err}");
        assert!(
            out.contains("a (head)"),
            "{url}: current sees the upgrade: {out} {err}"
        );
        let (code, out, err) = run(url, &["upgrade", "--dry-run"]);
        assert_eq!(code, 0, "{err}");
        assert!(
            !out.contains("a,") && !err.contains("no database"),
            "{out} {err}"
        );
        let (code, _, err) = run(url, &["check"]);
        assert_eq!(code, 0, "{err}");
    }
    assert!(dir.path().join("pct x.db").exists() && dir.path().join("pct y.db").exists());
    // `check` notes it and goes on with the graph checks, as for an unreachable server.
    for args in [
        &["current"][..],
        &["check"],
        &["upgrade"],
        &["upgrade", "--dry-run"],
    ] {
        let (code, _, err) = run("sqlite://no/such/dir/x.db", args);
        assert_eq!(code, i32::from(args != ["check"]), "{args:?}: {err}");
        assert!(
            err.contains("directory no/such/dir does not exist"),
            "{err}"
        );
    }
}

#[test]
fn postgres_errors_show_the_server_message_only() {
    let Some(db) = TestDb::new(Server::Postgres) else {
        return;
    };
    let dir = project(&[("a.yaml", "revision: a\nmessage: one\n")]);
    let url = format!("postgres://postgres@127.0.0.1:5432/no_such_{}", db.name);
    for args in [&["current"][..], &["upgrade"]] {
        let mut all = vec!["--database-url", url.as_str()];
        all.extend(args);
        let (code, _, err) = super::support::run(dir.path(), &all);
        assert_eq!(code, 1, "{err}");
        assert!(
            err.contains(&format!("database \"no_such_{}\" does not exist", db.name)),
            "{err}"
        );
        assert!(
            !err.contains(" at line ")
                && !err.contains("sqlx_")
                && !err.contains("error returned from database"),
            "{err}"
        );
    }
}

/// A file name or value carrying terminal escapes is shown escaped in errors, never raw.
#[test]
fn terminal_escapes_from_files_are_escaped_in_errors() {
    let dir = super::support::project(&[(
        "\u{1b}[2Jx.yaml",
        "revision: x\nmessage: \"\u{1b}[31mred\"\nupgrade: [\n",
    )]);
    let (code, _, err) = super::support::run(dir.path(), &["heads"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("x.yaml"), "{err}");
    assert!(!err.contains('\u{1b}'), "raw escape in: {err:?}");
    assert!(err.contains("\\u{1b}"), "{err:?}");
}
