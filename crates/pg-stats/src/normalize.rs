//! SQL normalisation: literals become `$n` placeholders, comments go,
//! whitespace collapses — so `WHERE id = 5` and `WHERE id = 7` share a key.

/// Returns the normalised form of `sql`: every string, dollar-quoted and
/// numeric literal is replaced by `$n` (numbered after the highest `$k`
/// parameter the text already uses, as `pg_stat_statements` numbers them),
/// comments are dropped and runs of whitespace become one space.
///
/// Quoted identifiers (`"Name"`) and parameters (`$1`) are kept as written.
///
/// ```
/// use perfect21_pg_stats::normalize;
/// assert_eq!(
///     normalize("SELECT *  FROM t\n WHERE id = 5 AND name = 'x'"),
///     "SELECT * FROM t WHERE id = $1 AND name = $2"
/// );
/// assert_eq!(normalize("SELECT $1 + 10"), "SELECT $1 + $2");
/// ```
pub fn normalize(sql: &str) -> String {
    let mut highest = 0u32;
    lex(sql, |token| {
        if let Token::Param(n) = token {
            highest = highest.max(n);
        }
    });
    let mut out = String::with_capacity(sql.len());
    let mut next = highest;
    let mut pending_space = false;
    lex(sql, |token| {
        let text: std::borrow::Cow<'_, str> = match token {
            Token::Space => {
                pending_space = true;
                return;
            }
            Token::Literal => {
                next = next.saturating_add(1);
                format!("${next}").into()
            }
            Token::Param(n) => format!("${n}").into(),
            Token::Text(t) => t.into(),
        };
        if pending_space && !out.is_empty() {
            out.push(' ');
        }
        pending_space = false;
        out.push_str(&text);
    });
    out
}

enum Token<'a> {
    Space,
    Literal,
    Param(u32),
    Text(&'a str),
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

/// Splits `sql` into the tokens normalisation cares about. Works on bytes;
/// every cut is at an ASCII byte, so slices stay valid UTF-8.
fn lex<'a>(sql: &'a str, mut emit: impl FnMut(Token<'a>)) {
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
            while i < b.len() && b[i] != b'\n' {
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
        } else if (c == b'e' || c == b'E')
            && b.get(i + 1) == Some(&b'\'')
            && (i == 0 || !is_ident(b[i - 1]))
        {
            i = skip_quoted(b, i + 1, b'\'', true);
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
            if j > i + 1 && (j == b.len() || !is_ident(b[j])) {
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
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
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

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn literals_share_a_key() {
        assert_eq!(
            normalize("SELECT v FROM t WHERE id = 5"),
            normalize("SELECT v FROM t WHERE id = 7")
        );
        assert_eq!(
            normalize("select * from t where name = 'it''s' and x = 1.5e3"),
            "select * from t where name = $1 and x = $2"
        );
    }

    #[test]
    fn parameters_identifiers_and_comments() {
        assert_eq!(normalize("SELECT $2, $1, 3"), "SELECT $2, $1, $3");
        assert_eq!(normalize("SELECT t1.c2 FROM t1"), "SELECT t1.c2 FROM t1");
        assert_eq!(
            normalize("SELECT \"Col 1\" -- the 1st\n FROM /* a /* nested */ 2 */ t"),
            "SELECT \"Col 1\" FROM t"
        );
        assert_eq!(normalize("  SELECT\n\t1  "), "SELECT $1");
    }

    #[test]
    fn escape_and_dollar_strings() {
        assert_eq!(normalize(r"SELECT E'a\'b', 'c'"), "SELECT $1, $2");
        assert_eq!(
            normalize("SELECT $q$ it's 5 $q$ || $$x$$"),
            "SELECT $1 || $2"
        );
        assert_eq!(normalize("SELECT 'unterminated"), "SELECT $1");
        assert_eq!(normalize("SELECT 'é' AS café"), "SELECT $1 AS café");
        // Found by the property test: `.digit` right after an identifier.
        assert_eq!(normalize("a.5"), "a.$1");
    }
}
