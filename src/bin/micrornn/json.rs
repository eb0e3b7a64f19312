//! A flat JSON object of numbers and strings, written by hand (the binary prints one).

use std::fmt::Write as _;

/// One value of the object.
pub enum Value {
    /// An integer.
    Int(u64),
    /// A float; NaN and infinities become `null`.
    Float(f64),
    /// `null`.
    Null,
    /// A string.
    Str(String),
    /// `true` or `false`.
    Bool(bool),
}

/// Renders `{"key": value, …}` on one line.
pub fn object(fields: &[(&str, Value)]) -> String {
    let mut out = String::from("{");
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "\"{key}\": ");
        match value {
            Value::Int(v) => {
                let _ = write!(out, "{v}");
            }
            Value::Float(v) if v.is_finite() => {
                let _ = write!(out, "{v}");
            }
            Value::Float(_) | Value::Null => out.push_str("null"),
            Value::Bool(v) => {
                let _ = write!(out, "{v}");
            }
            Value::Str(s) => {
                out.push('"');
                for c in s.chars() {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        c if (c as u32) < 0x20 => {
                            let _ = write!(out, "\\u{:04x}", c as u32);
                        }
                        c => out.push(c),
                    }
                }
                out.push('"');
            }
        }
    }
    out.push('}');
    out
}
