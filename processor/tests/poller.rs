//! The local Kinesis poller against moto's Kinesis, S3 and the real PostgreSQL and Redis.
//! Built only with `--features local-poller`.
#![cfg(feature = "local-poller")]

mod common;

use std::time::Duration;

use aws_sdk_kinesis::primitives::Blob;
use common::*;
use processor::poller::{PollOptions, poll};

fn kinesis_client() -> aws_sdk_kinesis::Client {
    let config = aws_sdk_kinesis::Config::builder()
        .behavior_version(aws_sdk_kinesis::config::BehaviorVersion::latest())
        .region(aws_sdk_kinesis::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_kinesis::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .endpoint_url(moto_endpoint())
        .build();
    aws_sdk_kinesis::Client::from_conf(config)
}

async fn stream_with(kinesis: &aws_sdk_kinesis::Client, payloads: &[(&str, Vec<u8>)]) -> String {
    let stream = unique("proc-test-stream-");
    kinesis
        .create_stream()
        .stream_name(&stream)
        .shard_count(2)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "moto Kinesis unreachable: {}",
                aws_sdk_kinesis::error::DisplayErrorContext(&e)
            )
        });
    for (key, data) in payloads {
        kinesis
            .put_record()
            .stream_name(&stream)
            .partition_key(*key)
            .data(Blob::new(data.clone()))
            .send()
            .await
            .expect("put_record");
    }
    stream
}

fn options(stream: &str) -> PollOptions {
    PollOptions {
        stream: stream.to_owned(),
        batch_size: 2,
        once: true,
        wait: Duration::from_millis(50),
        max_attempts: 2,
    }
}

#[tokio::test]
async fn poller_feeds_every_shard_through_the_handler() {
    let env = Env::new().await;
    let kinesis = kinesis_client();
    let stream = stream_with(
        &kinesis,
        &[
            ("a", update("a", 1, "1")),
            ("b", update("b", 2, "2")),
            ("a", update("a", 3, "3")),
            ("c", b"garbage".to_vec()),
            ("d", update("d", 4, "4")),
        ],
    )
    .await;
    let summary = poll(&env.deps(), &kinesis, &options(&stream))
        .await
        .expect("poll");
    assert_eq!((summary.records, summary.retries), (5, 0));
    assert_eq!(env.db.count().await, 3);
    assert_eq!(
        env.db.product("a").await.map(|p| p.0),
        Some(3),
        "later put wins"
    );
    env.finish().await;
}

#[tokio::test]
async fn poller_retries_from_the_failed_record_and_loses_nothing() {
    let env = Env::new().await;
    let kinesis = kinesis_client();
    let stream = stream_with(
        &kinesis,
        &[("x", update("x", 1, "1")), ("y", update("y", 2, "2"))],
    )
    .await;
    let dead_s3 = s3_client(&format!("http://127.0.0.1:{}", closed_port().await));
    let broken = env.deps_with(&env.db.url, dead_s3, &redis_url());
    let err = poll(&broken, &kinesis, &options(&stream))
        .await
        .expect_err("S3 is down");
    assert!(
        err.to_string().contains("archive"),
        "unexpected error: {err}"
    );
    assert_eq!(env.db.count().await, 0);

    let summary = poll(&env.deps(), &kinesis, &options(&stream))
        .await
        .expect("poll after recovery");
    assert_eq!(summary.records, 2);
    assert_eq!(env.db.count().await, 2);
    env.finish().await;
}
