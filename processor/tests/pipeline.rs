//! The handler against real PostgreSQL, Redis and moto S3: every case of issue 3.

mod common;

use common::*;
use processor::handler::process;
use processor::metrics::Metrics;
use processor::record::IncomingRecord;
use processor::{handle, handle_json};
use sqlx::{Connection, PgConnection};
use std::time::Duration;

#[tokio::test]
async fn happy_path_updates_catalog_cache_and_archive() {
    let env = Env::new().await;
    let deps = env.deps();
    let response = handle(
        &deps,
        event(&[
            ("100", update("product123", 100, "29.99")),
            ("101", update("product124", 0, "5")),
            ("102", br#"{"product_id":"product125","inventory":7,"price":0.5,"supplier_id":"acme","updated_at":"2026-11-25T12:00:00Z","extra":true}"#.to_vec()),
        ]),
    )
    .await
    .expect("handler result");
    assert!(
        failures(&response).is_empty(),
        "no failures expected: {response:?}"
    );

    assert_eq!(
        env.db.product("product123").await,
        Some((100, "29.99".into(), "100".into()))
    );
    assert_eq!(
        env.db.product("product124").await,
        Some((0, "5.00".into(), "101".into()))
    );
    assert_eq!(env.db.count().await, 3);

    let (cached, ttl) = env.cached("product123").await.expect("product123 cached");
    assert_eq!(cached["inventory"], 100);
    assert_eq!(cached["price"], "29.99");
    assert_eq!(cached["sequence_number"], "100");
    assert!(ttl > 0 && ttl <= 600, "entry must carry the TTL, got {ttl}");
    assert_eq!(
        env.cached("product125").await.expect("cached").0["supplier_id"],
        "acme"
    );

    let keys = env.archive_keys().await;
    assert_eq!(
        keys,
        vec!["inventory-updates/year=2025/month=11/day=25/shardId-000000000003/100-102.ndjson.gz"]
    );
    let lines = env.archive_lines(&keys[0]).await;
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["sequence_number"], "100");
    assert_eq!(lines[0]["status"], "accepted");
    assert_eq!(lines[0]["partition_key"], "pk");
    assert_eq!(lines[0]["shard_id"], "shardId-000000000003");
    assert_eq!(lines[0]["arrival_time"], "2025-11-25T19:46:40.125Z");
    assert_eq!(
        lines[0]["data"],
        r#"{"product_id":"product123","inventory":100,"price":29.99}"#
    );
    assert_eq!(Metrics::get(&deps.metrics.changed), 3);
    env.finish().await;
}

#[tokio::test]
async fn replayed_batch_has_no_double_effect() {
    let env = Env::new().await;
    let deps = env.deps();
    let batch = [
        ("5", update("p1", 10, "1.10")),
        ("6", update("p2", 20, "2.20")),
    ];
    let first = process(&deps, event_records(&batch)).await;
    let stamp = updated_at(&env, "p1").await;
    let second = process(&deps, event_records(&batch)).await;
    assert_eq!((first.changed, second.changed), (2, 0));
    assert!(second.transient_error.is_none());
    assert_eq!(
        first.archive_key, second.archive_key,
        "a replay overwrites its archive object"
    );
    assert_eq!(env.archive_keys().await.len(), 1);
    assert_eq!(
        env.db.product("p1").await,
        Some((10, "1.10".into(), "5".into()))
    );
    assert_eq!(
        updated_at(&env, "p1").await,
        stamp,
        "a replay must not touch the row"
    );
    env.finish().await;
}

fn event_records(batch: &[(&str, Vec<u8>)]) -> Vec<IncomingRecord> {
    event(batch)
        .records
        .into_iter()
        .map(IncomingRecord::from_event_record)
        .collect()
}

async fn updated_at(env: &Env, id: &str) -> String {
    sqlx::query_scalar::<_, String>("SELECT updated_at::text FROM products WHERE product_id = $1")
        .bind(id)
        .fetch_one(&env.db.pool)
        .await
        .expect("updated_at")
}

