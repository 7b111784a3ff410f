//! Keeping the URL's password out of `Debug`, logs and errors.

/// The connection URL with its password replaced by `***`, and the
/// password itself so it can be scrubbed from error texts.
#[derive(Clone)]
pub(crate) struct Redactor {
    url: String,
    secrets: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

impl Redactor {
    pub(crate) fn new(url: &str) -> Self {
        let mut secrets = Vec::new();
        let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
            return Self {
                url: url.to_owned(),
                secrets,
            };
        };
        // The query (`?pass=…`, `&password=…`, as redis-rs's unix-socket
        // URLs take them) loses its secrets first.
        let (head, query) = match url.find(['?', '#']) {
            Some(q) if q >= scheme_end => (&url[..q], &url[q..]),
            _ => (url, ""),
        };
        let query = redact_query(query, &mut secrets);
        // The userinfo ends at the *last* `@` before the query: a password
        // may hold a raw `@` or `/` that its writer did not encode.
        let Some(at) = head[scheme_end..].rfind('@').map(|i| scheme_end + i) else {
            return Self {
                url: format!("{head}{query}"),
                secrets,
            };
        };
        let userinfo = &head[scheme_end..at];
        let (user, password) = match userinfo.split_once(':') {
            Some((user, password)) => (user, password),
            // `redis://secret@host`: redis-rs reads a lone userinfo as the password.
            None => ("", userinfo),
        };
        if password.is_empty() {
            return Self {
                url: format!("{head}{query}"),
                secrets,
            };
        }
        push_secret(&mut secrets, password);
        Self {
            url: format!(
                "{}{user}:***@{}{query}",
                &url[..scheme_end],
                &head[at + 1..]
            ),
            secrets,
        }
    }

    /// Several URLs (a cluster's nodes): comma-separated, every password
    /// masked.
    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    pub(crate) fn many(urls: &[String]) -> Self {
        let parts: Vec<Self> = urls.iter().map(|u| Self::new(u)).collect();
        Self {
            url: parts
                .iter()
                .map(|p| p.url.as_str())
                .collect::<Vec<_>>()
                .join(","),
            secrets: parts.into_iter().flat_map(|p| p.secrets).collect(),
        }
    }

    /// The URL with the password masked.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// `text` with every occurrence of the password masked.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in &self.secrets {
            text = text.replace(secret.as_str(), "***");
        }
        text
    }
}

/// `query` with the values of its `pass` and `password` parameters masked
/// (each remembered in `secrets`).
fn redact_query(query: &str, secrets: &mut Vec<String>) -> String {
    if query.is_empty() {
        return String::new();
    }
    let (lead, rest) = query.split_at(1);
    let mut out = String::from(lead);
    for (i, pair) in rest.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((name, value))
                if !value.is_empty()
                    && ["pass", "password"].contains(&name.to_ascii_lowercase().as_str()) =>
            {
                push_secret(secrets, value);
                out.push_str(name);
                out.push_str("=***");
            }
            _ => out.push_str(pair),
        }
    }
    out
}

/// Remembers `secret` as written and percent-decoded (redis-rs decodes it,
/// and an error may quote either form).
fn push_secret(secrets: &mut Vec<String>, secret: &str) {
    let decoded = percent_decode(secret);
    if decoded != secret && !decoded.is_empty() {
        secrets.push(decoded);
    }
    secrets.push(secret.to_owned());
}

/// `%XX` escapes decoded; anything else kept as it is.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied(),
            bytes.get(i + 2).copied(),
        ) {
            (b'%', Some(h), Some(l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push(u8::try_from(hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)).unwrap_or(0));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table every crate's redactor must pass (pg-stats has its own
    /// copy, its own code): the display form, and the secrets that must
    /// appear in neither the display nor a scrubbed error that quotes them.
    const TABLE: &[(&str, &str, &[&str])] = &[
        (
            "redis://app:hunter2@db:6379/0",
            "redis://app:***@db:6379/0",
            &["hunter2"],
        ),
        ("redis://hunter2@db", "redis://:***@db", &["hunter2"]),
        ("redis://db:6379", "redis://db:6379", &[]),
        // A raw `@` or `/` in the password (not percent-encoded).
        (
            "redis://app:p@ss@db:6379",
            "redis://app:***@db:6379",
            &["p@ss"],
        ),
        (
            "redis://app:pa/ss@db:6379/1",
            "redis://app:***@db:6379/1",
            &["pa/ss"],
        ),
        // Percent-encoded: both forms are secrets.
        (
            "redis://app:p%40ss@db",
            "redis://app:***@db",
            &["p%40ss", "p@ss"],
        ),
        // IPv6 hosts, with and without userinfo.
        (
            "redis://app:hunter2@[::1]:6379",
            "redis://app:***@[::1]:6379",
            &["hunter2"],
        ),
        ("redis://[::1]:6379/0", "redis://[::1]:6379/0", &[]),
        // Passwords in the query string.
        (
            "redis+unix:///run/redis.sock?db=1&pass=hunter2",
            "redis+unix:///run/redis.sock?db=1&pass=***",
            &["hunter2"],
        ),
        (
            "rediss://db:6380/?password=hunter2&protocol=resp3",
            "rediss://db:6380/?password=***&protocol=resp3",
            &["hunter2"],
        ),
        (
            "redis://u:one@db/?password=two",
            "redis://u:***@db/?password=***",
            &["one", "two"],
        ),
    ];

    #[test]
    fn the_shared_table_of_urls() {
        for &(url, shown, secrets) in TABLE {
            let r = Redactor::new(url);
            assert_eq!(r.url(), shown, "{url}");
            assert_eq!(format!("{r:?}"), shown);
            for secret in secrets {
                let quoted = r.scrub(&format!("connect to {url} failed: bad password {secret}"));
                assert!(!quoted.contains(secret), "{url}: {quoted}");
            }
        }
    }

    #[test]
    fn masks_password() {
        let r = Redactor::new("redis://app:hunter2@db:6379/0");
        assert_eq!(r.url(), "redis://app:***@db:6379/0");
        assert_eq!(r.scrub("auth hunter2 failed"), "auth *** failed");
        let r = Redactor::new("redis://hunter2@db");
        assert_eq!(r.url(), "redis://:***@db");
        let r = Redactor::new("redis://db:6379");
        assert_eq!(r.url(), "redis://db:6379");
        assert!(!format!("{r:?}").contains("hunter2"));
        let r = Redactor::many(&[
            "redis://:s3cret@a:1".to_owned(),
            "redis://u:hunter2@b:2".to_owned(),
        ]);
        assert_eq!(r.url(), "redis://:***@a:1,redis://u:***@b:2");
        assert_eq!(r.scrub("s3cret hunter2"), "*** ***");
    }
}
