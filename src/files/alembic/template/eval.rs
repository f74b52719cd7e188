//! Evaluation of parsed expressions with Python's semantics, over template data and the few
//! objects Alembic's templates call into (`config`, `context`, `re`, `comma`, builtins).

use super::expr::{CmpOp, Expr};
use super::pyvalue::{percent_format, py_repr, py_str, re_split, FormatArgs, Value};
use super::{Failure, Scope};

/// A value during evaluation: template data or one of the few objects templates call into.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Obj {
    Val(Value),
    /// Mako's `UNDEFINED`: a name no one passed; false, and an error when printed.
    Undefined(String),
    Config,
    Context,
    ReModule,
    Builtin(&'static str),
    Method(Box<Obj>, String),
}

impl Obj {
    fn describe(&self) -> String {
        match self {
            Obj::Val(v) => type_name(v).to_string(),
            Obj::Undefined(n) => format!("undefined name `{n}`"),
            Obj::Config => "`config`".into(),
            Obj::Context => "`context`".into(),
            Obj::ReModule => "module `re`".into(),
            Obj::Builtin(n) => format!("builtin `{n}`"),
            Obj::Method(_, n) => format!("method `{n}`"),
        }
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::None => "None",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Str(_) => "str",
        Value::Tuple(_) => "tuple",
        Value::List(_) => "list",
        Value::DateTime { .. } => "datetime",
    }
}

pub(crate) fn truthy(o: &Obj) -> bool {
    match o {
        Obj::Val(Value::None) | Obj::Undefined(_) => false,
        Obj::Val(Value::Bool(b)) => *b,
        Obj::Val(Value::Int(n)) => *n != 0,
        Obj::Val(Value::Str(s)) => !s.is_empty(),
        Obj::Val(Value::Tuple(v) | Value::List(v)) => !v.is_empty(),
        _ => true,
    }
}

fn runtime(msg: String) -> Failure {
    Failure::Runtime(msg)
}

fn val(o: Obj, what: &str) -> Result<Value, Failure> {
    match o {
        Obj::Val(v) => Ok(v),
        other => Err(runtime(format!(
            "{what}: {} is not a value",
            other.describe()
        ))),
    }
}

fn string(o: Obj, what: &str) -> Result<String, Failure> {
    match o {
        Obj::Val(Value::Str(s)) => Ok(s),
        other => Err(runtime(format!(
            "{what} expects a str, got {}",
            other.describe()
        ))),
    }
}

/// Evaluates `e` in `scope`.
pub(crate) fn eval(e: &Expr, scope: &Scope) -> Result<Obj, Failure> {
    Ok(match e {
        Expr::Name(n) => scope.lookup(n),
        Expr::Const(v) => Obj::Val(v.clone()),
        Expr::Tuple(items) | Expr::List(items) => {
            let vals = items
                .iter()
                .map(|i| val(eval(i, scope)?, "a tuple or list item"))
                .collect::<Result<Vec<_>, _>>()?;
            Obj::Val(if matches!(e, Expr::List(_)) {
                Value::List(vals)
            } else {
                Value::Tuple(vals)
            })
        }
        Expr::Attr(target, name) => attribute(eval(target, scope)?, name)?,
        Expr::Call(f, args) => {
            let f = eval(f, scope)?;
            let args = args
                .iter()
                .map(|a| eval(a, scope))
                .collect::<Result<Vec<_>, _>>()?;
            call(f, args, scope)?
        }
        Expr::Index(target, index) => {
            let target = val(eval(target, scope)?, "subscript")?;
            let index = val(eval(index, scope)?, "subscript")?;
            Obj::Val(subscript(&target, &index)?)
        }
        Expr::Not(x) => Obj::Val(Value::Bool(!truthy(&eval(x, scope)?))),
        Expr::Neg(x) => match eval(x, scope)? {
            Obj::Val(Value::Int(n)) => Obj::Val(Value::Int(-n)),
            other => {
                return Err(runtime(format!(
                    "bad operand for unary -: {}",
                    other.describe()
                )))
            }
        },
        Expr::And(a, b) => {
            let a = eval(a, scope)?;
            if truthy(&a) {
                eval(b, scope)?
            } else {
                a
            }
        }
        Expr::Or(a, b) => {
            let a = eval(a, scope)?;
            if truthy(&a) {
                a
            } else {
                eval(b, scope)?
            }
        }
        Expr::Cond { test, body, orelse } => {
            if truthy(&eval(test, scope)?) {
                eval(body, scope)?
            } else {
                eval(orelse, scope)?
            }
        }
        Expr::Compare(first, rest) => {
            let mut left = eval(first, scope)?;
            for (op, right) in rest {
                let right = eval(right, scope)?;
                if !compare(*op, &left, &right)? {
                    return Ok(Obj::Val(Value::Bool(false)));
                }
                left = right;
            }
            Obj::Val(Value::Bool(true))
        }
        Expr::Add(a, b) => {
            let a = val(eval(a, scope)?, "`+`")?;
            let b = val(eval(b, scope)?, "`+`")?;
            Obj::Val(match (a, b) {
                (Value::Str(a), Value::Str(b)) => Value::Str(a + &b),
                (Value::Int(a), Value::Int(b)) => Value::Int(
                    a.checked_add(b)
                        .ok_or_else(|| Failure::Unsupported("integer overflow".into()))?,
                ),
                (Value::Tuple(mut a), Value::Tuple(b)) => {
                    a.extend(b);
                    Value::Tuple(a)
                }
                (Value::List(mut a), Value::List(b)) => {
                    a.extend(b);
                    Value::List(a)
                }
                (a, b) => {
                    return Err(runtime(format!(
                        "unsupported operand types for +: {} and {}",
                        type_name(&a),
                        type_name(&b)
                    )))
                }
            })
        }
        Expr::Sub(a, b) => match (val(eval(a, scope)?, "`-`")?, val(eval(b, scope)?, "`-`")?) {
            (Value::Int(a), Value::Int(b)) => {
                Obj::Val(Value::Int(a.checked_sub(b).ok_or_else(|| {
                    Failure::Unsupported("integer overflow".into())
                })?))
            }
            (a, b) => {
                return Err(runtime(format!(
                    "unsupported operand types for -: {} and {}",
                    type_name(&a),
                    type_name(&b)
                )))
            }
        },
        Expr::Mod(a, b) => {
            let fmt = string(eval(a, scope)?, "`%` formatting")?;
            let args = match val(eval(b, scope)?, "`%` formatting")? {
                Value::Tuple(items) => items,
                other => vec![other],
            };
            Obj::Val(Value::Str(percent_format(
                &fmt,
                &FormatArgs::Positional(&args),
            )?))
        }
    })
}

