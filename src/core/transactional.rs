//! Whether a revision's SQL runs inside a transaction: one answer per dialect and
//! direction, so a revision that needs to run outside one on a single backend (SQLite's
//! table rebuild with `PRAGMA foreign_keys=OFF`, PostgreSQL's `CREATE INDEX
//! CONCURRENTLY`) does not lose its transaction everywhere else.

use std::fmt;

use super::plan::Direction;
use super::revision::Dialect;

/// One bit per (dialect, direction): set means "inside a transaction".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Transactional(u8);

/// The directions that run SQL.
const DIRECTIONS: [Direction; 2] = [Direction::Upgrade, Direction::Downgrade];

fn bit(dialect: Dialect, direction: Direction) -> u8 {
    let d = Dialect::ALL.iter().position(|&x| x == dialect).unwrap_or(0);
    let w = usize::from(direction == Direction::Downgrade);
    1 << (d * 2 + w)
}

impl Transactional {
    /// Inside a transaction everywhere: the default.
    pub const ALWAYS: Transactional = Transactional(0b11_1111);
    /// Outside a transaction everywhere (`transactional: false`).
    pub const NEVER: Transactional = Transactional(0);

    /// Whether `direction`'s SQL on `dialect` runs inside a transaction. A stamp runs no
    /// SQL of the revision: it counts as the upgrade.
    pub fn get(self, dialect: Dialect, direction: Direction) -> bool {
        let direction = match direction {
            Direction::Stamp => Direction::Upgrade,
            d => d,
        };
        self.0 & bit(dialect, direction) != 0
    }

    /// The same with one cell changed.
    pub fn with(self, dialect: Dialect, direction: Direction, inside: bool) -> Self {
        let b = bit(dialect, direction);
        Transactional(if inside { self.0 | b } else { self.0 & !b })
    }

    /// `Some(answer)` when every dialect and direction has the same one.
    pub fn uniform(self) -> Option<bool> {
        match self {
            Self::ALWAYS => Some(true),
            Self::NEVER => Some(false),
            _ => None,
        }
    }

    /// True when some dialect or direction runs outside a transaction.
    pub fn anywhere_outside(self) -> bool {
        self != Self::ALWAYS
    }

    /// The bits, for caches (see [`Transactional::from_bits`]).
    pub fn bits(self) -> u8 {
        self.0
    }

    /// The value [`Transactional::bits`] gave; unknown bits are dropped.
    pub fn from_bits(bits: u8) -> Self {
        Transactional(bits & Self::ALWAYS.0)
    }

    /// The (dialect, direction) pairs that run outside a transaction.
    pub fn outside(self) -> impl Iterator<Item = (Dialect, Direction)> {
        Dialect::ALL
            .into_iter()
            .flat_map(|d| DIRECTIONS.into_iter().map(move |w| (d, w)))
            .filter(move |&(d, w)| !self.get(d, w))
    }

    /// The shortest YAML value that says this: `false`, or a mapping such as
    /// `{sqlite: {downgrade: false}}` listing only what runs outside a transaction.
    /// `None` for the default (the key is left out).
    pub fn to_yaml(self) -> Option<String> {
        match self.uniform() {
            Some(true) => return None,
            Some(false) => return Some("false".to_owned()),
            None => {}
        }
        let mut parts = Vec::new();
        for d in Dialect::ALL {
            let up = self.get(d, Direction::Upgrade);
            let down = self.get(d, Direction::Downgrade);
            match (up, down) {
                (true, true) => {}
                (false, false) => parts.push(format!("{}: false", d.name())),
                (false, true) => parts.push(format!("{}: {{upgrade: false}}", d.name())),
                (true, false) => parts.push(format!("{}: {{downgrade: false}}", d.name())),
            }
        }
        Some(format!("{{{}}}", parts.join(", ")))
    }
}

impl Default for Transactional {
    fn default() -> Self {
        Self::ALWAYS
    }
}

impl From<bool> for Transactional {
    fn from(inside: bool) -> Self {
        if inside {
            Self::ALWAYS
        } else {
            Self::NEVER
        }
    }
}

impl fmt::Display for Transactional {
    /// `true`, `false`, or `false on sqlite downgrade, postgres upgrade`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.uniform() {
            Some(b) => write!(f, "{b}"),
            None => {
                let cells: Vec<String> = self
                    .outside()
                    .map(|(d, w)| format!("{} {}", d.name(), w.name()))
                    .collect();
                write!(f, "false on {}", cells.join(", "))
            }
        }
    }
}

/// A `transactional:` mapping entry as written: a dialect or a direction, and either
/// one answer or a mapping of the other kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxKey {
    Dialect(Dialect),
    Direction(Direction),
}

impl TxKey {
    /// `sqlite`, `postgres`, `mysql` (and their aliases), `upgrade` or `downgrade`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "upgrade" => Some(TxKey::Direction(Direction::Upgrade)),
            "downgrade" => Some(TxKey::Direction(Direction::Downgrade)),
            other => Dialect::parse(other).map(TxKey::Dialect),
        }
    }
}

/// One mapping entry: its key, and `Ok(answer)` or `Err(the nested entries)`.
pub type TxEntry = (TxKey, Result<bool, Vec<(TxKey, bool)>>);

