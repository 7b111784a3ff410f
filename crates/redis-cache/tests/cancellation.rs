//! Cancellation safety: futures dropped mid-flight never leave a reply for
//! the next caller (the crosstalk of redis-rs #489 and deadpool #97).

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_futures_cause_no_crosstalk() {
    support::assert_no_crosstalk(support::cache("xtalk").await).await;
}