#[tokio::test]
async fn out_of_order_sequence_numbers_never_roll_back() {
    let env = Env::new().await;
    let deps = env.deps();
    let kinesis_old = "49590338271490256608559692538361571095921575989136588898";
    let kinesis_new = "49590338271490256608559692538361571095921575989136588899";
    // "10" < "9" as strings: the guard must compare numbers.
    let r1 = handle(
        &deps,
        event(&[
            ("10", update("small", 1, "1")),
            (kinesis_new, update("big", 2, "2")),
        ]),
    )
    .await
    .expect("batch 1");
    let r2 = handle(
        &deps,
        event(&[
            ("9", update("small", 99, "9")),
            (kinesis_old, update("big", 99, "9")),
        ]),
    )
    .await
    .expect("batch 2");
    assert!(failures(&r1).is_empty() && failures(&r2).is_empty());
    assert_eq!(
        env.db.product("small").await,
        Some((1, "1.00".into(), "10".into()))
    );
    assert_eq!(
        env.db.product("big").await,
        Some((2, "2.00".into(), kinesis_new.into()))
    );
    assert_eq!(env.cached("small").await.expect("cached").0["inventory"], 1);

    // Within one batch the newest sequence wins whatever the delivery order.
    let report = process(
        &deps,
        event_records(&[("30", update("dup", 3, "3")), ("25", update("dup", 2, "2"))]),
    )
    .await;
    assert_eq!(report.changed, 1);
    assert_eq!(
        env.db.product("dup").await,
        Some((3, "3.00".into(), "30".into()))
    );
    env.finish().await;
}