fn attribute(target: Obj, name: &str) -> Result<Obj, Failure> {
    let known = match &target {
        Obj::Config => matches!(name, "get_main_option"),
        Obj::Context => matches!(name, "get"),
        Obj::ReModule => matches!(name, "split"),
        Obj::Val(Value::Str(_)) => matches!(
            name,
            "join"
                | "split"
                | "strip"
                | "lstrip"
                | "rstrip"
                | "lower"
                | "upper"
                | "replace"
                | "startswith"
                | "endswith"
        ),
        _ => false,
    };
    if known {
        Ok(Obj::Method(Box::new(target), name.to_string()))
    } else {
        match target {
            Obj::Undefined(n) => Err(runtime(format!("`{n}` is undefined (reading `.{name}`)"))),
            other => Err(Failure::Unsupported(format!(
                "attribute `.{name}` of {}",
                other.describe()
            ))),
        }
    }
}

fn arity(name: &str, args: &[Obj], min: usize, max: usize) -> Result<(), Failure> {
    if args.len() < min || args.len() > max {
        Err(runtime(format!(
            "`{name}` takes {min} to {max} arguments, got {}",
            args.len()
        )))
    } else {
        Ok(())
    }
}

fn call(f: Obj, mut args: Vec<Obj>, scope: &Scope) -> Result<Obj, Failure> {
    match f {
        Obj::Builtin(name) => {
            arity(name, &args, 1, 1)?;
            let arg = args.pop().expect("one argument");
            if name == "comma" {
                // Alembic's `format_as_comma`: None -> "", a str as is, a sequence joined.
                return Ok(Obj::Val(Value::Str(match val(arg, "comma")? {
                    Value::None => String::new(),
                    Value::Str(s) => s,
                    Value::Tuple(items) | Value::List(items) => items
                        .iter()
                        .map(|i| match i {
                            Value::Str(s) => Ok(s.clone()),
                            other => Err(runtime(format!(
                                "comma: sequence item is {}, not str",
                                type_name(other)
                            ))),
                        })
                        .collect::<Result<Vec<_>, _>>()?
                        .join(", "),
                    other => {
                        return Err(runtime(format!(
                            "Don't know how to comma-format {}",
                            type_name(&other)
                        )))
                    }
                })));
            }
            let arg = match arg {
                Obj::Undefined(n) => return Err(runtime(format!("`{n}` is undefined"))),
                other => val(other, name)?,
            };
            Ok(Obj::Val(match name {
                "repr" => Value::Str(py_repr_checked(&arg)?),
                "str" => Value::Str(py_str(&arg)?),
                "len" => Value::Int(match &arg {
                    Value::Str(s) => s.chars().count(),
                    Value::Tuple(v) | Value::List(v) => v.len(),
                    other => {
                        return Err(runtime(format!(
                            "object of type {} has no len()",
                            type_name(other)
                        )))
                    }
                } as i64),
                _ => unreachable!("only known builtins are bound"),
            }))
        }
        Obj::Method(target, name) => method(*target, &name, args, scope),
        Obj::Undefined(n) => Err(runtime(format!("`{n}` is undefined (called)"))),
        other => Err(runtime(format!("{} is not callable", other.describe()))),
    }
}

