//! Connection strings for display: every password replaced by `***`.
//!
//! The input may be malformed — a password with `@`, `/`, `?` or `#` left
//! unencoded, a value with escaped quotes — and redaction must still hide
//! all of it: where the form is ambiguous, it hides more rather than less.

/// `url` with any password replaced by `***`, for display. Handles URLs
/// (`postgres://user:secret@host/db`, `?password=secret` in the query, also
/// percent-encoded keys) and libpq key=value strings (`password=secret`,
/// `password='a \' b'`); any key containing `password` (`sslpassword`) is
/// hidden too.
///
/// ```
/// use perfect21_pg_stats::redact_url;
/// assert_eq!(
///     redact_url("postgres://alice:p@ss/w?rd@db:5432/app?sslmode=require"),
///     "postgres://alice:***@db:5432/app?sslmode=require"
/// );
/// assert_eq!(
///     redact_url("host=db password='it\\'s secret' user=alice"),
///     "host=db password=*** user=alice"
/// );
/// ```
pub fn redact_url(url: &str) -> String {
    match url.find("://") {
        Some(scheme) => redact_uri(url, scheme + 3),
        None => redact_conninfo(url),
    }
}

/// A URL whose authority starts at `start`.
fn redact_uri(url: &str, start: usize) -> String {
    let rest = &url[start..];
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..start]);
    // The userinfo ends at an `@`; a password may hold `@`, `/`, `?` or
    // `#` unencoded, so it is taken to end at the last `@`. An `@` in the
    // query then makes a longer "userinfo", hidden if it has a `:` (more
    // than needed, never less; tokio-postgres reads such a string as
    // credentials too).
    let host_start = match rest.rfind('@') {
        Some(at) => {
            match rest[..at].split_once(':') {
                Some((user, _)) => {
                    // (`user` is a path and query when the `@` was one.)
                    out.push_str(&redact_query(user));
                    out.push_str(":***");
                }
                // No password there; it may be a path and query.
                None => out.push_str(&redact_query(&rest[..at])),
            }
            at
        }
        None => 0,
    };
    out.push_str(&redact_query(&rest[host_start..]));
    out
}

/// `tail` (host, path, query) with the values of password keys hidden. A
/// segment without `=` after a password is taken as part of it (an
/// unencoded `&` in the password).
fn redact_query(tail: &str) -> String {
    let Some(q) = tail.find('?') else {
        return tail.to_owned();
    };
    let (base, query) = tail.split_at(q + 1);
    let mut parts: Vec<&str> = Vec::new();
    let mut hiding = false;
    for segment in query.split('&') {
        match segment.split_once('=') {
            Some((key, _)) if is_secret_key(&percent_decode(key)) => {
                parts.push(key);
                hiding = true;
            }
            None if hiding => {}
            _ => {
                parts.push(segment);
                hiding = false;
            }
        }
    }
    let mut out = String::with_capacity(tail.len());
    out.push_str(base);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(part);
        if !part.contains('=') && is_secret_key(&percent_decode(part)) {
            out.push_str("=***");
        }
    }
    out
}

/// A libpq `key=value …` string: values of password keys hidden, the rest
/// kept as written.
fn redact_conninfo(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    loop {
        let trimmed = rest.trim_start();
        out.push_str(&rest[..rest.len() - trimmed.len()]);
        rest = trimmed;
        if rest.is_empty() {
            return out;
        }
        let key_end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let key = &rest[..key_end];
        let Some(value) = rest[key_end..].trim_start().strip_prefix('=') else {
            // Not `key = value`: keep the rest unless it may hold a password.
            let lower = rest.to_ascii_lowercase();
            match lower.find("password") {
                Some(i) => {
                    out.push_str(&rest[..i + "password".len()]);
                    out.push_str(" ***");
                }
                None => out.push_str(rest),
            }
            return out;
        };
        let value = value.trim_start();
        let consumed = rest.len() - value.len() + value_len(value);
        if is_secret_key(key) {
            out.push_str(key);
            out.push_str("=***");
        } else {
            out.push_str(&rest[..consumed]);
        }
        rest = &rest[consumed..];
    }
}

/// Bytes of the value at the start of `v`: `'quoted'` or up to whitespace,
/// a backslash escaping the next character (as libpq and tokio-postgres
/// read it); an unterminated quote runs to the end.
fn value_len(v: &str) -> usize {
    let b = v.as_bytes();
    let quoted = b.first() == Some(&b'\'');
    let mut i = usize::from(quoted);
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'\'' if quoted => return i + 1,
            c if !quoted && c.is_ascii_whitespace() => return i,
            _ => i += 1,
        }
    }
    v.len()
}

fn is_secret_key(key: &str) -> bool {
    key.to_ascii_lowercase().contains("password")
}

/// `%XX` decoded (invalid escapes kept as written).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).copied().and_then(hex),
                b.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://alice:s3cret@db:5432/app?sslmode=disable"),
            "postgres://alice:***@db:5432/app?sslmode=disable"
        );
        assert_eq!(
            redact_url("postgres://db/app?user=a&password=s3cret"),
            "postgres://db/app?user=a&password=***"
        );
        assert_eq!(
            redact_url("host=db password='s 3cret' user=a"),
            "host=db password=*** user=a"
        );
        assert_eq!(
            redact_url("postgres://alice@db/app"),
            "postgres://alice@db/app"
        );
        assert_eq!(
            redact_url("postgres://db/app?password=s3&cr3t&user=a"),
            "postgres://db/app?password=***&user=a"
        );
        assert_eq!(
            redact_url("host=db password s3cret"),
            "host=db password ***"
        );
    }
}
