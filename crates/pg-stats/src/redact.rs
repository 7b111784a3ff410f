//! Connection strings for display: the password replaced by `***`.

/// `url` with any password replaced by `***`, for display. Handles URLs
/// (`postgres://user:secret@host`) and key/value strings (`password=secret`).
pub fn redact_url(url: &str) -> String {
    if let Some(scheme_end) = url.find("://") {
        let rest = &url[scheme_end + 3..];
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        if let Some(at) = authority.rfind('@') {
            let userinfo = &authority[..at];
            if let Some(colon) = userinfo.find(':') {
                let mut out = String::with_capacity(url.len());
                out.push_str(&url[..scheme_end + 3]);
                out.push_str(&userinfo[..colon]);
                out.push_str(":***");
                out.push_str(&rest[at..]);
                return redact_query_password(&out);
            }
        }
        return redact_query_password(url);
    }
    // key=value form: blank the value after `password=`.
    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(pos) = rest.find("password") {
        let (head, tail) = rest.split_at(pos + "password".len());
        out.push_str(head);
        let trimmed = tail.trim_start();
        if let Some(after_eq) = trimmed.strip_prefix('=') {
            out.push_str("=***");
            let value = after_eq.trim_start();
            let end = if let Some(quoted) = value.strip_prefix('\'') {
                quoted.find('\'').map_or(value.len(), |i| i + 2)
            } else {
                value.find(char::is_whitespace).unwrap_or(value.len())
            };
            rest = &value[end..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

fn redact_query_password(url: &str) -> String {
    let Some(q) = url.find('?') else {
        return url.to_owned();
    };
    let (base, query) = url.split_at(q + 1);
    let parts: Vec<String> = query
        .split('&')
        .map(|kv| {
            if kv.starts_with("password=") {
                "password=***".to_owned()
            } else {
                kv.to_owned()
            }
        })
        .collect();
    format!("{base}{}", parts.join("&"))
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
    }
}
