//! `rediss://` (feature `tls`) against a private TLS server of
//! `perfect21-testkit` whose throwaway CA the cache is told to trust.
#![cfg(feature = "tls")]

use perfect21_redis_cache::{CacheError, RedisCache};
use perfect21_testkit::RedisServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_over_tls_with_a_private_ca() {
    let server = RedisServer::start_tls().expect("start a TLS redis-server");
    let url = server.tls_url().unwrap();
    let ca = std::fs::read(server.ca_cert().unwrap()).unwrap();
    let cache = RedisCache::builder()
        .url(&url)
        .tls_root_cert(ca.clone())
        .namespace("tls")
        .fail_open(false)
        .build()
        .await
        .expect("connect over TLS");
    cache
        .set("greeting", &"hello over tls", None)
        .await
        .unwrap();
    assert_eq!(
        cache.get::<String>("greeting").await.unwrap().as_deref(),
        Some("hello over tls")
    );
    let got: Vec<Option<String>> = cache.get_many(&["greeting", "nope"]).await.unwrap();
    assert_eq!(got, vec![Some("hello over tls".to_string()), None]);
    // The value went through the TLS port of this very server.
    assert!(matches!(
        server.command(&["EXISTS", "tls:greeting"]).unwrap(),
        perfect21_testkit::resp::Reply::Integer(1)
    ));
    let s = cache.stats();
    assert_eq!((s.sets, s.hits, s.misses, s.errors), (1, 2, 1, 0));

    // Without the CA the server's certificate is not trusted.
    let untrusted = RedisCache::builder()
        .url(&url)
        .namespace("tls")
        .fail_open(false)
        .build()
        .await;
    assert!(
        untrusted.is_err(),
        "a certificate from an unknown CA must be refused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_in_a_tls_url_stays_out_of_debug_and_errors() {
    let server = RedisServer::start_tls().expect("start a TLS redis-server");
    let port = server
        .tls_url()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    let url = format!("rediss://app:hunter2-secret@127.0.0.1:{port}");
    let ca = std::fs::read(server.ca_cert().unwrap()).unwrap();
    let builder = RedisCache::builder()
        .url(&url)
        .tls_root_cert(ca.clone())
        .namespace("tls")
        .fail_open(false);
    let debug = format!("{builder:?}");
    assert!(!debug.contains("hunter2-secret"), "{debug}");
    assert!(debug.contains("rediss://app:***@127.0.0.1"), "{debug}");
    // The server has no user `app`: AUTH fails, and the error is redacted.
    let err = builder.build().await.unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(matches!(err, CacheError::Redis(_)), "{text}");
    assert!(!text.contains("hunter2-secret"), "{text}");

    // Fail-open: the cache builds, the failure is counted, and its Debug
    // is redacted too.
    let cache = RedisCache::builder()
        .url(&url)
        .tls_root_cert(ca)
        .namespace("tls")
        .build()
        .await
        .unwrap();
    assert!(!format!("{cache:?}").contains("hunter2-secret"));
    assert_eq!(cache.get::<u8>("k").await.unwrap(), None);
    let s = cache.stats();
    assert_eq!((s.errors + s.timeouts, s.misses), (1, 0));
}
