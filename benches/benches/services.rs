//! Round trips to the real services every server-backed crate sits on: a
//! Redis `PING` on a multiplexed connection and a Postgres `SELECT 1`. These
//! are the floors the redis-cache, batch and pg-stats numbers are read
//! against.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use perfect21_benches::service_url;

fn round_trips(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut group = c.benchmark_group("services/round_trip");
    group.throughput(Throughput::Elements(1));

    {
        let url = service_url("REDIS_URL");
        let connection = runtime.block_on(async {
            redis::Client::open(url.as_str())?
                .get_multiplexed_async_connection()
                .await
        });
        let connection = connection.expect("connect to REDIS_URL");
        group.bench_function("redis_ping", |b| {
            b.to_async(&runtime).iter(|| {
                let mut connection = connection.clone();
                async move {
                    let pong: String = redis::cmd("PING")
                        .query_async(&mut connection)
                        .await
                        .expect("PING");
                    pong
                }
            })
        });
    }

    {
        let url = service_url("DATABASE_URL");
        let client = runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
            tokio::spawn(connection);
            let statement = client.prepare("SELECT 1").await?;
            Ok::<_, tokio_postgres::Error>((client, statement))
        });
        let (client, statement) = client.expect("connect to DATABASE_URL");
        group.bench_function("postgres_select_1", |b| {
            b.to_async(&runtime).iter(|| async {
                let row = client.query_one(&statement, &[]).await.expect("SELECT 1");
                row.get::<_, i32>(0)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, round_trips);
criterion_main!(benches);
