//! The column properties of `models.yaml` that take a value of their own: a default,
//! checked against the column's type, and an identity.

use serde_yaml_ng::Value;

use super::load::{OwnedSeg, Parser};
use super::{canonical_decimal, ColumnType, DefaultValue, Identity};
use crate::core::Dialect;

/// `identity: always|by_default` or `{generated: always|by_default, start: N,
/// increment: N}`; records the PostgreSQL-only part as a dialect rule.
pub(super) fn parse_identity(
    p: &mut Parser<'_>,
    v: &Value,
    here: &[OwnedSeg],
    what: &str,
) -> Option<Identity> {
    let bad = |p: &mut Parser<'_>, msg: &str| {
        p.error(here, format!("the identity of {what} {msg}"));
        None
    };
    let generated = |s: &str| match s.trim().to_ascii_lowercase().replace(' ', "_").as_str() {
        "always" => Some(true),
        "by_default" => Some(false),
        _ => None,
    };
    let mut id = Identity::PLAIN;
    match v {
        Value::String(s) => match generated(s) {
            Some(a) => id.always = a,
            None => return bad(p, "must be always or by_default"),
        },
        Value::Mapping(_) => {
            let props = p.mapping(
                v,
                here,
                &format!("the identity of {what}"),
                &["generated", "start", "increment"],
            )?;
            for (k, val) in props {
                match (k.as_str(), val) {
                    ("generated", Value::String(s)) if generated(s).is_some() => {
                        id.always = generated(s) == Some(true);
                    }
                    ("generated", _) => return bad(p, "is generated always or by_default"),
                    ("start", Value::Number(n)) if n.as_i64().is_some() => {
                        id.start = n.as_i64().unwrap_or(1);
                    }
                    ("increment", Value::Number(n)) if n.as_i64().is_some_and(|i| i != 0) => {
                        id.increment = n.as_i64().unwrap_or(1);
                    }
                    (k, _) => return bad(p, &format!("has a bad {k}: a whole number (not 0)")),
                }
            }
        }
        _ => {
            return bad(
                p,
                "must be always, by_default or {generated, start, increment}",
            )
        }
    }
    if id != Identity::PLAIN {
        p.rule(
            here,
            &[Dialect::Postgres],
            format!(
                "{what} has an identity with generated always, start or increment, which only \
                 PostgreSQL has (autoincrement: true works everywhere)"
            ),
        );
    }
    Some(id)
}

/// A default as written in the model, checked against the column's type.
pub(super) fn parse_default(v: &Value, ty: &ColumnType) -> Result<DefaultValue, String> {
    use ColumnType as T;
    use DefaultValue as D;
    let d = match v {
        Value::Bool(b) => D::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => D::Int(i),
            None => D::Decimal(canonical_decimal(&n.to_string()).ok_or("is not a number")?),
        },
        Value::String(s) => {
            let lower = s.trim().to_ascii_lowercase();
            let temporal = matches!(ty, T::Timestamp | T::TimestampTz | T::Date | T::Time);
            match lower.as_str() {
                "now" | "current_timestamp" | "now()" if temporal => D::Now,
                "current_date" | "today" if temporal => D::CurrentDate,
                _ => D::Text(s.clone()),
            }
        }
        Value::Mapping(m) if m.len() == 1 => {
            let (k, inner) = m.iter().next().ok_or("is empty")?;
            match (k.as_str(), inner) {
                (Some("sql"), Value::String(s)) => D::Expr(s.clone()),
                (Some("value"), Value::String(s)) => D::Text(s.clone()),
                (Some("value"), other) => return parse_default(other, ty),
                _ => return Err("must be a literal, now, {sql: EXPR} or {value: TEXT}".into()),
            }
        }
        _ => return Err("must be a literal, now, {sql: EXPR} or {value: TEXT}".into()),
    };
    let ok = match (&d, ty) {
        (D::Expr(_), _) => true,
        (D::Now, T::Timestamp | T::TimestampTz) => true,
        (D::CurrentDate, T::Date) => true,
        (D::Now | D::CurrentDate, _) => false,
        (D::Bool(_), T::Boolean) => true,
        (D::Int(i), T::Boolean) => *i == 0 || *i == 1,
        (D::Int(_), t) => t.is_integer() || t.is_decimal() || t.is_textual(),
        (D::Decimal(_), t) => t.is_decimal() || t.is_textual(),
        (D::Text(s), t) if t.is_integer() => s.trim().parse::<i64>().is_ok(),
        (D::Text(s), t) if t.is_decimal() => canonical_decimal(s).is_some(),
        (D::Text(_), T::Boolean) => false,
        (D::Text(_), _) => true,
        (D::Bool(_), _) => false,
    };
    if !ok {
        return Err(format!("({d}) does not fit type {ty}"));
    }
    Ok(d.normalized(ty))
}
