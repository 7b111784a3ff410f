//! URLs with their secrets taken out, for `Debug`, error texts, logs and
//! metric labels.
//!
//! A URL carries secrets in its userinfo (`user:password@`), its query
//! (`?token=…`) and, for a webhook, its path: a Slack-style hook's path
//! *is* its token (`/services/T…/B…/XXXX`). What is shown instead:
//! [`origin`] (scheme, host and port) for a webhook, [`without_secrets`]
//! (the path too) for a probe, whose path names what it checks.

use std::error::Error as _;

use reqwest::Url;

/// `scheme://host[:port]`: nothing of the path, userinfo or query.
pub(crate) fn origin(url: &Url) -> String {
    let mut shown = format!("{}://", url.scheme());
    if let Some(host) = url.host_str() {
        shown.push_str(host);
    }
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    shown
}

/// `scheme://host[:port]/path`: without userinfo, query or fragment.
pub(crate) fn without_secrets(url: &Url) -> String {
    let mut shown = origin(url);
    shown.push_str(url.path());
    shown
}

/// How an unparsed URL (a builder's, before `build()` checks it) is shown:
/// as [`origin`] when it parses, as a placeholder when it does not (the
/// text may still hold a secret).
pub(crate) fn unparsed(url: &str) -> String {
    Url::parse(url).map_or_else(|_| "<invalid URL>".to_owned(), |url| origin(&url))
}

/// The text of a `reqwest` error and of its sources, without the URL
/// (which `reqwest` puts in its message), and with any part of `url` that
/// still shows up (a source quoting a path or query) replaced by `shown`.
pub(crate) fn error_text(error: reqwest::Error, url: &Url, shown: &str) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    scrub(text, url, shown)
}

/// Replaces every secret-bearing part of `url` found in `text`.
fn scrub(mut text: String, url: &Url, shown: &str) -> String {
    let mut secrets = vec![url.as_str().to_owned()];
    if !url.username().is_empty() {
        secrets.push(url.username().to_owned());
    }
    secrets.extend(url.password().map(str::to_owned));
    secrets.extend(url.query().map(str::to_owned));
    if url.path() != "/" && !shown.ends_with(url.path()) {
        secrets.push(url.path().to_owned());
    }
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        if text.contains(secret.as_str()) {
            text = text.replace(secret.as_str(), shown);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn the_origin_keeps_scheme_host_and_port_only() {
        let hook = url("https://user:pw@hooks.example.com:8443/services/T1/B2/SECRET?token=Q#frag");
        assert_eq!(origin(&hook), "https://hooks.example.com:8443");
        assert_eq!(
            without_secrets(&hook),
            "https://hooks.example.com:8443/services/T1/B2/SECRET"
        );
        assert_eq!(origin(&url("http://[::1]/x")), "http://[::1]");
        assert_eq!(unparsed("not a url with SECRET"), "<invalid URL>");
        assert_eq!(unparsed("http://u:p@h/SECRET"), "http://h");
    }

    #[test]
    fn scrub_replaces_every_secret_part() {
        let hook = url("http://user:pw@h/services/SECRET?token=Q");
        let text = format!("failed for {hook}; path /services/SECRET; query token=Q; pw");
        let clean = scrub(text, &hook, "http://h");
        for secret in ["SECRET", "token=Q", "pw", "user"] {
            assert!(!clean.contains(secret), "{secret} in {clean}");
        }
    }
}
