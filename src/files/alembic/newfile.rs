//! The new revision module `alembic revision -m` / `alembic merge` writes: its template
//! arguments exactly as Alembic's `ScriptDirectory.generate_revision` builds them, its
//! `create_date`, and its file name from `file_template` and the message slug.
//!
//! Alembic's post-write hooks (black, ruff, ...) are not run here; a caller that honours
//! `hooks` runs them on the written file.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, FixedOffset, Local, NaiveDateTime, Offset, Timelike, Utc};

use super::template::{Template, TemplateArgs, TemplateError, Value};

/// A revision's `create_date` as Alembic prints it (`str(datetime)`): naive local time unless
/// the `timezone` option is set, then aware in that zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreateDate {
    /// The wall-clock time printed.
    pub wall: NaiveDateTime,
    /// The offset of `wall` from UTC, used for the `epoch` file-name key.
    pub utc_offset: FixedOffset,
    /// Whether the offset is printed (an aware datetime).
    pub aware: bool,
}

/// The `timezone` option names a zone this build cannot compute.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Can't locate timezone: {name} (without a time-zone database only fixed-offset zones are known: UTC, GMT, Etc/GMT±N, EST, MST, HST and their aliases)")]
pub struct UnknownTimezone {
    pub name: String,
}

impl CreateDate {
    /// A naive local time (Alembic without `timezone`); `local_offset` is the local zone's
    /// offset at that time, which only the `epoch` key uses.
    pub fn naive(wall: NaiveDateTime, local_offset: FixedOffset) -> Self {
        CreateDate {
            wall,
            utc_offset: local_offset,
            aware: false,
        }
    }

    /// An aware time (Alembic with `timezone`).
    pub fn aware(at: DateTime<FixedOffset>) -> Self {
        CreateDate {
            wall: at.naive_local(),
            utc_offset: *at.offset(),
            aware: true,
        }
    }

    /// The create date for the instant `utc`, as Alembic's `_generate_create_date` makes it:
    /// local naive time without `timezone`, else that zone (tried as given, then upper-cased).
    pub fn at(utc: DateTime<Utc>, timezone: Option<&str>) -> Result<Self, UnknownTimezone> {
        match timezone {
            None => {
                let local = utc.with_timezone(&Local);
                Ok(Self::naive(local.naive_local(), local.offset().fix()))
            }
            Some(name) => {
                let offset = fixed_zone(name)
                    .or_else(|| fixed_zone(&name.to_uppercase()))
                    .ok_or_else(|| UnknownTimezone {
                        name: name.to_string(),
                    })?;
                Ok(Self::aware(utc.with_timezone(&offset)))
            }
        }
    }

    /// The create date for now.
    pub fn now(timezone: Option<&str>) -> Result<Self, UnknownTimezone> {
        Self::at(Utc::now(), timezone)
    }

    /// Python's `int(create_date.timestamp())`.
    pub fn epoch(&self) -> i64 {
        let secs = self.wall.and_utc().timestamp() - i64::from(self.utc_offset.local_minus_utc());
        // int() truncates toward zero; before 1970 with a fraction that is one second later.
        if secs < 0 && self.wall.nanosecond() != 0 {
            secs + 1
        } else {
            secs
        }
    }

    fn value(&self) -> Value {
        Value::DateTime {
            wall: self.wall,
            offset: self.aware.then_some(self.utc_offset),
        }
    }
}

/// The IANA zones whose offset is fixed, computed without a time-zone database.
fn fixed_zone(name: &str) -> Option<FixedOffset> {
    const UTC_NAMES: &[&str] = &[
        "UTC",
        "UCT",
        "GMT",
        "GMT0",
        "GMT+0",
        "GMT-0",
        "Greenwich",
        "Universal",
        "Zulu",
        "Etc/UTC",
        "Etc/UCT",
        "Etc/GMT",
        "Etc/GMT0",
        "Etc/GMT+0",
        "Etc/GMT-0",
        "Etc/Greenwich",
        "Etc/Universal",
        "Etc/Zulu",
    ];
    let hours = if UTC_NAMES.contains(&name) {
        0
    } else if let Some(n) = name.strip_prefix("Etc/GMT") {
        // POSIX-style sign: Etc/GMT+5 is five hours *behind* UTC.
        let (sign, digits) = match n.split_at_checked(1)? {
            ("+", d) => (-1, d),
            ("-", d) => (1, d),
            _ => return None,
        };
        if digits.is_empty()
            || digits.starts_with('0')
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let h: i32 = digits.parse().ok()?;
        if (sign < 0 && h > 12) || (sign > 0 && h > 14) {
            return None;
        }
        sign * h
    } else {
        match name {
            "EST" => -5,
            "MST" => -7,
            "HST" => -10,
            _ => return None,
        }
    };
    FixedOffset::east_opt(hours * 3600)
}

