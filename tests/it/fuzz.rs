//! The attack, repeated on every run: random mutations of real inputs (a revision file,
//! the example's models, a config, an Alembic module and ini) go through the readers,
//! for a bounded time (`MIGRATE_FUZZ_SECONDS`, default 10, shared by the targets).
//!
//! Each input must be read or refused without a panic and without hanging; a refusal
//! names the file, quotes no more than a short excerpt, and carries no raw control
//! characters (an ANSI escape or NUL from a file must not reach a terminal or CI log).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// Text that stresses a reader when dropped into a file at a random place.
const TOKENS: &[&str] = &[
    "\0",
    "\u{feff}",
    "\r",
    "\n",
    "\r\n",
    "\t",
    "\x1b[31m",
    "\u{202e}",
    "é",
    "[",
    "]",
    "{",
    "}",
    "- ",
    ": ",
    ":",
    "&a ",
    "*a",
    "<<: *a\n",
    "!!binary ",
    "!!python/object ",
    "'",
    "\"",
    "\"\"\"",
    "#",
    "\\",
    "0001",
    "~",
    "null",
    "-1e999",
    "0x",
    "---\n",
    "...\n",
    "? ",
    "|",
    ">",
    "%(here)s",
    "[alembic]\n",
    "=",
    "def upgrade():\n",
    "op.execute(",
    "(",
    ")",
    "lambda: ",
    "down_revision = ",
    "revision: ",
    "tables:\n",
    "columns:\n",
    "type: ",
    "enum(",
    "check(",
    "    ",
    "\u{1F600}",
    "\u{0}\u{0}",
];

#[derive(Debug, Clone)]
enum Mutation {
    Insert {
        at: usize,
        token: usize,
    },
    Delete {
        at: usize,
        len: usize,
    },
    DuplicateLine {
        at: usize,
    },
    /// A run of `[` or `{` (deep nesting) or of `- a\n` lines (a huge list).
    Flood {
        at: usize,
        kind: u8,
        count: usize,
    },
    Truncate {
        at: usize,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        6 => (any::<usize>(), 0..TOKENS.len()).prop_map(|(at, token)| Mutation::Insert { at, token }),
        3 => (any::<usize>(), 1usize..40).prop_map(|(at, len)| Mutation::Delete { at, len }),
        2 => any::<usize>().prop_map(|at| Mutation::DuplicateLine { at }),
        1 => (any::<usize>(), 0u8..3, 1usize..200_000).prop_map(|(at, kind, count)| Mutation::Flood { at, kind, count }),
        1 => any::<usize>().prop_map(|at| Mutation::Truncate { at }),
    ]
}

/// The char boundary at or before `at % (len + 1)`.
fn boundary(text: &str, at: usize) -> usize {
    let mut i = at % (text.len() + 1);
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(seed: &str, mutations: &[Mutation]) -> String {
    let mut text = seed.to_owned();
    for m in mutations {
        match *m {
            Mutation::Insert { at, token } => {
                let i = boundary(&text, at);
                text.insert_str(i, TOKENS[token]);
            }
            Mutation::Delete { at, len } => {
                let i = boundary(&text, at);
                let j = boundary(&text, i + len.min(text.len() - i));
                text.replace_range(i..j.max(i), "");
            }
            Mutation::DuplicateLine { at } => {
                let lines: Vec<&str> = text.lines().collect();
                if !lines.is_empty() {
                    let k = at % lines.len();
                    let mut out: Vec<&str> = lines[..=k].to_vec();
                    out.extend_from_slice(&lines[k..]);
                    text = out.join("\n");
                }
            }
            Mutation::Flood { at, kind, count } => {
                let i = boundary(&text, at);
                let run = match kind {
                    0 => "[".repeat(count),
                    1 => "{a: ".repeat(count.min(50_000)),
                    _ => "- a\n".repeat(count.min(50_000)),
                };
                text.insert_str(i, &run);
            }
            Mutation::Truncate { at } => {
                let i = boundary(&text, at);
                text.truncate(i);
            }
        }
    }
    text
}

/// One reader: takes a file's text, returns the refusal's message if it refuses.
struct Target {
    name: &'static str,
    file: &'static str,
    seed: String,
    read: fn(&Path, &str) -> Option<String>,
}

fn revision_reader(path: &Path, text: &str) -> Option<String> {
    migrate::files::load::parse_revision(path, text)
        .err()
        .map(|p| p.to_string())
}

fn models_reader(path: &Path, text: &str) -> Option<String> {
    migrate::schema::model::parse_models(text, path)
        .err()
        .map(|e| e.to_string())
}

fn module_reader(path: &Path, text: &str) -> Option<String> {
    migrate::files::alembic::revisions::parse_module(path, text)
        .err()
        .map(|problems| {
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        })
}

/// A config is read from its file: written to a scratch directory first.
fn config_reader(path: &Path, text: &str) -> Option<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let name = path.file_name().expect("name");
    std::fs::write(dir.path().join(name), text).expect("write");
    std::fs::create_dir_all(dir.path().join("migrations/versions")).expect("versions");
    migrate::files::find_config(dir.path(), Some(Path::new(name)), None)
        .err()
        .map(|e| e.to_string())
}