#[tokio::test]
async fn malformed_records_are_archived_as_rejected_and_not_retried() {
    let env = Env::new().await;
    let deps = env.deps();
    let huge = format!(
        r#"{{"product_id":"huge","inventory":1,"price":1,"pad":"{}"}}"#,
        "x".repeat(100_000)
    );
    let cases: Vec<(&str, serde_json::Value, &str)> = vec![
        (
            "1",
            kinesis_record("1", b"{\"product_id\": \"p\", "),
            "malformed_json",
        ),
        (
            "2",
            record_with_raw_data("2", "%%%not base64%%%"),
            "bad_envelope",
        ),
        (
            "3",
            kinesis_record("3", &update("neg", -5, "1.00")),
            "negative_inventory",
        ),
        (
            "4",
            kinesis_record("4", &update("cents", 1, "29.999")),
            "price_precision",
        ),
        (
            "5",
            kinesis_record("5", br#"{"product_id":"nop","inventory":1}"#),
            "missing_field",
        ),
        ("6", kinesis_record("6", huge.as_bytes()), "too_large"),
        (
            "7",
            kinesis_record("7", &[0xff, 0x00, 0xfe]),
            "malformed_json",
        ),
    ];
    let records = cases.iter().map(|(_, r, _)| r.clone()).collect();
    let response = handle_json(&deps, event_json(records))
        .await
        .expect("handler result");
    assert!(
        failures(&response).is_empty(),
        "malformed records must not be retried: {response:?}"
    );
    assert_eq!(env.db.count().await, 0);
    assert_eq!(Metrics::get(&deps.metrics.rejected), cases.len() as u64);

    let keys = env.archive_keys().await;
    assert_eq!(keys.len(), 1);
    let lines = env.archive_lines(&keys[0]).await;
    assert_eq!(lines.len(), cases.len());
    for (line, (seq, _, code)) in lines.iter().zip(&cases) {
        assert_eq!(line["sequence_number"], *seq);
        assert_eq!(line["status"], "rejected");
        assert_eq!(line["reason_code"], *code, "record {seq}: {line}");
    }
    assert_eq!(
        lines[5]["data"].as_str().map(str::len),
        Some(huge.len()),
        "huge record kept whole"
    );
    assert_eq!(lines[6]["data_base64"], "/wD+");
    env.finish().await;
}

#[tokio::test]
async fn mixed_batch_applies_the_good_and_archives_everything() {
    let env = Env::new().await;
    let deps = env.deps();
    let response = handle(
        &deps,
        event(&[
            ("1", update("good1", 1, "1.25")),
            ("2", b"not json".to_vec()),
            ("3", update("good2", 2, "2")),
            ("4", update("bad", -1, "2")),
        ]),
    )
    .await
    .expect("handler result");
    assert!(failures(&response).is_empty());
    assert_eq!(env.db.count().await, 2);
    assert!(env.cached("good2").await.is_some());
    assert!(env.cached("bad").await.is_none());
    let lines = env.archive_lines(&env.archive_keys().await[0]).await;
    let statuses: Vec<&str> = lines.iter().filter_map(|l| l["status"].as_str()).collect();
    assert_eq!(statuses, ["accepted", "rejected", "accepted", "rejected"]);
    env.finish().await;
}

#[tokio::test]
async fn redis_unreachable_still_updates_the_catalog() {
    let env = Env::new().await;
    let dead_redis = format!("redis://127.0.0.1:{}", closed_port().await);
    let deps = env.deps_with(&env.db.url, env.s3.clone(), &dead_redis);
    let report = process(&deps, event_records(&[("1", update("p", 4, "4.40"))])).await;
    assert!(
        failures(&report.response).is_empty(),
        "a cache outage must not cause a retry"
    );
    assert!(
        report.cache_error.is_some(),
        "the cache failure must be reported"
    );
    assert_eq!(Metrics::get(&deps.metrics.cache_failures), 1);
    assert_eq!(
        env.db.product("p").await,
        Some((4, "4.40".into(), "1".into()))
    );
    assert!(env.cached("p").await.is_none());
    env.finish().await;
}

#[tokio::test]
async fn a_failed_commit_withdraws_the_cache_refresh_and_retries_the_batch() {
    let env = Env::new().await;
    let deps = env.deps();
    // A deferred constraint trigger fails the COMMIT after the upsert itself succeeded: the one
    // failure the cache refresh, which starts as soon as the upsert returns, learns about late.
    let pool = sqlx::PgPool::connect(&env.db.url).await.expect("connect");
    sqlx::raw_sql(
        "CREATE FUNCTION refuse_doomed() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN IF NEW.product_id = 'doomed' THEN RAISE EXCEPTION 'refused at commit'; END IF; \
         RETURN NEW; END $$; \
         CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT OR UPDATE ON products \
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_doomed();",
    )
    .execute(&pool)
    .await
    .expect("install the failing trigger");
    pool.close().await;

    let report = process(
        &deps,
        event_records(&[
            ("7", update("kept", 1, "1.00")),
            ("8", update("doomed", 2, "2.00")),
        ]),
    )
    .await;
    assert_eq!(failures(&report.response), vec!["7".to_string()]);
    let why = report.transient_error.unwrap_or_default();
    assert!(why.contains("commit") && why.contains("refused"), "{why}");
    assert_eq!(env.db.count().await, 0, "a failed commit applies nothing");
    assert!(
        env.cached("kept").await.is_none() && env.cached("doomed").await.is_none(),
        "the cache must not keep values the catalog refused"
    );
    env.finish().await;
}

#[tokio::test]
async fn s3_unreachable_fails_the_batch_without_half_applying_it() {
    let env = Env::new().await;
    let dead_s3 = s3_client(&format!("http://127.0.0.1:{}", closed_port().await));
    let deps = env.deps_with(&env.db.url, dead_s3, &redis_url());
    let batch = [("41", update("a", 1, "1")), ("42", update("b", 2, "2"))];
    let response = handle(&deps, event(&batch))
        .await
        .expect("partial-batch response");
    assert_eq!(failures(&response), ["41"], "retry from the first record");
    assert_eq!(
        env.db.count().await,
        0,
        "nothing may reach the catalog unarchived"
    );
    // The refresh may already have run when the archive failed; it must have been withdrawn.
    assert!(env.cached("a").await.is_none() && env.cached("b").await.is_none());
    assert_eq!(Metrics::get(&deps.metrics.transient_failures), 1);

    // The retry against a reachable S3 applies the whole batch.
    let response = handle(&env.deps(), event(&batch)).await.expect("retry");
    assert!(failures(&response).is_empty());
    assert_eq!(env.db.count().await, 2);
    env.finish().await;
}

#[tokio::test]
async fn postgres_outage_reports_failures_then_loses_nothing() {
    let env = Env::new().await;
    let proxy = OutageProxy::start("127.0.0.1:5432").await;
    let deps = env.deps_with(&proxy.url(&env.db.name), env.s3.clone(), &redis_url());

    let before = handle(&deps, event(&[("1", update("p1", 1, "1"))]))
        .await
        .expect("batch 1");
    assert!(failures(&before).is_empty());

    proxy.stop().await;
    let batch = [("2", update("p2", 2, "2")), ("3", update("p1", 3, "3"))];
    let during = handle(&deps, event(&batch))
        .await
        .expect("partial-batch response");
    assert_eq!(
        failures(&during),
        ["2"],
        "retry from the first unprocessed record"
    );
    assert_eq!(
        env.db.product("p1").await,
        Some((1, "1.00".into(), "1".into()))
    );
    assert_eq!(env.db.product("p2").await, None);

    proxy.resume().await;
    let after = handle(&deps, event(&batch)).await.expect("retried batch");
    assert!(
        failures(&after).is_empty(),
        "after recovery the retry succeeds: {after:?}"
    );
    assert_eq!(
        env.db.product("p1").await,
        Some((3, "3.00".into(), "3".into()))
    );
    assert_eq!(
        env.db.product("p2").await,
        Some((2, "2.00".into(), "2".into()))
    );
    proxy.stop().await;
    env.finish().await;
}

#[tokio::test]
async fn replay_mode_feeds_lines_through_the_same_pipeline() {
    let env = Env::new().await;
    let deps = env.deps();
    let input = "{\"product_id\":\"r1\",\"inventory\":1,\"price\":1}\n\n{oops\n{\"product_id\":\"r1\",\"inventory\":2,\"price\":2}\n{\"product_id\":\"r2\",\"inventory\":3,\"price\":3}\n";
    let summary = processor::replay::replay(&deps, input.as_bytes(), 2)
        .await
        .expect("replay");
    assert_eq!(
        (
            summary.batches,
            summary.records,
            summary.accepted,
            summary.rejected
        ),
        (2, 4, 3, 1)
    );
    assert_eq!(summary.failed_batches, 0);
    assert_eq!(
        env.db.product("r1").await.map(|p| p.0),
        Some(2),
        "later lines win"
    );
    assert_eq!(env.archive_keys().await.len(), 2);
    env.finish().await;
}

#[tokio::test]
async fn database_secret_is_read_from_secrets_manager() {
    let env = Env::new().await;
    let secrets = secrets_client(&moto_endpoint());
    let name = unique("proc-test-db-");
    let secret = serde_json::json!({
        "username": "postgres", "password": "unused-with-trust-auth",
        "host": "127.0.0.1", "port": 5432, "dbname": env.db.name,
    });
    let arn = secrets
        .create_secret()
        .name(&name)
        .secret_string(secret.to_string())
        .send()
        .await
        .expect("create secret on moto")
        .arn()
        .expect("secret arn")
        .to_owned();
    let options = processor::config::database_options_from_secret(&secrets, &arn)
        .await
        .expect("options");
    let pool = processor::config::lazy_pool(options, 1, std::time::Duration::from_secs(5));
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'products'",
    )
    .fetch_one(&pool)
    .await
    .expect("connect with secret credentials");
    assert_eq!(tables, 1);
    pool.close().await;
    env.finish().await;
}

