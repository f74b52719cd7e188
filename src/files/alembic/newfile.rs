//! A new Alembic revision module, as `alembic revision` and `alembic merge` write it:
//! the project's `script.py.mako` rendered with Alembic's variables, named by its
//! `file_template`.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDateTime, Timelike};

use super::template::{self, TemplateError, Value, Vars};

/// When a revision was created, as Alembic's `datetime.now(tz)` gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreateDate {
    /// Wall-clock time in the revision's zone.
    pub local: NaiveDateTime,
    /// The zone's offset from UTC in seconds; `None` for Alembic's naive local time
    /// (no `timezone` setting).
    pub offset_seconds: Option<i32>,
}

impl CreateDate {
    /// Now, as Alembic takes it: naive local time, or UTC when `timezone` is `UTC`.
    /// Other zone names need a time-zone database migrate does not carry: an error.
    pub fn now(timezone: Option<&str>) -> Result<CreateDate, String> {
        match timezone {
            None => Ok(CreateDate {
                local: chrono::Local::now().naive_local(),
                offset_seconds: None,
            }),
            Some(tz) if tz.eq_ignore_ascii_case("utc") => Ok(CreateDate {
                local: chrono::Utc::now().naive_utc(),
                offset_seconds: Some(0),
            }),
            Some(tz) => Err(format!(
                "timezone {tz}: only UTC (or no timezone) is supported when migrate writes the revision; write it with `alembic revision` instead"
            )),
        }
    }