fn targets() -> Vec<Target> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let example = |p: &str| std::fs::read_to_string(root.join(p)).expect("example file");
    vec![
        Target {
            name: "revision file",
            file: "r.yaml",
            seed: example("revisions/a1f0c2d3e4b5_create_users.yaml"),
            read: revision_reader,
        },
        Target {
            name: "models",
            file: "models.yaml",
            seed: example("revisions/models.yaml"),
            read: models_reader,
        },
        Target {
            name: "migrate.yaml",
            file: "migrate.yaml",
            seed: "revisions: revisions\ndatabase_url: sqlite://app.db\nversion_table: migrate_version\nlint:\n  allow: [drop-table]\n".to_owned(),
            read: config_reader,
        },
        Target {
            name: "alembic.ini",
            file: "alembic.ini",
            seed: "[alembic]\nscript_location = %(here)s/migrations\nversion_locations = %(here)s/migrations/versions\npath_separator = os\nsqlalchemy.url = sqlite:///app.db\n\n[loggers]\nkeys = root\n".to_owned(),
            read: config_reader,
        },
        Target {
            name: "Alembic module",
            file: "1a2b3c4d5e6f_add.py",
            seed: "\"\"\"add users\n\nRevision ID: 1a2b3c4d5e6f\nRevises: 0f9e8d7c6b5a\nCreate Date: 2026-01-01 00:00:00\n\n\"\"\"\nfrom typing import Sequence, Union\n\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision: str = '1a2b3c4d5e6f'\ndown_revision: Union[str, Sequence[str], None] = ('0f9e8d7c6b5a', 'aa11')\nbranch_labels = ('auth',)\ndepends_on = None\n\n\ndef upgrade() -> None:\n    op.create_table('users', sa.Column('id', sa.Integer(), primary_key=True))\n    op.execute(\"CREATE INDEX ix ON users (id)\")\n\n\ndef downgrade() -> None:\n    op.drop_table('users')\n".to_owned(),
            read: module_reader,
        },
    ]
}

fn budget() -> Duration {
    let secs = std::env::var("MIGRATE_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(10.0);
    Duration::from_secs_f64(secs.max(0.5))
}

/// Shown in a failure: the input, escaped and cut, so the report stays readable.
fn shown(text: &str) -> String {
    let escaped: String = text.escape_debug().collect();
    if escaped.len() > 600 {
        format!(
            "{}… ({} bytes)",
            &escaped[..boundary(&escaped, 600)],
            text.len()
        )
    } else {
        escaped
    }
}

fn check_one(t: &Target, text: &str) -> Result<(), String> {
    let path = Path::new("revisions").join(t.file);
    let started = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(|| (t.read)(&path, text)));
    let took = started.elapsed();
    let message = match outcome {
        Err(_) => return Err("the reader panicked".to_owned()),
        Ok(None) => return check_time(took),
        Ok(Some(m)) => m,
    };
    if !message.contains(t.file) {
        return Err(format!(
            "the error does not name the file: {}",
            shown(&message)
        ));
    }
    if let Some(c) = message.chars().find(|&c| c.is_control() && c != '\n') {
        return Err(format!(
            "the error carries a raw control character {c:?}: {}",
            shown(&message)
        ));
    }
    if message.len() > 2_000 || (text.len() > 400 && message.contains(text)) {
        return Err(format!(
            "the error quotes too much ({} bytes): {}",
            message.len(),
            shown(&message)
        ));
    }
    check_time(took)
}

/// A reader that takes this long on one input of at most a few MB is hanging (the
/// guard is linear; a quadratic path takes minutes at these sizes).
fn check_time(took: Duration) -> Result<(), String> {
    if took > Duration::from_secs(20) {
        return Err(format!("one input took {took:?}"));
    }
    Ok(())
}

#[test]
fn mutated_inputs_are_read_or_refused_cleanly() {
    let targets = targets();
    let per_target = budget() / targets.len() as u32;
    // A seed from the clock, printed, so a failure can be replayed with MIGRATE_FUZZ_SEED.
    let seed: u64 = std::env::var("MIGRATE_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let strategy = proptest::collection::vec(mutation(), 1..6);
    let mut report = Vec::new();
    for t in &targets {
        let deadline = Instant::now() + per_target;
        let mut cases = 0u32;
        while Instant::now() < deadline || cases < 20 {
            let mutations = strategy.new_tree(&mut runner).expect("strategy").current();
            let text = apply(&t.seed, &mutations);
            if let Err(why) = check_one(t, &text) {
                panic!(
                    "{} (MIGRATE_FUZZ_SEED={seed}): {why}\nmutations: {mutations:?}\ninput: {}",
                    t.name,
                    shown(&text)
                );
            }
            cases += 1;
        }
        report.push(format!("{} {cases}", t.name));
    }
    eprintln!("fuzzed (seed {seed}): {}", report.join(", "));
}
