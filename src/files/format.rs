//! The on-disk shape of a revision file (serde), and its conversion to the core model.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::core::{Dialect, Revision, RevisionId, Sql, Transactional};

/// A YAML scalar that may be written with or without quotes.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    fn into_text(self, what: &str) -> Result<String, String> {
        match self {
            Scalar::Text(s) => Ok(s),
            Scalar::Int(i) => Err(format!(
                "{what} {i} is a number to YAML; quote it (\"{i}\") so leading zeros and digits are kept"
            )),
            Scalar::Float(f) => Err(format!("{what} {f} is a number to YAML; quote it")),
            Scalar::Bool(b) => Err(format!("{what} {b} is a boolean to YAML; quote it")),
        }
    }
}

/// The most ids or labels one key may list.
pub const MAX_LIST: usize = 1000;

/// One id or label, or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(Scalar),
    Many(Vec<Scalar>),
}

impl OneOrMany {
    fn into_texts(self, what: &str) -> Result<Vec<String>, String> {
        if let OneOrMany::Many(v) = &self {
            if v.len() > MAX_LIST {
                return Err(format!(
                    "{what} lists {} entries; at most {MAX_LIST} are allowed",
                    v.len()
                ));
            }
        }
        match self {
            OneOrMany::One(s) => Ok(vec![s.into_text(what)?]),
            OneOrMany::Many(v) => v.into_iter().map(|s| s.into_text(what)).collect(),
        }
    }
}

/// SQL as written: one script, or a map from dialect name to script.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SqlText {
    All(String),
    PerDialect(BTreeMap<String, String>),
}

impl SqlText {
    fn into_sql(self, what: &str) -> Result<Sql, String> {
        match self {
            SqlText::All(s) => Ok(Sql::All(s)),
            SqlText::PerDialect(map) => {
                let mut out = BTreeMap::new();
                for (name, sql) in map {
                    let dialect = Dialect::parse(&name).ok_or_else(|| {
                        format!("{what} has unknown dialect '{name}' (expected sqlite, postgres or mysql)")
                    })?;
                    out.insert(dialect, sql);
                }
                Ok(Sql::PerDialect(out))
            }
        }
    }
}

/// `transactional:` as written: one answer, or a mapping by dialect and/or direction
/// (`{sqlite: {downgrade: false}}`, `{downgrade: {sqlite: false}}`, `{postgres: false}`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum TxValue {
    One(bool),
    Map(BTreeMap<String, TxInner>),
}

/// One entry of a `transactional:` mapping.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum TxInner {
    One(bool),
    Map(BTreeMap<String, bool>),
}

impl TxValue {
    fn into_transactional(self) -> Result<Transactional, String> {
        use crate::core::transactional::{from_entries, TxKey};
        let key = |name: &str| {
            TxKey::parse(name).ok_or_else(|| {
                format!("transactional: unknown key '{name}' (expected sqlite, postgres, mysql, upgrade or downgrade)")
            })
        };
        match self {
            TxValue::One(b) => Ok(b.into()),
            TxValue::Map(map) => {
                let mut entries = Vec::new();
                for (name, inner) in map {
                    let answer = match inner {
                        TxInner::One(b) => Ok(b),
                        TxInner::Map(m) => Err(m
                            .into_iter()
                            .map(|(n, b)| Ok((key(&n)?, b)))
                            .collect::<Result<Vec<_>, String>>()?),
                    };
                    entries.push((key(&name)?, answer));
                }
                from_entries(&entries)
            }
        }
    }
}

/// A revision file as parsed. Unknown keys are errors: a typo such as `down_revison`
/// must never silently make a new base.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevisionFile {
    pub revision: Scalar,
    #[serde(default)]
    pub down_revision: Option<OneOrMany>,
    pub message: String,
    #[serde(default)]
    pub create_date: Option<DateTime<Utc>>,
    #[serde(default)]
    pub branch_labels: Option<OneOrMany>,
    #[serde(default)]
    pub depends_on: Option<OneOrMany>,
    #[serde(default)]
    pub transactional: Option<TxValue>,
    #[serde(default)]
    pub upgrade: Option<SqlText>,
    #[serde(default)]
    pub downgrade: Option<SqlText>,
    /// `lint: {allow: [rule-id, ...]}`: lint rules this revision is allowed to break
    /// (read by `migrate lint`, which checks the ids).
    #[serde(default)]
    pub lint: Option<LintSection>,
}

/// A revision's (or the project's) `lint:` settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintSection {
    /// Rule ids not reported here.
    #[serde(default)]
    pub allow: Vec<String>,
}

impl RevisionFile {
    /// Checks ids and labels and builds the core revision; the error says which field.
    pub fn into_revision(self) -> Result<(Revision, &'static str), (String, &'static str)> {
        let id = self
            .revision
            .into_text("revision")
            .and_then(|t| RevisionId::parse(&t))
            .map_err(|e| (e, "revision"))?;
        let down_revisions = match self.down_revision {
            None => Vec::new(),
            Some(d) => d
                .into_texts("down_revision")
                .and_then(|v| v.iter().map(|t| RevisionId::parse(t)).collect())
                .map_err(|e| (e, "down_revision"))?,
        };
        let branch_labels = match self.branch_labels {
            None => Vec::new(),
            Some(l) => {
                let labels = l
                    .into_texts("branch label")
                    .map_err(|e| (e, "branch_labels"))?;
                for label in &labels {
                    crate::core::revision::validate_name(label, "branch label")
                        .map_err(|e| (e, "branch_labels"))?;
                }
                labels
            }
        };
        let depends_on = match self.depends_on {
            None => Vec::new(),
            Some(d) => d.into_texts("depends_on").map_err(|e| (e, "depends_on"))?,
        };
        let upgrade = self
            .upgrade
            .map(|s| s.into_sql("upgrade"))
            .transpose()
            .map_err(|e| (e, "upgrade"))?;
        let downgrade = self
            .downgrade
            .map(|s| s.into_sql("downgrade"))
            .transpose()
            .map_err(|e| (e, "downgrade"))?;
        if self.message.trim().is_empty() {
            return Err(("message is empty".into(), "message"));
        }
        let transactional = match self.transactional {
            None => Transactional::ALWAYS,
            Some(t) => t.into_transactional().map_err(|e| (e, "transactional"))?,
        };
        Ok((
            Revision {
                id,
                down_revisions,
                depends_on,
                branch_labels,
                message: self.message,
                create_date: self.create_date,
                transactional,
                upgrade,
                downgrade,
                body: crate::core::Body::Sql,
                origin: Default::default(),
            },
            "",
        ))
    }
}
