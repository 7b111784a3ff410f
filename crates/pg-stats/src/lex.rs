//! The lexer behind [`normalize`](crate::normalize): splits SQL into the
//! tokens normalisation cares about — space, literal, parameter, other
//! text — as PostgreSQL's lexer would (comments nest, `E'…'` strings take
//! backslash escapes, `$tag$…$tag$` quotes, numbers as PostgreSQL 15+
//! reads them). Linear in the input, never panics.

pub(crate) enum Token<'a> {
    /// Whitespace or a comment.
    Space,
    /// A string, dollar-quoted or numeric literal.
    Literal,
    /// `$n`.
    Param(u32),
    /// Anything else, as written (identifiers, keywords, operators).
    Text(&'a str),
}

pub(crate) fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

/// Splits `sql` into the tokens normalisation cares about. Works on bytes;
/// every cut is at an ASCII byte, so slices stay valid UTF-8.
pub(crate) fn lex<'a>(sql: &'a str, mut emit: impl FnMut(Token<'a>)) {
    let b = sql.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            emit(Token::Space);
        } else if c == b'-' && b.get(i + 1) == Some(&b'-') {
            // To the end of the line (`\r` ends it too, as in PostgreSQL).
            while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                i += 1;
            }
            emit(Token::Space);
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            // Block comments nest in Postgres.
            let mut depth = 0usize;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            emit(Token::Space);
        } else if c == b'\'' {
            i = skip_quoted(b, i, b'\'', false);
            emit(Token::Literal);
        } else if let Some(quote) = string_prefix(b, i) {
            // E'…' (backslash escapes), B'…', X'…', N'…', U&'…'.
            i = skip_quoted(b, quote, b'\'', c == b'e' || c == b'E');
            emit(Token::Literal);
        } else if c == b'"' {
            let start = i;
            i = skip_quoted(b, i, b'"', false);
            emit(Token::Text(&sql[start..i]));
        } else if c == b'$' {
            let start = i;
            let mut j = i + 1;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            // `$` and digits is a parameter whatever follows (a dollar
            // quote's tag never starts with a digit; letters glued to it are
            // an error in PostgreSQL 15+, an identifier before).
            if j > i + 1 {
                let n = sql[i + 1..j].parse().unwrap_or(u32::MAX);
                emit(Token::Param(n));
                i = j;
            } else if let Some(end) = dollar_quote_end(b, i) {
                emit(Token::Literal);
                i = end;
            } else {
                i += 1;
                emit(Token::Text(&sql[start..i]));
            }
        } else if c.is_ascii_digit()
            || (c == b'.'
                && b.get(i + 1).is_some_and(u8::is_ascii_digit)
                && (i == 0 || !is_ident(b[i - 1])))
        {
            if i > 0 && is_ident(b[i - 1]) {
                // A digit inside an identifier such as `t1` (`c` is a digit here,
                // so the scan advances).
                let start = i;
                while i < b.len() && is_ident(b[i]) {
                    i += 1;
                }
                emit(Token::Text(&sql[start..i]));
                continue;
            }
            i = skip_number(b, i);
            emit(Token::Literal);
        } else if is_ident(c) {
            let start = i;
            while i < b.len() && (is_ident(b[i]) || b[i] == b'$') {
                i += 1;
            }
            emit(Token::Text(&sql[start..i]));
        } else {
            let start = i;
            i += 1;
            // Keep multi-byte characters whole (non-ASCII bytes are ident bytes above).
            emit(Token::Text(&sql[start..i]));
        }
    }
}

/// Index just past the closing `quote` of the quoted run that starts at `i`.
fn skip_quoted(b: &[u8], i: usize, quote: u8, backslash: bool) -> usize {
    let mut j = i + 1;
    while j < b.len() {
        if backslash && b[j] == b'\\' {
            j += 2;
        } else if b[j] == quote {
            if b.get(j + 1) == Some(&quote) {
                j += 2;
            } else {
                return j + 1;
            }
        } else {
            j += 1;
        }
    }
    b.len()
}

/// For a string with a prefix at `i` (`E'`, `B'`, `X'`, `N'`, `U&'`, any
/// case, not inside an identifier), the index of its opening quote.
fn string_prefix(b: &[u8], i: usize) -> Option<usize> {
    if i > 0 && is_ident(b[i - 1]) {
        return None;
    }
    let quote = match b[i].to_ascii_lowercase() {
        b'e' | b'b' | b'x' | b'n' => i + 1,
        b'u' if b.get(i + 1) == Some(&b'&') => i + 2,
        _ => return None,
    };
    (b.get(quote) == Some(&b'\'')).then_some(quote)
}

/// Index just past the numeric literal at `i`, read as PostgreSQL 15+
/// reads it: digits, `_` separators, a fraction and an exponent, `0x`/`0o`/
/// `0b` integers (16+), and any letters glued to it (an error there, never
/// an identifier), so no digit of it is left outside the placeholder.
fn skip_number(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.' || b[i] == b'_') {
        i += 1;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            i = j;
        }
    }
    // Letters glued to the number belong to it, up to a string prefix
    // after a non-digit (`1.E'…'`: the `E` opens an escape string, whose
    // backslashes the string scan must honour; in `0x1E'…'` or `1E'…'` the
    // `E` is still the number's).
    while i < b.len() && is_ident(b[i]) && string_prefix(b, i).is_none() {
        i += 1;
    }
    i
}

/// For `$tag$ … $tag$` starting at `i`, the index past the closing tag.
fn dollar_quote_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < b.len() && b[j] != b'$' {
        if !is_ident(b[j]) || b[j].is_ascii_digit() && j == i + 1 {
            return None;
        }
        j += 1;
    }
    if j >= b.len() {
        return None;
    }
    let tag = &b[i..=j];
    let body = j + 1;
    let mut k = body;
    while k + tag.len() <= b.len() {
        if &b[k..k + tag.len()] == tag {
            return Some(k + tag.len());
        }
        k += 1;
    }
    Some(b.len())
}
