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
        let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
            return Self {
                url: url.to_owned(),
                secrets: Vec::new(),
            };
        };
        let authority_end = url[scheme_end..]
            .find(['/', '?', '#'])
            .map_or(url.len(), |i| scheme_end + i);
        let authority = &url[scheme_end..authority_end];
        let Some(at) = authority.rfind('@') else {
            return Self {
                url: url.to_owned(),
                secrets: Vec::new(),
            };
        };
        let userinfo = &authority[..at];
        let (user, password) = match userinfo.split_once(':') {
            Some((user, password)) => (user, password),
            // `redis://secret@host`: redis-rs reads a lone userinfo as the password.
            None => ("", userinfo),
        };
        if password.is_empty() {
            return Self {
                url: url.to_owned(),
                secrets: Vec::new(),
            };
        }
        let redacted = format!(
            "{}{}:***@{}",
            &url[..scheme_end],
            user,
            &url[scheme_end + at + 1..]
        );
        Self {
            url: redacted,
            secrets: vec![password.to_owned()],
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

#[cfg(test)]
mod tests {
    use super::*;

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
