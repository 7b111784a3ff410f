//! perfect21-pg-stats's SQL normaliser, `normalize`, on hostile input. Two
//! readings of every input:
//!
//! * **Any text.** The bytes as a string (lossy UTF-8): no panic, no hang
//!   (libFuzzer's timeout; it once looped on `.digit`), output no longer
//!   than a placeholder per input byte, and normalising the output again
//!   changes nothing.
//! * **SQL with known literals.** The bytes as a sequence of tokens —
//!   words, quoted identifiers, symbols, spaces, comments, parameters, and
//!   string (`'…'`, `E'…'`, `B'…'`, `X'…'`, `N'…'`, `U&'…'`, `$tag$…$tag$`)
//!   and numeric literals — rendered to SQL. Everything that is not a
//!   literal is written with lowercase letters, `_`, spaces, `"` and ASCII
//!   symbols only, and parameters are the only digits; every literal's
//!   content is written with uppercase letters, digits and any other
//!   character. So the output must hold no character outside the first
//!   alphabet and no digit outside a `$n`: any trace of a literal (even a
//!   part of one) breaks one of the two.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use perfect21_pg_stats::normalize;

/// Longest placeholder (`$4294967295`) per input byte.
const MAX_GROWTH: usize = 11;

fuzz_target!(|data: &[u8]| {
    any_text(&String::from_utf8_lossy(data));
    if let Ok(tokens) = Unstructured::new(data).arbitrary::<Vec<Token>>() {
        known_literals(&tokens);
    }
});

fn any_text(sql: &str) {
    let out = normalize(sql);
    assert!(
        out.len() <= sql.len() * MAX_GROWTH,
        "{sql:?} → {out:?} grew too much"
    );
    assert_eq!(normalize(&out), out, "not idempotent on {sql:?}");
}

fn known_literals(tokens: &[Token]) {
    let sql = render(tokens);
    let out = normalize(&sql);
    let stripped = without_placeholders(&out);
    if let Some(c) = stripped.chars().find(|&c| !plain(c)) {
        panic!("{c:?} of a literal survived:\n  sql: {sql:?}\n  out: {out:?}");
    }
    assert_eq!(normalize(&out), out, "not idempotent on {sql:?}");
}

/// What may appear in the output outside a `$n`.
fn plain(c: char) -> bool {
    c.is_ascii_lowercase() || c == '_' || c == ' ' || c == '"' || c == '$' || SYMBOLS.contains(c)
}

/// `out` without its `$n` placeholders and parameters.
fn without_placeholders(out: &str) -> String {
    let mut s = String::with_capacity(out.len());
    let mut chars = out.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
        } else {
            s.push(c);
        }
    }
    s
}

const WORDS: &[&str] = &[
    "select", "from", "where", "and", "or", "t", "id", "as", "in", "values", "limit", "e", "b",
    "x", "n", "u", "_a", "a_b", "uescape",
];
const SYMBOLS: &str = "=<>+-*/(),;.:[]%^!~?@#&|";

