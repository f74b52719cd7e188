//! Differential tests of the new-revision writer: real Alembic (`alembic init -t <template>`,
//! then `revision`/`merge` with fixed ids and a patched clock) against our
//! `render_module`/`module_file_name` on the same `script.py.mako`, byte for byte.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use migrate::files::alembic::newfile::{module_file_name, render_module, CreateDate, NewModule};
use migrate::files::alembic::template::TemplateErrorKind;

use super::support::pyenv_tool;

/// Runs Alembic in-process with `datetime.now` fixed: reads a JSON spec on stdin, writes the
/// new files (path under `versions/`, text) as JSON to `spec["out"]`.
const HARNESS: &str = r#"
import contextlib, datetime, json, os, sys, types
from unittest import mock
from alembic.config import main as alembic_main

spec = json.load(sys.stdin)
fixed = datetime.datetime(*spec["utc"], tzinfo=datetime.timezone.utc)

class FixedDateTime(datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return fixed.astimezone(tz) if tz is not None else fixed.replace(tzinfo=None)

fake = types.SimpleNamespace(datetime=FixedDateTime, timezone=datetime.timezone)
os.chdir(spec["dir"])
with contextlib.redirect_stdout(sys.stderr):
    alembic_main(argv=["init", "-t", spec["template"], "proj"])
ini = open("alembic.ini").read()
extra = "".join("%s = %s\n" % tuple(kv) for kv in spec["options"])
open("alembic.ini", "w").write(ini.replace("[alembic]\n", "[alembic]\n" + extra, 1))
if spec["mako"] is not None:
    open("proj/script.py.mako", "w").write(spec["mako"])
versions = os.path.join("proj", "versions")

def files():
    return {os.path.relpath(os.path.join(d, f), versions)
            for d, _, fs in os.walk(versions) for f in fs if f.endswith(".py")}

results = []
for argv in spec["steps"]:
    before = files()
    with mock.patch("alembic.script.base.datetime", fake), contextlib.redirect_stdout(sys.stderr):
        alembic_main(argv=argv)
    new = sorted(files() - before)
    assert len(new) == 1, (argv, new)
    with open(os.path.join(versions, new[0]), "rb") as f:
        results.append([new[0], f.read().decode("utf-8")])
json.dump(results, open(spec["out"], "w"))
"#;

/// One `alembic` command and the module we expect it to describe.
struct Step {
    argv: Vec<String>,
    module: NewModule,
}

struct Case {
    template: &'static str,
    /// `[alembic]` options as written in alembic.ini (`%%` escaped).
    options: Vec<(&'static str, &'static str)>,
    /// The same options as Alembic reads them.
    file_template: &'static str,
    truncate_slug_length: usize,
    timezone: Option<&'static str>,
    mako: Option<String>,
    steps: Vec<(Vec<&'static str>, Parts)>,
    main_options: BTreeMap<String, String>,
}

/// The expected module fields of one step.
#[derive(Default)]
struct Parts {
    rev: &'static str,
    downs: &'static [&'static str],
    labels: &'static [&'static str],
    depends: &'static [&'static str],
    message: Option<&'static str>,
}

fn fixed_utc() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(2024, 5, 6)
        .and_then(|d| d.and_hms_micro_opt(7, 8, 9, 123_456))
        .expect("a valid date")
        .and_utc()
}

impl Case {
    fn new(template: &'static str) -> Self {
        Case {
            template,
            options: Vec::new(),
            file_template: "%(rev)s_%(slug)s",
            truncate_slug_length: 40,
            timezone: None,
            mako: None,
            steps: Vec::new(),
            main_options: BTreeMap::new(),
        }
    }

    fn create_date(&self) -> CreateDate {
        match self.timezone {
            // The harness runs with TZ=UTC, so local naive time is UTC wall time.
            None => CreateDate::naive(
                fixed_utc().naive_utc(),
                FixedOffset::east_opt(0).expect("zero"),
            ),
            Some(tz) => CreateDate::at(fixed_utc(), Some(tz)).expect("a known zone"),
        }
    }