/// Everything a new revision module is rendered from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewModule {
    pub rev_id: String,
    /// The parents: none for a new base, one for a revision, several for a merge.
    pub down_revisions: Vec<String>,
    pub branch_labels: Vec<String>,
    /// Resolved dependencies (full revision ids, or branch labels kept as given).
    pub depends_on: Vec<String>,
    /// `None` renders as Alembic's "empty message".
    pub message: Option<String>,
    pub create_date: CreateDate,
    /// The config's main-section options (interpolated) for templates calling
    /// `config.get_main_option`, e.g. multidb's `databases`.
    pub main_options: BTreeMap<String, String>,
    /// Extra string template arguments (Alembic passes `imports`, `upgrades`, `downgrades`
    /// only when the environment ran; without them templates print their fallbacks).
    pub extra_args: BTreeMap<String, String>,
}

impl NewModule {
    /// A module with only an id and a date; fill the other fields as needed.
    pub fn new(rev_id: impl Into<String>, create_date: CreateDate) -> Self {
        NewModule {
            rev_id: rev_id.into(),
            down_revisions: Vec::new(),
            branch_labels: Vec::new(),
            depends_on: Vec::new(),
            message: None,
            create_date,
            main_options: BTreeMap::new(),
            extra_args: BTreeMap::new(),
        }
    }

    /// The template arguments Alembic's `generate_revision` passes.
    pub fn template_args(&self) -> TemplateArgs {
        let strs = |v: &[String]| v.iter().cloned().map(Value::Str).collect::<Vec<_>>();
        // `tuple_rev_as_scalar`: empty -> None, one -> the str, more -> the sequence as given
        // (a tuple for the heads, a list for depends_on).
        let scalar = |v: &[String], tuple: bool| match v {
            [] => Value::None,
            [one] => Value::Str(one.clone()),
            many if tuple => Value::Tuple(strs(many)),
            many => Value::List(strs(many)),
        };
        let mut data: BTreeMap<String, Value> = self
            .extra_args
            .iter()
            .map(|(k, v)| (k.clone(), Value::Str(v.clone())))
            .collect();
        data.insert("up_revision".into(), Value::Str(self.rev_id.clone()));
        data.insert("down_revision".into(), scalar(&self.down_revisions, true));
        // `to_tuple`: no label -> None, otherwise always a tuple.
        data.insert(
            "branch_labels".into(),
            if self.branch_labels.is_empty() {
                Value::None
            } else {
                Value::Tuple(strs(&self.branch_labels))
            },
        );
        data.insert("depends_on".into(), scalar(&self.depends_on, false));
        data.insert("create_date".into(), self.create_date.value());
        data.insert(
            "message".into(),
            Value::Str(
                self.message
                    .clone()
                    .unwrap_or_else(|| "empty message".to_string()),
            ),
        );
        TemplateArgs {
            data,
            main_options: self.main_options.clone(),
        }
    }
}

/// Renders `script.py.mako` (its text) for `m`: the bytes Alembic writes, before hooks.
pub fn render_module(template_text: &str, m: &NewModule) -> Result<String, TemplateError> {
    Template::parse(template_text)?.render(&m.template_args())
}

/// Alembic's message slug: the `\w+` runs of the message joined by `_` and lower-cased; if
/// longer than `truncate_slug_length` characters, cut there, back to the last `_`, plus `_`.
pub fn slug(message: Option<&str>, truncate_slug_length: usize) -> String {
    let limit = if truncate_slug_length == 0 {
        40
    } else {
        truncate_slug_length
    };
    let words: Vec<String> = message
        .unwrap_or("")
        .split(|c: char| !is_word(c))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    let slug = words.join("_").to_lowercase();
    if slug.chars().count() <= limit {
        return slug;
    }
    let cut: String = slug.chars().take(limit).collect();
    match cut.rfind('_') {
        Some(i) => format!("{}_", &cut[..i]),
        None => format!("{cut}_"),
    }
}

