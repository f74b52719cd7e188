//! GitHub Actions annotations (`--format github`): workflow commands such as
//! `::error file=revisions/a.yaml,line=7,title=rule::message` that GitHub shows on the
//! pull request's diff. Shared by every command that offers `--format github`.
//!
//! Values are escaped as GitHub's runner reads them: in the message `%`, CR and LF; in a
//! property value also `:` and `,` (which would end the value).

/// The level of an annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnotationLevel {
    Error,
    Warning,
    Notice,
}

impl AnnotationLevel {
    fn command(self) -> &'static str {
        match self {
            AnnotationLevel::Error => "error",
            AnnotationLevel::Warning => "warning",
            AnnotationLevel::Notice => "notice",
        }
    }
}

/// Escapes an annotation's message (the text after `::`): `%`, CR and LF.
pub fn escape_github_data(text: &str) -> String {
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

/// Escapes a property value (`file=`, `title=`): the message escapes plus `:` and `,`.
pub fn escape_github_property(text: &str) -> String {
    escape_github_data(text)
        .replace(':', "%3A")
        .replace(',', "%2C")
}

/// One annotation line (without the newline). `file` and `line` are left out when
/// unknown; the annotation then shows on the workflow run, not on a file.
pub fn github_annotation(
    level: AnnotationLevel,
    file: Option<&str>,
    line: Option<u32>,
    title: &str,
    message: &str,
) -> String {
    let mut props = Vec::new();
    if let Some(f) = file {
        props.push(format!("file={}", escape_github_property(f)));
        if let Some(l) = line {
            props.push(format!("line={l}"));
        }
    }
    if !title.is_empty() {
        props.push(format!("title={}", escape_github_property(title)));
    }
    let props = if props.is_empty() {
        String::new()
    } else {
        format!(" {}", props.join(","))
    };
    format!(
        "::{}{props}::{}",
        level.command(),
        escape_github_data(message)
    )
}

/// The annotation level of a problem's severity.
pub fn level_of(severity: migrate::core::Severity) -> AnnotationLevel {
    match severity {
        migrate::core::Severity::Error => AnnotationLevel::Error,
        migrate::core::Severity::Warning => AnnotationLevel::Warning,
    }
}

/// A `check` problem as one annotation line (with its newline); `file` is its path
/// relative to the repository root (GitHub's workspace), `extra` lines (hints) are
/// added to the message.
pub fn problem(p: &migrate::core::Problem, file: Option<&str>, extra: &[String]) -> String {
    let kind = serde_json::to_value(p.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut message = p.message.clone();
    for e in extra {
        message.push('\n');
        message.push_str(e);
    }
    let mut line = github_annotation(
        level_of(p.severity),
        file,
        p.line,
        &format!("migrate check: {kind}"),
        &message,
    );
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_message_and_properties_as_github_documents() {
        assert_eq!(
            escape_github_data("50% done\r\nnext"),
            "50%25 done%0D%0Anext"
        );
        assert_eq!(escape_github_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        assert_eq!(
            github_annotation(
                AnnotationLevel::Error,
                Some("revisions/a,b.yaml"),
                Some(7),
                "pg-lock: x",
                "line one\nline two: 100%"
            ),
            "::error file=revisions/a%2Cb.yaml,line=7,title=pg-lock%3A x::line one%0Aline two: 100%25"
        );
        assert_eq!(
            github_annotation(AnnotationLevel::Warning, None, Some(3), "", "m"),
            "::warning::m"
        );
    }
}