    fn run(self) {
        let dir = tempfile::tempdir().expect("a temp dir");
        let date = self.create_date();
        let steps: Vec<Step> = self
            .steps
            .iter()
            .map(|(argv, p)| {
                let mut m = NewModule::new(p.rev, date);
                m.down_revisions = p.downs.iter().map(|s| s.to_string()).collect();
                m.branch_labels = p.labels.iter().map(|s| s.to_string()).collect();
                m.depends_on = p.depends.iter().map(|s| s.to_string()).collect();
                m.message = p.message.map(str::to_string);
                m.main_options = self.main_options.clone();
                Step {
                    argv: argv.iter().map(|s| s.to_string()).collect(),
                    module: m,
                }
            })
            .collect();
        let out = dir.path().join("out.json");
        let u = fixed_utc();
        let spec = serde_json::json!({
            "dir": dir.path(),
            "out": out,
            "template": self.template,
            "options": self.options,
            "mako": self.mako,
            "utc": [2024, 5, 6, 7, 8, 9, u.timestamp_subsec_micros()],
            "steps": steps.iter().map(|s| &s.argv).collect::<Vec<_>>(),
        });
        let alembic = run_harness(dir.path(), &spec);
        let mako = std::fs::read_to_string(dir.path().join("proj/script.py.mako"))
            .expect("script.py.mako");
        assert_eq!(alembic.len(), steps.len());
        for (step, (name, text)) in steps.iter().zip(alembic) {
            let ours = render_module(&mako, &step.module)
                .unwrap_or_else(|e| panic!("{}: {e}", self.template));
            assert_eq!(
                ours, text,
                "{} {:?}: the module differs from Alembic's",
                self.template, step.argv
            );
            let our_name =
                module_file_name(self.file_template, &step.module, self.truncate_slug_length)
                    .expect("the file template formats");
            assert_eq!(
                our_name, name,
                "{} {:?}: file name",
                self.template, step.argv
            );
        }
    }
}