fn py_repr_checked(v: &Value) -> Result<String, Failure> {
    if contains_datetime(v) {
        return Err(Failure::Unsupported("`repr` of a datetime".into()));
    }
    Ok(py_repr(v))
}

fn contains_datetime(v: &Value) -> bool {
    match v {
        Value::DateTime { .. } => true,
        Value::Tuple(items) | Value::List(items) => items.iter().any(contains_datetime),
        _ => false,
    }
}

fn method(target: Obj, name: &str, args: Vec<Obj>, scope: &Scope) -> Result<Obj, Failure> {
    let what = format!("`.{name}()`");
    match target {
        Obj::Config => {
            arity(name, &args, 1, 2)?;
            let mut args = args.into_iter();
            let key = string(args.next().expect("checked arity"), &what)?;
            Ok(match scope.main_option(&key) {
                Some(v) => Obj::Val(Value::Str(v.to_string())),
                None => args.next().unwrap_or(Obj::Val(Value::None)),
            })
        }
        Obj::Context => {
            arity(name, &args, 1, 2)?;
            let mut args = args.into_iter();
            let key = string(args.next().expect("checked arity"), &what)?;
            Ok(match scope.data(&key) {
                Some(v) => Obj::Val(v.clone()),
                None => args.next().unwrap_or(Obj::Val(Value::None)),
            })
        }
        Obj::ReModule => {
            arity(name, &args, 2, 3)?;
            let mut args = args.into_iter();
            let pattern = string(args.next().expect("checked arity"), &what)?;
            let text = match args.next().expect("checked arity") {
                Obj::Undefined(n) => return Err(runtime(format!("`{n}` is undefined"))),
                other => string(other, &what)?,
            };
            let maxsplit = match args.next() {
                None => 0,
                Some(Obj::Val(Value::Int(n))) => n,
                Some(other) => {
                    return Err(runtime(format!(
                        "maxsplit must be an int, not {}",
                        other.describe()
                    )))
                }
            };
            let parts = re_split(&pattern, &text, maxsplit)?;
            Ok(Obj::Val(Value::List(
                parts.into_iter().map(Value::Str).collect(),
            )))
        }
        Obj::Val(Value::Str(s)) => str_method(&s, name, args),
        other => Err(Failure::Unsupported(format!(
            "method `.{name}` of {}",
            other.describe()
        ))),
    }
}

fn str_method(s: &str, name: &str, args: Vec<Obj>) -> Result<Obj, Failure> {
    let what = format!("`str.{name}()`");
    let strs = |args: Vec<Obj>| -> Result<Vec<String>, Failure> {
        args.into_iter().map(|a| string(a, &what)).collect()
    };
    let out = match name {
        "join" => {
            arity(name, &args, 1, 1)?;
            match val(args.into_iter().next().expect("checked arity"), &what)? {
                Value::Tuple(items) | Value::List(items) => Value::Str(
                    items
                        .into_iter()
                        .map(|i| string(Obj::Val(i), &what))
                        .collect::<Result<Vec<_>, _>>()?
                        .join(s),
                ),
                Value::Str(chars) => {
                    Value::Str(chars.chars().map(String::from).collect::<Vec<_>>().join(s))
                }
                other => {
                    return Err(runtime(format!(
                        "can only join an iterable, not {}",
                        type_name(&other)
                    )))
                }
            }
        }
        "split" => {
            arity(name, &args, 0, 1)?;
            let parts: Vec<Value> = match strs(args)?.first() {
                None => s.split_whitespace().map(|p| Value::Str(p.into())).collect(),
                Some(sep) if sep.is_empty() => return Err(runtime("empty separator".into())),
                Some(sep) => s
                    .split(sep.as_str())
                    .map(|p| Value::Str(p.into()))
                    .collect(),
            };
            Value::List(parts)
        }
        "strip" | "lstrip" | "rstrip" => {
            arity(name, &args, 0, 1)?;
            let chars = strs(args)?.pop();
            let is_strip = |c: char| match &chars {
                Some(set) => set.contains(c),
                None => c.is_whitespace(),
            };
            Value::Str(
                match name {
                    "strip" => s.trim_matches(is_strip),
                    "lstrip" => s.trim_start_matches(is_strip),
                    _ => s.trim_end_matches(is_strip),
                }
                .to_string(),
            )
        }
        "lower" | "upper" => {
            arity(name, &args, 0, 0)?;
            Value::Str(if name == "lower" {
                s.to_lowercase()
            } else {
                s.to_uppercase()
            })
        }
        "replace" => {
            arity(name, &args, 2, 2)?;
            let a = strs(args)?;
            Value::Str(s.replace(&a[0], &a[1]))
        }
        _ => {
            arity(name, &args, 1, 1)?;
            let a = strs(args)?;
            Value::Bool(if name == "startswith" {
                s.starts_with(&a[0])
            } else {
                s.ends_with(&a[0])
            })
        }
    };
    Ok(Obj::Val(out))
}