#[tokio::test]
async fn documented_sample_event_is_handled_as_the_readme_says() {
    let env = Env::new().await;
    let deps = env.deps();
    let sample = include_str!("../events/kinesis-sample.json");
    let event = serde_json::from_str(sample).expect("the sample is a valid Kinesis event");
    let response = handle(&deps, event).await.expect("handler result");
    assert!(failures(&response).is_empty());
    assert_eq!(
        env.db.count().await,
        2,
        "two valid updates, one negative inventory"
    );
    assert_eq!(
        env.db.product("product124").await.map(|p| p.1),
        Some("5.50".to_owned())
    );
    assert_eq!(Metrics::get(&deps.metrics.rejected), 1);
    env.finish().await;
}

#[tokio::test]
async fn migrations_missed_at_cold_start_are_applied_by_the_next_batch() {
    let env = Env::new().await;
    let empty = TestDb::create_empty().await;
    let deps = env.deps_with(&empty.url, env.s3.clone(), &redis_url());
    deps.migrations_pending
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let report = process(&deps, event_records(&[("1", update("m", 1, "1"))])).await;
    assert!(
        report.transient_error.is_none(),
        "{:?}",
        report.transient_error
    );
    assert!(
        !deps
            .migrations_pending
            .load(std::sync::atomic::Ordering::Relaxed)
    );
    assert_eq!(
        empty.product("m").await,
        Some((1, "1.00".into(), "1".into()))
    );
    empty.drop_db().await;
    env.finish().await;
}