#[derive(Debug, Arbitrary)]
enum Token {
    Word(u8),
    QuotedIdent(Vec<bool>),
    Symbol(u8),
    Space(u8),
    LineComment(String),
    BlockComment(String, bool),
    Param(u8),
    Str(Prefix, String),
    Dollar(u8, String),
    Number(NumberForm, u32, u16),
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum Prefix {
    None,
    E,
    LowerE,
    B,
    X,
    N,
    Unicode,
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum NumberForm {
    Integer,
    Decimal,
    Fraction,
    Exponent,
    SignedExponent,
    Hex,
    Octal,
    Binary,
    Underscored,
    Glued,
}

/// Literal content: lowercase letters (which plain text uses) become
/// uppercase; everything else is kept.
fn secret(content: &str) -> String {
    content.chars().map(|c| c.to_ascii_uppercase()).collect()
}

fn render(tokens: &[Token]) -> String {
    let mut sql = String::new();
    for token in tokens {
        let text = token.render();
        if must_separate(&sql, &text) {
            sql.push(' ');
        }
        sql.push_str(&text);
    }
    sql
}

/// Tokens are glued as written, except where gluing would change what the
/// SQL says (so that a character the oracle flags would be no literal's):
/// a word and a number or dollar quote becoming one identifier, a lone
/// `e` turning the next string into an `E'…'` string, two strings becoming
/// one (`'a''b'`: the second read with the first's escaping rules), `-` `-`
/// and `/` `*` opening a comment.
fn must_separate(sql: &str, next: &str) -> bool {
    let (Some(last), Some(first)) = (sql.chars().last(), next.chars().next()) else {
        return false;
    };
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$' || !c.is_ascii();
    let trailing_word = sql
        .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
        .next()
        .unwrap_or("");
    (word(last) && word(first))
        || (first == '\'' && trailing_word.eq_ignore_ascii_case("e"))
        || (last == '\'' && first == '\'')
        || (last == '-' && first == '-')
        || (last == '/' && first == '*')
}

impl Token {
    fn render(&self) -> String {
        match self {
            Self::Word(i) => WORDS[usize::from(*i) % WORDS.len()].to_owned(),
            Self::QuotedIdent(bits) => {
                let body: String = bits
                    .iter()
                    .enumerate()
                    .map(|(i, &b)| match (b, i % 3) {
                        (true, 0) => "\"\"",
                        (true, _) => " ",
                        (false, 0) => "a",
                        (false, _) => "q",
                    })
                    .collect();
                format!("\"{body}\"")
            }
            Self::Symbol(i) => {
                let i = usize::from(*i) % SYMBOLS.len();
                SYMBOLS[i..=i].to_owned()
            }
            Self::Space(i) => [" ", "\n", "\t", "\r\n", "  "][usize::from(*i) % 5].to_owned(),
            Self::LineComment(text) => {
                // (No `*/`: it must not close a comment the symbols opened.)
                let text: String = text
                    .chars()
                    .filter(|c| !matches!(c, '\n' | '\r' | '*' | '/'))
                    .collect();
                format!("--{text}\n")
            }
            Self::BlockComment(text, nested) => {
                let text: String = text.chars().filter(|c| !matches!(c, '*' | '/')).collect();
                if *nested {
                    format!("/* {text} /* {text} */ */")
                } else {
                    format!("/*{text}*/")
                }
            }
            Self::Param(n) => format!("${}", n % 99 + 1),
            Self::Str(prefix, content) => {
                let content = secret(content);
                match prefix {
                    Prefix::E | Prefix::LowerE => {
                        let body = content.replace('\\', "\\\\").replace('\'', "\\'");
                        let e = if matches!(prefix, Prefix::E) {
                            "E"
                        } else {
                            "e"
                        };
                        format!("{e}'{body}'")
                    }
                    _ => {
                        let p = match prefix {
                            Prefix::B => "B",
                            Prefix::X => "x",
                            Prefix::N => "N",
                            Prefix::Unicode => "U&",
                            _ => "",
                        };
                        format!("{p}'{}'", content.replace('\'', "''"))
                    }
                }
            }
            Self::Dollar(tag, content) => {
                let tag = ["", "q", "_t", "body"][usize::from(*tag) % 4];
                let content: String = secret(content).chars().filter(|&c| c != '$').collect();
                format!("${tag}${content}${tag}$")
            }
            Self::Number(form, a, b) => match form {
                NumberForm::Integer => a.to_string(),
                NumberForm::Decimal => format!("{a}.{b}"),
                NumberForm::Fraction => format!(".{b}"),
                NumberForm::Exponent => format!("{a}e{b}"),
                NumberForm::SignedExponent => format!("{a}.{b}E-{}", b % 300),
                NumberForm::Hex => format!("0x{a:X}"),
                NumberForm::Octal => format!("0o{a:o}"),
                NumberForm::Binary => format!("0b{a:b}"),
                NumberForm::Underscored => format!("{a}_{b:03}"),
                NumberForm::Glued => format!("{a}Z"),
            },
        }
    }
}