    /// Python's `str(datetime)`: microseconds only when not zero, the offset when
    /// the time is aware.
    pub fn python_str(&self) -> String {
        let mut out = self.local.format("%Y-%m-%d %H:%M:%S").to_string();
        let micros = self.local.nanosecond() / 1000;
        if micros != 0 {
            out.push_str(&format!(".{micros:06}"));
        }
        if let Some(off) = self.offset_seconds {
            let sign = if off < 0 { '-' } else { '+' };
            let a = off.unsigned_abs();
            out.push_str(&format!("{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60));
            if a % 60 != 0 {
                out.push_str(&format!(":{:02}", a % 60));
            }
        }
        out
    }

    fn epoch(&self) -> i64 {
        match self.offset_seconds {
            Some(off) => self.local.and_utc().timestamp() - i64::from(off),
            None => self
                .local
                .and_local_timezone(chrono::Local)
                .earliest()
                .map_or_else(|| self.local.and_utc().timestamp(), |d| d.timestamp()),
        }
    }
}

/// What a new revision module says.
#[derive(Debug, Clone)]
pub struct NewModule {
    pub rev_id: String,
    pub down_revisions: Vec<String>,
    pub branch_labels: Vec<String>,
    pub depends_on: Vec<String>,
    /// `None`: Alembic's "empty message".
    pub message: Option<String>,
    pub create_date: CreateDate,
}

/// Renders the project's `script.py.mako` for `m`, with the ini's main options
/// (`config.get_main_option` in the multidb template).
pub fn render_module(
    template_text: &str,
    m: &NewModule,
    main_options: &dyn Fn(&str) -> Option<String>,
) -> Result<String, TemplateError> {
    let scalar = |v: &[String], list: bool| match v {
        [] => Value::None,
        [one] => Value::Str(one.clone()),
        many if list => Value::List(many.to_vec()),
        many => Value::Tuple(many.to_vec()),
    };
    let mut values = HashMap::new();
    values.insert("up_revision".to_owned(), Value::Str(m.rev_id.clone()));
    values.insert("down_revision".to_owned(), scalar(&m.down_revisions, false));
    values.insert(
        "branch_labels".to_owned(),
        if m.branch_labels.is_empty() {
            Value::None
        } else {
            Value::Tuple(m.branch_labels.clone())
        },
    );
    // Alembic passes a list here (a tuple for down_revision): the reprs differ.
    values.insert("depends_on".to_owned(), scalar(&m.depends_on, true));
    values.insert(
        "create_date".to_owned(),
        Value::Str(m.create_date.python_str()),
    );
    values.insert(
        "message".to_owned(),
        Value::Str(
            m.message
                .clone()
                .unwrap_or_else(|| "empty message".to_owned()),
        ),
    );
    template::render(
        template_text,
        &Vars {
            values,
            main_options,
        },
    )
}

/// The file name Alembic gives `m`: `file_template` filled in, then `.py`.
pub fn module_file_name(
    file_template: &str,
    m: &NewModule,
    truncate_slug_length: usize,
) -> Result<String, String> {
    let slug = slug(m.message.as_deref().unwrap_or(""), truncate_slug_length);
    let d = &m.create_date;
    let value = |key: &str| -> Option<FormatArg> {
        Some(match key {
            "rev" => FormatArg::Str(m.rev_id.clone()),
            "slug" => FormatArg::Str(slug.clone()),
            "epoch" => FormatArg::Int(d.epoch()),
            "year" => FormatArg::Int(i64::from(d.local.year())),
            "month" => FormatArg::Int(i64::from(d.local.month())),
            "day" => FormatArg::Int(i64::from(d.local.day())),
            "hour" => FormatArg::Int(i64::from(d.local.hour())),
            "minute" => FormatArg::Int(i64::from(d.local.minute())),
            "second" => FormatArg::Int(i64::from(d.local.second())),
            _ => return None,
        })
    };
    let name = percent_format(file_template, &value)?;
    if name.contains('/') && name.split('/').any(|p| p == ".." || p.is_empty()) {
        return Err(format!("file_template `{file_template}` makes the path `{name}`, which leaves the version directory"));
    }
    Ok(format!("{name}.py"))
}

/// Alembic's slug: the message's words (`\w+`) joined by `_`, lower-cased, cut at the
/// last `_` within `limit` characters (and given a trailing `_`) when longer.
pub fn slug(message: &str, limit: usize) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in message.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    let slug = words.join("_").to_lowercase();
    if slug.chars().count() <= limit {
        return slug;
    }
    let cut: String = slug.chars().take(limit).collect();
    let kept = match cut.rfind('_') {
        Some(i) => &cut[..i],
        None => cut.as_str(),
    };
    format!("{kept}_")
}

enum FormatArg {
    Str(String),
    Int(i64),
}

/// Python's `template % mapping` for `%(key)s`, `%(key)d`, `%(key)02d`, `%(key).2d`
/// and `%%`.
fn percent_format(
    template: &str,
    value: &dyn Fn(&str) -> Option<FormatArg>,
) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('%') {
            out.push('%');
            rest = r;
            continue;
        }
        let Some(r) = rest.strip_prefix('(') else {
            return Err(format!(
                "file_template `{template}`: `%` must be `%(key)s` or `%%`"
            ));
        };
        let close = r
            .find(')')
            .ok_or_else(|| format!("file_template `{template}`: `%(` without `)`"))?;
        let key = &r[..close];
        let r = &r[close + 1..];
        let spec_len = r
            .find(|c: char| c.is_ascii_alphabetic())
            .ok_or_else(|| format!("file_template `{template}`: `%({key})` has no conversion"))?;
        let spec = &r[..spec_len];
        let conv = r[spec_len..].chars().next().expect("found");
        rest = &r[spec_len + 1..];
        let arg =
            value(key).ok_or_else(|| format!("file_template `{template}`: unknown key `{key}`"))?;
        let zero = spec.starts_with('0');
        let (width, precision) = match spec.split_once('.') {
            Some((w, p)) => (w, Some(p)),
            None => (spec, None),
        };
        let width: usize = width.trim_start_matches('0').parse().unwrap_or(0);
        let precision: Option<usize> = precision.and_then(|p| p.parse().ok());
        let text = match (conv, arg) {
            ('s', FormatArg::Str(s)) => s,
            ('s' | 'd' | 'i', FormatArg::Int(n)) => match precision {
                Some(p) if conv != 's' => format!("{n:0p$}"),
                _ => n.to_string(),
            },
            _ => {
                return Err(format!(
                    "file_template `{template}`: `%({key}){spec}{conv}` is not supported"
                ))
            }
        };
        let pad = width.saturating_sub(text.chars().count());
        if zero {
            out.push_str(&"0".repeat(pad));
        } else {
            out.push_str(&" ".repeat(pad));
        }
        out.push_str(&text);
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_cut_at_a_word_boundary_as_alembic_cuts_them() {
        assert_eq!(slug("Add users, and e-mail!", 40), "add_users_and_e_mail");
        assert_eq!(slug("ünïcode table", 40), "ünïcode_table");
        assert_eq!(
            slug("a very long message that goes on past the limit", 20),
            "a_very_long_message_"
        );
        assert_eq!(slug("", 40), "");
    }

    #[test]
    fn create_dates_print_as_python_prints_them() {
        let local =
            NaiveDateTime::parse_from_str("2026-12-03 10:04:05.000120", "%Y-%m-%d %H:%M:%S%.f")
                .unwrap();
        let naive = CreateDate {
            local,
            offset_seconds: None,
        };
        assert_eq!(naive.python_str(), "2026-12-03 10:04:05.000120");
        let whole = CreateDate {
            local: local.with_nanosecond(0).unwrap(),
            offset_seconds: Some(0),
        };
        assert_eq!(whole.python_str(), "2026-12-03 10:04:05+00:00");
    }
}