/// Builds the value from a mapping's entries: `(key, Ok(answer))` for `key: false`,
/// `(key, Err(inner entries))` for `key: {other: false}`. A nested answer is more
/// specific than a plain one and wins over it; two plain answers that disagree on one
/// cell (`sqlite: true` with `downgrade: false`) are an error naming both.
pub fn from_entries(entries: &[TxEntry]) -> Result<Transactional, String> {
    let mut value = Transactional::ALWAYS;
    let mut plain: Vec<(Dialect, Direction, bool, String)> = Vec::new();
    let mut nested: Vec<(Dialect, Direction, bool)> = Vec::new();
    for (key, answer) in entries {
        match answer {
            Ok(b) => {
                for (d, w) in cells(key) {
                    plain.push((d, w, *b, key_name(key)));
                }
            }
            Err(inner) => {
                for (inner_key, b) in inner {
                    let (d, w) = match (key, inner_key) {
                        (TxKey::Dialect(d), TxKey::Direction(w))
                        | (TxKey::Direction(w), TxKey::Dialect(d)) => (*d, *w),
                        _ => {
                            return Err(format!(
                                "transactional: under '{}' name {}, not '{}'",
                                key_name(key),
                                match key {
                                    TxKey::Dialect(_) => "a direction (upgrade, downgrade)",
                                    TxKey::Direction(_) => "a dialect (sqlite, postgres, mysql)",
                                },
                                key_name(inner_key)
                            ))
                        }
                    };
                    nested.push((d, w, *b));
                }
            }
        }
    }
    for (i, (d, w, b, name)) in plain.iter().enumerate() {
        if let Some((_, _, _, other)) = plain[..i]
            .iter()
            .find(|(d2, w2, b2, _)| d2 == d && w2 == w && b2 != b)
        {
            return Err(format!(
                "transactional: '{other}' and '{name}' disagree about {} {}; say it once, e.g. {}: {{{}: {b}}}",
                d.name(),
                w.name(),
                d.name(),
                w.name()
            ));
        }
        value = value.with(*d, *w, *b);
    }
    for (d, w, b) in nested {
        value = value.with(d, w, b);
    }
    Ok(value)
}

fn cells(key: &TxKey) -> Vec<(Dialect, Direction)> {
    match key {
        TxKey::Dialect(d) => DIRECTIONS.iter().map(|&w| (*d, w)).collect(),
        TxKey::Direction(w) => Dialect::ALL.iter().map(|&d| (d, *w)).collect(),
    }
}

fn key_name(key: &TxKey) -> String {
    match key {
        TxKey::Dialect(d) => d.name().to_owned(),
        TxKey::Direction(w) => w.name().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Dialect::*;
    use Direction::*;

    #[test]
    fn one_cell_leaves_the_others_inside() {
        let t = Transactional::ALWAYS.with(Sqlite, Downgrade, false);
        assert!(!t.get(Sqlite, Downgrade));
        assert!(t.get(Sqlite, Upgrade));
        assert!(t.get(Postgres, Downgrade));
        assert!(t.get(Mysql, Upgrade));
        assert_eq!(t.uniform(), None);
        assert_eq!(t.to_string(), "false on sqlite downgrade");
        assert_eq!(t.to_yaml().as_deref(), Some("{sqlite: {downgrade: false}}"));
        assert_eq!(Transactional::from_bits(t.bits()), t);
    }

    #[test]
    fn uniform_values_read_as_booleans() {
        assert_eq!(
            Transactional::from(false).to_yaml().as_deref(),
            Some("false")
        );
        assert_eq!(Transactional::from(true).to_yaml(), None);
        assert_eq!(Transactional::NEVER.to_string(), "false");
        assert!(!Transactional::NEVER.get(Postgres, Stamp));
    }

    #[test]
    fn entries_nest_either_way_and_the_nested_answer_wins() {
        let a = from_entries(&[(
            TxKey::Dialect(Sqlite),
            Err(vec![(TxKey::Direction(Downgrade), false)]),
        )])
        .unwrap();
        let b = from_entries(&[(
            TxKey::Direction(Downgrade),
            Err(vec![(TxKey::Dialect(Sqlite), false)]),
        )])
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a, Transactional::ALWAYS.with(Sqlite, Downgrade, false));
        let c = from_entries(&[
            (TxKey::Dialect(Postgres), Ok(false)),
            (
                TxKey::Dialect(Postgres),
                Err(vec![(TxKey::Direction(Downgrade), true)]),
            ),
        ])
        .unwrap();
        assert!(!c.get(Postgres, Upgrade));
        assert!(c.get(Postgres, Downgrade));
    }

    #[test]
    fn plain_answers_that_disagree_are_an_error() {
        let e = from_entries(&[
            (TxKey::Dialect(Sqlite), Ok(true)),
            (TxKey::Direction(Downgrade), Ok(false)),
        ])
        .unwrap_err();
        assert!(
            e.contains("'sqlite' and 'downgrade' disagree about sqlite downgrade"),
            "{e}"
        );
        let e = from_entries(&[(
            TxKey::Dialect(Sqlite),
            Err(vec![(TxKey::Dialect(Postgres), false)]),
        )])
        .unwrap_err();
        assert!(e.contains("under 'sqlite' name a direction"), "{e}");
    }

    #[test]
    fn every_yaml_rendering_reads_back_through_the_entries() {
        for bits in 0..=Transactional::ALWAYS.bits() {
            let t = Transactional::from_bits(bits);
            let Some(_) = t.to_yaml() else { continue };
            // Rebuild from `outside()`, the cells the YAML lists.
            let entries: Vec<_> = t
                .outside()
                .map(|(d, w)| (TxKey::Dialect(d), Err(vec![(TxKey::Direction(w), false)])))
                .collect();
            assert_eq!(from_entries(&entries).unwrap(), t, "bits {bits:06b}");
        }
    }
}
