//! A linear pre-scan of YAML text that refuses nesting far deeper than any of our
//! formats needs, before the parser sees it: libyaml's scanner costs time proportional
//! to the flow depth for every token (100,000 nested `[` took 33 s), and the
//! deserializer only stops at its recursion limit after all of that.
//!
//! The scan knows just enough YAML to count nesting: flow collections (`[`, `{`) outside
//! quoted scalars and comments, block collections by indentation and compact `- - -`
//! entries, and block scalars (`|`, `>`), whose lines it skips. It overcounts rather
//! than undercounts.

/// The deepest nesting accepted: revision files need 3, models.yaml a few more.
pub const MAX_DEPTH: usize = 64;

/// Why the text was refused, and on which (1-based) line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooDeep {
    pub line: u32,
    pub message: String,
}

/// Refuses `text` when its nesting goes beyond [`MAX_DEPTH`]; linear in its length.
pub fn check_yaml(text: &str) -> Result<(), TooDeep> {
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    let mut quote: Option<char> = None;
    let mut block_scalar: Option<usize> = None;
    for (n, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let body = &line[indent..];
        if let Some(parent) = block_scalar {
            if body.is_empty() || indent > parent {
                continue;
            }
            block_scalar = None;
        }
        if quote.is_none() && flow == 0 && !body.is_empty() && !body.starts_with('#') {
            while indents.last().is_some_and(|&i| i > indent) {
                indents.pop();
            }
            if indents.last().is_none_or(|&i| i < indent) {
                indents.push(indent);
            }
        }
        let mut compact = 0usize;
        let mut token_start = quote.is_none();
        let mut prev = ' ';
        let chars: Vec<char> = body.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let next = chars.get(i + 1).copied().unwrap_or(' ');
            if let Some(q) = quote {
                if c == '\\' && q == '"' {
                    i += 2;
                    continue;
                }
                if c == q {
                    if q == '\'' && next == '\'' {
                        i += 2;
                        continue;
                    }
                    quote = None;
                    token_start = false;
                }
                prev = c;
                i += 1;
                continue;
            }
            match c {
                '#' if prev == ' ' || prev == '\t' || i == 0 => break,
                '"' | '\'' if token_start => quote = Some(c),
                '[' | '{' if token_start || flow > 0 => {
                    flow += 1;
                    token_start = true;
                }
                ']' | '}' if flow > 0 => flow -= 1,
                ',' if flow > 0 => token_start = true,
                '-' | '?' | ':' if next == ' ' || next == '\t' || i + 1 == chars.len() => {
                    if c != ':' && flow == 0 && token_start {
                        compact += 1;
                    }
                    token_start = true;
                }
                '|' | '>' if token_start && flow == 0 => {
                    block_scalar = Some(indent);
                    break;
                }
                ' ' | '\t' => {}
                '&' | '!' if token_start => {
                    // An anchor or tag: the node itself follows.
                    while i + 1 < chars.len() && chars[i + 1] != ' ' {
                        i += 1;
                    }
                }
                _ => token_start = false,
            }
            let depth = indents.len() + compact + flow;
            if depth > MAX_DEPTH {
                return Err(TooDeep {
                    line: n as u32 + 1,
                    message: format!(
                        "nesting deeper than {MAX_DEPTH} levels; refused (this format needs only a few)"
                    ),
                });
            }
            prev = c;
            i += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_flow_and_block_nesting_is_refused_in_linear_time() {
        for text in [
            "[".repeat(100_000),
            format!("a: {}", "{x: ".repeat(100_000)),
            "- ".repeat(100_000),
            format!("a: ['x]]]]', \"]]]\", {}", "[".repeat(1000)),
        ] {
            let started = std::time::Instant::now();
            let err = check_yaml(&text).unwrap_err();
            assert_eq!(err.line, 1);
            assert!(started.elapsed().as_secs() < 2);
        }
    }

    #[test]
    fn ordinary_files_pass_sql_in_block_scalars_included() {
        let text = "revision: a\ndown_revision: [b, c]\nmessage: 'it''s # not a comment ['\nupgrade:\n  sqlite: |\n    SELECT '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[';\n  postgres: >\n    SELECT ARRAY[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]];\ndowngrade: \"a [ b\"\n";
        assert_eq!(check_yaml(text), Ok(()));
    }
}