fn subscript(target: &Value, index: &Value) -> Result<Value, Failure> {
    let Value::Int(i) = index else {
        return Err(runtime(format!(
            "indices must be integers, not {}",
            type_name(index)
        )));
    };
    let items: Vec<Value> = match target {
        Value::Tuple(v) | Value::List(v) => v.clone(),
        Value::Str(s) => s.chars().map(|c| Value::Str(c.to_string())).collect(),
        other => {
            return Err(runtime(format!(
                "{} is not subscriptable",
                type_name(other)
            )))
        }
    };
    let len = items.len() as i64;
    let at = if *i < 0 { len + i } else { *i };
    if at < 0 || at >= len {
        return Err(runtime("index out of range".into()));
    }
    Ok(items[at as usize].clone())
}

fn compare(op: CmpOp, a: &Obj, b: &Obj) -> Result<bool, Failure> {
    match op {
        CmpOp::Eq => Ok(equal(a, b)),
        CmpOp::Ne => Ok(!equal(a, b)),
        CmpOp::Is | CmpOp::IsNot => {
            // Only identity with the singletons None/True/False is meaningful here.
            let same = match (a, b) {
                (Obj::Val(Value::None), Obj::Val(Value::None)) => true,
                (Obj::Val(Value::Bool(x)), Obj::Val(Value::Bool(y))) => x == y,
                (_, Obj::Val(Value::None | Value::Bool(_)))
                | (Obj::Val(Value::None | Value::Bool(_)), _) => false,
                _ => {
                    return Err(Failure::Unsupported(
                        "`is` between two objects other than None/True/False".into(),
                    ))
                }
            };
            Ok(same == (op == CmpOp::Is))
        }
        CmpOp::In | CmpOp::NotIn => {
            let found = match b {
                Obj::Val(Value::Str(hay)) => match a {
                    Obj::Val(Value::Str(needle)) => hay.contains(needle.as_str()),
                    other => {
                        return Err(runtime(format!(
                            "'in <string>' requires string as left operand, not {}",
                            other.describe()
                        )))
                    }
                },
                Obj::Val(Value::Tuple(items) | Value::List(items)) => {
                    items.iter().any(|i| equal(a, &Obj::Val(i.clone())))
                }
                other => return Err(runtime(format!("{} is not iterable", other.describe()))),
            };
            Ok(found == (op == CmpOp::In))
        }
        CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
            let ord = match (a, b) {
                (Obj::Val(Value::Int(x)), Obj::Val(Value::Int(y))) => x.cmp(y),
                (Obj::Val(Value::Str(x)), Obj::Val(Value::Str(y))) => x.cmp(y),
                _ => {
                    return Err(Failure::Unsupported(format!(
                        "ordering comparison of {} and {}",
                        a.describe(),
                        b.describe()
                    )))
                }
            };
            Ok(match op {
                CmpOp::Lt => ord.is_lt(),
                CmpOp::Le => ord.is_le(),
                CmpOp::Gt => ord.is_gt(),
                _ => ord.is_ge(),
            })
        }
    }
}

fn equal(a: &Obj, b: &Obj) -> bool {
    match (a, b) {
        (Obj::Val(x), Obj::Val(y)) => value_eq(x, y),
        (Obj::Undefined(_), Obj::Undefined(_)) => true,
        (x, y) => x == y,
    }
}

fn value_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Bool(x), Value::Int(y)) | (Value::Int(y), Value::Bool(x)) => i64::from(*x) == *y,
        (Value::Tuple(x), Value::Tuple(y)) | (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| value_eq(x, y))
        }
        _ => a == b,
    }
}