fn run_harness(dir: &Path, spec: &serde_json::Value) -> Vec<(String, String)> {
    use std::io::Write;
    let mut child = std::process::Command::new(pyenv_tool("python"))
        .arg("-c")
        .arg(HARNESS)
        .env("TZ", "UTC")
        .env("PYTHONUTF8", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(spec.to_string().as_bytes())
        .expect("spec written");
    let out = child.wait_with_output().expect("python finishes");
    assert!(
        out.status.success(),
        "alembic failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(spec["out"].as_str().expect("out path")).expect("results");
    serde_json::from_str(&text).expect("JSON results")
}

const LONG: &str = "Ünïcødé Straße: a long message that goes well beyond the slug limit";

/// Base, child, labelled second root, no message with resolved `--depends-on`, a label
/// dependency, merges of two and three heads, quotes in the message.
fn graph_steps() -> Vec<(Vec<&'static str>, Parts)> {
    vec![
        (
            vec!["revision", "-m", "create users", "--rev-id", "aaaa0001"],
            Parts {
                rev: "aaaa0001",
                message: Some("create users"),
                ..Parts::default()
            },
        ),
        (
            vec![
                "revision",
                "-m",
                "add 'email' column",
                "--rev-id",
                "aaaa0002",
            ],
            Parts {
                rev: "aaaa0002",
                downs: &["aaaa0001"],
                message: Some("add 'email' column"),
                ..Parts::default()
            },
        ),
        (
            vec![
                "revision",
                "-m",
                LONG,
                "--rev-id",
                "bbbb0001",
                "--head",
                "base",
                "--branch-label",
                "side",
            ],
            Parts {
                rev: "bbbb0001",
                labels: &["side"],
                message: Some(LONG),
                ..Parts::default()
            },
        ),
        (
            vec![
                "revision",
                "--rev-id",
                "cccc0001",
                "--head",
                "base",
                "--depends-on",
                "aaaa0001",
                "--depends-on",
                "bbbb",
            ],
            Parts {
                rev: "cccc0001",
                depends: &["aaaa0001", "bbbb0001"],
                ..Parts::default()
            },
        ),
        (
            vec![
                "revision",
                "-m",
                "",
                "--rev-id",
                "cccc0002",
                "--head",
                "cccc0001",
                "--depends-on",
                "side",
            ],
            Parts {
                rev: "cccc0002",
                downs: &["cccc0001"],
                depends: &["side"],
                message: Some(""),
                ..Parts::default()
            },
        ),
        (
            vec![
                "merge",
                "-m",
                "merge two",
                "--rev-id",
                "dddd0001",
                "aaaa0002",
                "bbbb0001",
            ],
            Parts {
                rev: "dddd0001",
                downs: &["aaaa0002", "bbbb0001"],
                message: Some("merge two"),
                ..Parts::default()
            },
        ),
        (
            vec![
                "revision",
                "-m",
                r#"say "hi" and 'bye' \ done"#,
                "--rev-id",
                "eeee0001",
                "--head",
                "base",
            ],
            Parts {
                rev: "eeee0001",
                message: Some(r#"say "hi" and 'bye' \ done"#),
                ..Parts::default()
            },
        ),
        (
            vec![
                "merge",
                "-m",
                "merge 3",
                "--branch-label",
                "trunk",
                "--rev-id",
                "ffff0001",
                "dddd0001",
                "cccc0002",
                "eeee0001",
            ],
            Parts {
                rev: "ffff0001",
                downs: &["dddd0001", "cccc0002", "eeee0001"],
                labels: &["trunk"],
                message: Some("merge 3"),
                ..Parts::default()
            },
        ),
    ]
}

#[test]
fn shipped_templates_match_alembic() {
    for template in [
        "generic",
        "async",
        "multidb",
        "pyproject",
        "pyproject_async",
    ] {
        let mut case = Case::new(template);
        case.steps = graph_steps();
        if template == "multidb" {
            case.main_options
                .insert("databases".into(), "engine1, engine2".into());
        }
        case.run();
    }
}

#[test]
fn file_template_date_keys_slug_truncation_and_timezone_match_alembic() {
    for (tz, ini_tz) in [
        (Some("UTC"), "utc"),
        (Some("Etc/GMT-3"), "Etc/GMT-3"),
        (Some("EST"), "EST"),
    ] {
        let mut case = Case::new("generic");
        case.options = vec![
            (
                "file_template",
                "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d%%(second)02d_%%(epoch)s-%%(rev)s_%%(slug)s",
            ),
            ("truncate_slug_length", "12"),
            ("timezone", ini_tz),
        ];
        case.file_template =
            "%(year)d_%(month).2d_%(day).2d_%(hour).2d%(minute).2d%(second)02d_%(epoch)s-%(rev)s_%(slug)s";
        case.truncate_slug_length = 12;
        case.timezone = tz;
        case.steps = vec![
            (
                vec!["revision", "-m", LONG, "--rev-id", "aaaa0001"],
                Parts {
                    rev: "aaaa0001",
                    message: Some(LONG),
                    ..Parts::default()
                },
            ),
            (
                vec![
                    "revision",
                    "-m",
                    "abcdefghijklmnopq",
                    "--rev-id",
                    "aaaa0002",
                ],
                Parts {
                    rev: "aaaa0002",
                    downs: &["aaaa0001"],
                    message: Some("abcdefghijklmnopq"),
                    ..Parts::default()
                },
            ),
        ];
        case.run();
    }
}

/// A template with what real projects add, and every Mako construct we support.
const CUSTOM_MAKO: &str = r#"<%!
import re
%># -*- coding: utf-8 -*-
"""${message | h}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Depends: ${depends_on | comma}
Create Date: ${create_date}
<%doc>
  Dropped from the output, its newline is not.
</%doc>
%% 100 percent
    %%% two
"""
from __future__ import annotations

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
${imports if imports else ""}
## a comment line, swallowed with its newline
<%
    labels = branch_labels or ()
    first = re.split(r'\s*,\s*', "a ,b,  c")[0]
%>
# revision identifiers, used by Alembic.
revision: str = ${repr(up_revision)}
down_revision: Union[str, Sequence[str], None] = ${repr(down_revision)}
branch_labels: Union[str, Sequence[str], None] = ${repr(branch_labels)}
depends_on: Union[str, Sequence[str], None] = ${repr(depends_on)}
% if isinstance_free := None:
% endif
"#;

const CUSTOM_MAKO_BODY: &str = r#"% if down_revision is None:
# a new base${" (%s)" % ", ".join(labels) if labels else ""}
% elif len(down_revision) > 1 and not isinstance_free:
# merge of ${len(down_revision)} parents: \
${", ".join(down_revision)}
% else:
# child of ${down_revision} ${first}
% endif
% for word in re.split(r',\s*', "one, two,three"):
    # ${word.upper()} ${word | trim} ${"%s-%r" % (word, word)}
% endfor
# <%text>${not evaluated}</%text>


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${context.get("downgrades", "pass")}
"#;

#[test]
fn custom_template_lines_match_alembic() {
    // `:=` is unsupported; the header only checks it is refused, the body is compared.
    let header = CUSTOM_MAKO.replace(
        "% if isinstance_free := None:\n% endif\n",
        "<% isinstance_free = False %>\n",
    );
    let mut case = Case::new("generic");
    case.mako = Some(format!("{header}{CUSTOM_MAKO_BODY}"));
    case.steps = graph_steps();
    case.run();
}

#[test]
fn unsupported_constructs_are_errors_naming_them() {
    let m = NewModule::new("aaaa0001", CreateDate::aware(fixed_utc().fixed_offset()));
    let err = |text: &str| render_module(text, &m).expect_err(text);
    let e = err(&format!("{CUSTOM_MAKO}{CUSTOM_MAKO_BODY}"));
    assert_eq!(
        (e.line, e.kind),
        (33, TemplateErrorKind::Unsupported),
        "{e}"
    );
    assert!(e.construct.contains(":="), "{e}");
    for (text, line, needle) in [
        ("a\n<%def name=\"x()\">hi</%def>\n", 2, "<%def>"),
        ("a\nb\n% while True:\n% endwhile\n", 3, "while"),
        ("${up_revision | u}", 1, "`u` filter"),
        ("<%! import os %>", 1, "import os"),
        ("x\n${f(**kw)}", 2, "**"),
        ("${[r for r in down_revision]}", 1, "comprehension"),
        ("% for a, b in x:\n% endfor\n", 1, "for"),
        ("${re.sub('a', 'b', message)}", 1, "sub"),
        // Refused even in a branch that would not run.
        ("% if False:\n${lambda: 1}\n% endif\n", 2, "lambda"),
    ] {
        let e = err(text);
        assert_eq!(e.line, line, "{text}: {e}");
        assert!(e.construct.contains(needle), "{text}: {e}");
    }
    let e = err("${upgrades}");
    assert_eq!(e.kind, TemplateErrorKind::Render, "{e}");
    let e = err("% if x:\n");
    assert_eq!(e.kind, TemplateErrorKind::Syntax, "{e}");
}

/// Mako's whitespace and escaping rules on small snippets, against Mako itself.
#[test]
fn mako_edge_rules_match_mako() {
    let snippets = [
        "# -*- coding: utf-8 -*-\nA ${message}\n",
        "<%!\nimport re\n%>\nA\n",
        "x\n<%\n  y = 'v'\n%>\nB${y}\n",
        "<%doc>\nhi\n</%doc>\nC\n",
        "a \\\nb\\\r\nc\n",
        "  % if message:\nyes\n  % else:\nno\n  % endif\nend",
        "## c\n  ## d\nx ## e\n",
        "%% lit\n  %%% two\nmid %% kept\n",
        "${'a}b' | n}\n${ None }${ (1, 'x') }${ [] }${('a',)}\n",
        "${message | h}|${message | trim}|${ repr(message) }\n",
        "${ repr(\"it's\") } ${ repr('say \"x\"') } ${ repr('both \\' \"') } ${ repr('tab\\tnl\\n\\x01\\u00e9\\u00a0') }\n",
        "% for w in re.split(r'\\s*', 'a b'):\n[${w}]\n% endfor\n",
        "% for w in 'ab':\n${w}\\\n% endfor\n",
        "${'%5s|%-4d|%03d|%.2s|%r' % ('ab', 7, 5, 'xyz', 'q')}\n",
        "${ message if message else 'none' } ${ not message } ${ 'a' in message }\n",
    ];
    let program = r#"
import json, sys, re
from mako.template import Template
out = []
for text in json.load(sys.stdin):
    t = "<%!\nimport re\n%>\n" + text if "re." in text else text
    out.append(Template(t).render_unicode(message=" <it's> & "))
json.dump(out, sys.stdout)
"#;
    use std::io::Write;
    let mut child = std::process::Command::new(pyenv_tool("python"))
        .args(["-c", program])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(serde_json::to_string(&snippets).expect("json").as_bytes())
        .expect("written");
    let out = child.wait_with_output().expect("python finishes");
    assert!(out.status.success());
    let mako: Vec<String> = serde_json::from_slice(&out.stdout).expect("JSON");
    let mut args = migrate::files::alembic::template::TemplateArgs::default();
    args.data.insert(
        "message".into(),
        migrate::files::alembic::template::Value::Str(" <it's> & ".into()),
    );
    for (text, expected) in snippets.iter().zip(mako) {
        let t = if text.contains("re.") {
            format!("<%!\nimport re\n%>\n{text}")
        } else {
            text.to_string()
        };
        let ours = migrate::files::alembic::template::Template::parse(&t)
            .and_then(|t| t.render(&args))
            .unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(ours, expected, "{text:?}");
    }
}
