//! GitHub Actions workflow annotations (`--format github`): one
//! `::error file=…,line=…,title=…::message` line per problem, so problems show on the
//! pull request's diff. Shared by every command that reports problems.
//!
//! GitHub's workflow-command syntax: in the message, `%`, CR and LF are escaped as
//! `%25`, `%0D`, `%0A`; in property values also `:` and `,` (`%3A`, `%2C`). Without the
//! escapes a revision file's text could end the annotation and start another
//! workflow command (`::add-mask::`, `::stop-commands::`) on the runner.

use migrate::core::{Problem, Severity};

/// Escapes an annotation's message.
pub fn escape_data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a property value (`file=`, `title=`).
pub fn escape_property(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in escape_data(text).chars() {
        match c {
            ':' => out.push_str("%3A"),
            ',' => out.push_str("%2C"),
            c => out.push(c),
        }
    }
    out
}

/// The annotation level of a severity.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// One annotation line (with its newline): `::<level> file=…,line=…,title=…::message`.
pub fn annotation(
    level: &str,
    file: Option<&str>,
    line: Option<u32>,
    title: &str,
    message: &str,
) -> String {
    let mut props = Vec::new();
    if let Some(f) = file {
        props.push(format!("file={}", escape_property(f)));
        if let Some(l) = line {
            props.push(format!("line={l}"));
        }
    }
    props.push(format!("title={}", escape_property(title)));
    format!("::{level} {}::{}\n", props.join(","), escape_data(message))
}

/// A check problem as an annotation; `file` is its path relative to the repository
/// root (GitHub's workspace), `extra` lines are added to the message (hints).
pub fn problem(p: &Problem, file: Option<&str>, extra: &[String]) -> String {
    let kind = serde_json::to_value(p.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut message = p.message.clone();
    for e in extra {
        message.push('\n');
        message.push_str(e);
    }
    annotation(
        level(p.severity),
        file,
        p.line,
        &format!("migrate check: {kind}"),
        &message,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_and_properties_are_escaped_as_github_reads_them() {
        assert_eq!(escape_data("100% a\r\nb: c, d"), "100%25 a%0D%0Ab: c, d");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        let line = annotation(
            "error",
            Some("revisions/x,y:z.yaml"),
            Some(3),
            "t",
            "bad\n::add-mask::x",
        );
        assert_eq!(
            line,
            "::error file=revisions/x%2Cy%3Az.yaml,line=3,title=t::bad%0A::add-mask::x\n"
        );
        assert_eq!(
            line.matches('\n').count(),
            1,
            "one line, whatever the input"
        );
        assert_eq!(
            annotation("warning", None, Some(3), "t", "m"),
            "::warning title=t::m\n"
        );
    }
}
