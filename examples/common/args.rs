//! The command line of the examples: `--name VALUE` options, positional arguments and
//! `-h`/`--help`, with errors that name the option. Each example includes this file with
//! `#[path = "common/args.rs"] mod args;`.

use std::fmt::Display;
use std::str::FromStr;

/// One command-line argument.
pub enum Arg {
    /// `--name VALUE`.
    Option(Named),
    /// Anything that does not start with `-`.
    Positional(String),
    /// `-h` or `--help`.
    Help,
}

/// An option and its value.
pub struct Named {
    /// The option, with its dashes (`--seed`).
    pub name: String,
    value: String,
}

impl Named {
    /// The value, parsed; the error names the option.
    pub fn parse<T: FromStr>(&self) -> Result<T, String>
    where
        T::Err: Display,
    {
        self.value
            .parse()
            .map_err(|e| format!("{} {}: {e}", self.name, self.value))
    }

    /// The error for an option the example does not have.
    pub fn unknown(&self, usage: &str) -> String {
        format!("unknown option {}; {usage}", self.name)
    }
}

/// The arguments after the program name, in order.
///
/// # Errors
/// An option without a value, or a single-dash argument other than `-h`.
pub fn parse(usage: &str) -> Result<Vec<Arg>, String> {
    let mut args = std::env::args().skip(1);
    let mut parsed = Vec::new();
    while let Some(arg) = args.next() {
        parsed.push(match arg.as_str() {
            "-h" | "--help" => Arg::Help,
            name if name.starts_with("--") => {
                let value = args
                    .next()
                    .ok_or(format!("{name} needs a value; {usage}"))?;
                Arg::Option(Named { name: arg, value })
            }
            name if name.starts_with('-') => return Err(format!("unknown option {name}; {usage}")),
            _ => Arg::Positional(arg),
        });
    }
    Ok(parsed)
}
