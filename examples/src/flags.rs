//! Command-line flags of the example programs: `--switch` and
//! `--name value`, with numbers parsed and errors naming the flag.

use std::str::FromStr;

use anyhow::{Context, Result};

/// One flag read from the command line.
#[derive(Debug)]
pub enum Flag<'a> {
    /// A flag that takes no value (one of the switches given to [`flags`]).
    Switch(&'a str),
    /// `--name value`.
    Value(&'a str, Value<'a>),
}

/// The value after a flag.
#[derive(Debug, Clone, Copy)]
pub struct Value<'a> {
    flag: &'a str,
    text: &'a str,
}

impl Value<'_> {
    /// The value as given.
    pub fn text(&self) -> String {
        self.text.to_owned()
    }

    /// The value parsed as `T`; the error names the flag and the value.
    pub fn number<T: FromStr>(&self) -> Result<T>
    where
        T::Err: std::error::Error + Send + Sync + 'static,
    {
        self.text
            .parse()
            .with_context(|| format!("{} takes a number, not {}", self.flag, self.text))
    }
}

/// The flags of `args`: each of `switches` stands alone, every other flag
/// takes the argument after it (an error when there is none).
pub fn flags<'a>(
    args: &'a [String],
    switches: &'a [&'a str],
) -> impl Iterator<Item = Result<Flag<'a>>> + 'a {
    let mut iter = args.iter();
    std::iter::from_fn(move || {
        let flag = iter.next()?.as_str();
        if switches.contains(&flag) {
            return Some(Ok(Flag::Switch(flag)));
        }
        Some(
            iter.next()
                .map(|text| Flag::Value(flag, Value { flag, text }))
                .with_context(|| format!("{flag} needs a value")),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn switches_values_numbers_and_errors() {
        let given = args(&["--quiet", "--port", "80", "--name", "x"]);
        let read: Vec<Flag<'_>> = flags(&given, &["--quiet"]).collect::<Result<_>>().unwrap();
        assert!(matches!(read[0], Flag::Switch("--quiet")));
        let Flag::Value("--port", port) = read[1] else {
            panic!("{read:?}")
        };
        assert_eq!(port.number::<u16>().unwrap(), 80);
        let Flag::Value("--name", name) = read[2] else {
            panic!("{read:?}")
        };
        assert_eq!(name.text(), "x");
        let error = name.number::<u16>().unwrap_err().to_string();
        assert_eq!(error, "--name takes a number, not x");
        let missing = args(&["--port"]);
        let error = flags(&missing, &[])
            .next()
            .unwrap()
            .unwrap_err()
            .to_string();
        assert_eq!(error, "--port needs a value");
    }
}