#[tokio::test]
async fn an_empty_invocation_initialises_the_schema() {
    let env = Env::new().await;
    let empty = TestDb::create_empty().await;
    let deps = env.deps_with(&empty.url, env.s3.clone(), &redis_url());
    let migrated = |pool: sqlx::PgPool| async move {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'products'",
        )
        .fetch_one(&pool)
        .await
        .expect("query")
    };
    assert_eq!(
        migrated(empty.pool.clone()).await,
        0,
        "the database starts without the schema"
    );
    let response = processor::handle_json(&deps, serde_json::json!({}))
        .await
        .expect("the trigger's invocation succeeds");
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(migrated(empty.pool.clone()).await, 1, "the migrations ran");
    let report = process(&deps, event_records(&[("1", update("m", 1, "1"))])).await;
    assert!(
        report.transient_error.is_none(),
        "{:?}",
        report.transient_error
    );
    assert_eq!(
        empty.product("m").await,
        Some((1, "1.00".into(), "1".into()))
    );
    empty.drop_db().await;
    env.finish().await;
}

#[tokio::test]
async fn a_connection_dropped_while_idle_is_replaced_before_the_next_batch() {
    // A thawed Lambda container finds its pooled connection closed by the server (or a NAT)
    // while it was frozen. The pool pings only connections idle for a second or more, so this
    // one must be found dead and replaced instead of failing the batch.
    let env = Env::new().await;
    let deps = env.deps();
    let first = handle(&deps, event(&[("1", update("idle", 1, "1"))]))
        .await
        .expect("first batch");
    assert!(failures(&first).is_empty());

    let mut admin = PgConnection::connect(&admin_url()).await.expect("admin");
    let terminated: i64 = sqlx::query_scalar(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(&env.db.name)
    .fetch_one(&mut admin)
    .await
    .expect("terminate the test database's sessions");
    assert!(terminated >= 1, "the pool kept a connection to drop");
    admin.close().await.ok();
    tokio::time::sleep(Duration::from_millis(1_200)).await;

    let second = handle(&deps, event(&[("2", update("idle", 2, "2"))]))
        .await
        .expect("second batch");
    assert!(
        failures(&second).is_empty(),
        "the dead connection was used: {second:?}"
    );
    assert_eq!(
        env.db.product("idle").await,
        Some((2, "2.00".into(), "2".into()))
    );
    env.finish().await;
}