/// Python's `\w` on str patterns: Unicode alphanumerics and `_`. Rust's alphanumeric also
/// counts the Other_Alphabetic marks (some combining vowel signs) that Python does not.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `file_template` cannot be formatted (Alembic fails the same way).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("file_template {template:?}: {reason}")]
pub struct FileTemplateError {
    pub template: String,
    pub reason: String,
}

/// The new module's file name, relative to its version location: `file_template % {rev,
/// slug, epoch, year, month, day, hour, minute, second}` + `.py`. `file_template` is the
/// option's value after config interpolation (`%(rev)s_%(slug)s`, not `%%(rev)s`); a
/// `truncate_slug_length` of 0 means Alembic's default, 40.
pub fn module_file_name(
    file_template: &str,
    m: &NewModule,
    truncate_slug_length: usize,
) -> Result<String, FileTemplateError> {
    let d = &m.create_date.wall;
    let int = |n: u32| Value::Int(i64::from(n));
    let keys: BTreeMap<String, Value> = [
        ("rev", Value::Str(m.rev_id.clone())),
        (
            "slug",
            Value::Str(slug(m.message.as_deref(), truncate_slug_length)),
        ),
        ("epoch", Value::Int(m.create_date.epoch())),
        ("year", Value::Int(i64::from(d.year()))),
        ("month", int(d.month())),
        ("day", int(d.day())),
        ("hour", int(d.hour())),
        ("minute", int(d.minute())),
        ("second", int(d.second())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    super::template::format_mapping(file_template, &keys)
        .map(|name| format!("{name}.py"))
        .map_err(|reason| FileTemplateError {
            template: file_template.to_string(),
            reason,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn date() -> CreateDate {
        let wall = NaiveDate::from_ymd_opt(2024, 5, 6)
            .and_then(|d| d.and_hms_micro_opt(7, 8, 9, 123_456))
            .expect("valid date");
        CreateDate::naive(wall, FixedOffset::east_opt(0).expect("zero offset"))
    }

    #[test]
    fn slug_rules() {
        assert_eq!(slug(None, 40), "");
        assert_eq!(slug(Some("  -- "), 40), "");
        assert_eq!(slug(Some("Add 'users' table!"), 40), "add_users_table");
        assert_eq!(slug(Some("Ünïcødé Straße"), 40), "ünïcødé_straße");
        assert_eq!(slug(Some("abcdefghij"), 4), "abcd_");
        assert_eq!(slug(Some("ab cd ef"), 6), "ab_cd_");
        assert_eq!(slug(Some("ab cd ef"), 5), "ab_");
        assert_eq!(slug(Some("ab cd ef"), 0), "ab_cd_ef");
    }

    #[test]
    fn file_name_keys() {
        let mut m = NewModule::new("ae1027a6acf", date());
        m.message = Some("Add a column".into());
        let name = module_file_name(
            "%(year)d_%(month).2d_%(day).2d_%(hour).2d%(minute).2d-%(rev)s_%(slug)s",
            &m,
            40,
        )
        .expect("formats");
        assert_eq!(name, "2024_05_06_0708-ae1027a6acf_add_a_column.py");
        assert_eq!(
            module_file_name("%(epoch)s", &m, 40).expect("formats"),
            "1714979289.py"
        );
        assert!(module_file_name("%(nope)s", &m, 40).is_err());
    }

    #[test]
    fn timezones() {
        let utc = DateTime::parse_from_rfc3339("2024-05-06T07:08:09Z")
            .expect("valid")
            .with_timezone(&Utc);
        let d = CreateDate::at(utc, Some("utc")).expect("UTC upper-cased");
        assert_eq!(d.utc_offset.local_minus_utc(), 0);
        assert!(d.aware);
        let d = CreateDate::at(utc, Some("Etc/GMT+5")).expect("fixed");
        assert_eq!(d.utc_offset.local_minus_utc(), -5 * 3600);
        assert_eq!(d.epoch(), utc.timestamp());
        assert!(CreateDate::at(utc, Some("zulu")).is_err());
        assert!(CreateDate::at(utc, Some("Europe/Berlin")).is_err());
    }
}
