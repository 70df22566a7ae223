//! The batch pipeline: validate, archive to S3, upsert PostgreSQL, refresh Redis.
//!
//! Order matters: no record reaches the catalog without being archived (the upsert commits
//! only after the archive write succeeded); the upsert is one statement so a batch is applied
//! entirely or not at all;
//! the cache is best effort because the catalog is the source of truth.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use aws_lambda_events::event::kinesis::KinesisEvent;
use aws_lambda_events::event::streams::KinesisEventResponse;

use crate::archive::{self, Verdict};
use crate::cache::CacheError;
use crate::catalog::{self, ChangedProduct, SequencedUpdate};
use crate::metrics::Metrics;
use crate::record::{IncomingRecord, Rejection, SequenceNumber, parse_update};
use crate::{Deps, Error};

/// What happened to one batch, for the response, the summary log and the tests.
#[derive(Debug, Default)]
pub struct BatchReport {
    /// The partial-batch response handed back to Lambda.
    pub response: KinesisEventResponse,
    /// Records that passed validation.
    pub accepted: usize,
    /// Records archived as rejected (not retried).
    pub rejected: usize,
    /// Catalog rows changed (replayed or older updates change nothing).
    pub changed: usize,
    /// The archive object written, when it was.
    pub archive_key: Option<String>,
    /// Why the batch was handed back for retry, if it was.
    pub transient_error: Option<String>,
    /// Why the cache refresh failed, if it did (the batch still succeeded).
    pub cache_error: Option<String>,
    /// Time spent per stage, logged so a slow dependency shows up in CloudWatch.
    pub timings: StageTimings,
}

/// Wall time of each pipeline stage for one batch.
#[derive(Clone, Copy, Debug, Default)]
pub struct StageTimings {
    /// Decoding and validation.
    pub validate: Duration,
    /// Encoding and writing the archive object.
    pub archive: Duration,
    /// The catalog upsert.
    pub catalog: Duration,
    /// The cache pipeline.
    pub cache: Duration,
}

/// The Lambda entry point for a typed Kinesis event.
pub async fn handle(deps: &Deps, event: KinesisEvent) -> Result<KinesisEventResponse, Error> {
    let records = event
        .records
        .into_iter()
        .map(IncomingRecord::from_event_record)
        .collect();
    finish(process(deps, records).await)
}

/// The entry point `main` uses: reads each record on its own, so one broken envelope (bad
/// base64, say) is archived as rejected instead of failing the whole batch forever.
pub async fn handle_json(
    deps: &Deps,
    event: serde_json::Value,
) -> Result<KinesisEventResponse, Error> {
    let serde_json::Value::Object(mut event) = event else {
        return Err("event is not a JSON object".into());
    };
    let records = match event.remove("Records") {
        Some(serde_json::Value::Array(records)) => records,
        Some(_) => return Err("`Records` is not an array: not a Kinesis event".into()),
        // The reference stack's schema trigger invokes the function with an empty event: apply
        // the migrations now (so the deployment fails if they cannot be) and report success.
        None if event.is_empty() => {
            crate::catalog::MIGRATOR
                .run(&deps.db)
                .await
                .map_err(|e| format!("schema initialisation failed: {e}"))?;
            deps.migrations_pending.store(false, Ordering::Relaxed);
            tracing::info!("schema initialised by an empty invocation");
            return Ok(KinesisEventResponse::default());
        }
        None => return Err("event has no `Records` array: not a Kinesis event".into()),
    };
    let records = records.into_iter().map(IncomingRecord::from_json).collect();
    finish(process(deps, records).await)
}

/// Turns a report into the Lambda result; a batch that failed but names no record to retry
/// from is failed as a whole so Lambda retries all of it.
fn finish(report: BatchReport) -> Result<KinesisEventResponse, Error> {
    match (
        &report.transient_error,
        report.response.batch_item_failures.is_empty(),
    ) {
        (Some(err), true) => Err(format!("batch failed and no record can be named: {err}").into()),
        _ => Ok(report.response),
    }
}

/// Validates one record; an unusable sequence number is a rejection because the record
/// could be neither ordered nor named for a retry.
fn judge(record: &IncomingRecord, max_bytes: usize) -> Result<SequencedUpdate, Rejection> {
    let Some(sequence) = SequenceNumber::parse(&record.sequence_number) else {
        return Err(Rejection {
            code: "invalid_sequence_number",
            detail: format!(
                "sequence number {:?} is not decimal digits",
                record.sequence_number
            ),
        });
    };
    let data = record.data.as_deref().map_err(|why| Rejection {
        code: "bad_envelope",
        detail: why.clone(),
    })?;
    let update = parse_update(data, max_bytes)?;
    Ok(SequencedUpdate { update, sequence })
}

/// Runs the whole pipeline on one batch; never panics and never returns early without a
/// report, so every record ends in the catalog, the rejected archive, or a retry.
pub async fn process(deps: &Deps, records: Vec<IncomingRecord>) -> BatchReport {
    let mut report = BatchReport::default();
    Metrics::add(&deps.metrics.batches, 1);
    if records.is_empty() {
        return report;
    }
    let validation_started = Instant::now();
    // One pass: the accepted updates go on to the catalog, the archive keeps only the verdict.
    let mut verdicts = Vec::with_capacity(records.len());
    let mut updates = Vec::with_capacity(records.len());
    for record in &records {
        match judge(record, deps.settings.max_record_bytes) {
            Ok(update) => {
                updates.push(update);
                verdicts.push(Verdict::Accepted);
            }
            Err(why) => {
                tracing::warn!(
                    sequence_number = %record.sequence_number,
                    shard_id = %record.shard_id,
                    code = why.code,
                    detail = %why.detail,
                    "record rejected"
                );
                verdicts.push(Verdict::Rejected(why));
            }
        }
    }
    report.accepted = updates.len();
    report.rejected = records.len() - report.accepted;
    report.timings.validate = validation_started.elapsed();

    let updates = catalog::newest_per_product(updates);
    if deps.migrations_pending.load(Ordering::Relaxed) {
        if let Err(e) = catalog::MIGRATOR.run(&deps.db).await {
            return retry_from_first(deps, &records, report, format!("migrations: {e}"));
        }
        deps.migrations_pending.store(false, Ordering::Relaxed);
    }

    // 1 + 2. The archive write and the catalog upsert run concurrently, but the upsert runs
    // inside a transaction that commits only after the archive object exists: no record
    // reaches the catalog unarchived, and a failure of either leaves the catalog untouched.
    let key = archive::object_key(&deps.settings.archive_prefix, &records);
    let archive_write = timed(async {
        match archive::encode(&records, &verdicts) {
            Ok(body) => archive::put(&deps.s3, &deps.settings.archive_bucket, &key, body)
                .await
                .map_err(|e| {
                    format!(
                        "archive to s3://{}/{key}: {}",
                        deps.settings.archive_bucket,
                        aws_sdk_s3::error::DisplayErrorContext(&e)
                    )
                }),
            Err(e) => Err(format!("encoding archive: {e}")),
        }
    });
    // The upsert runs as its own task so it proceeds on another core while this one gzips
    // the archive; the transaction it returns is committed (or rolled back) here. As soon as
    // the upsert says which rows changed, the cache refresh starts on its own task too, so it
    // overlaps the rest of the archive write and the commit instead of following them.
    let pool = deps.db.clone();
    let cache = deps.cache.clone();
    let staged_upsert = tokio::spawn(timed(async move {
        async {
            if updates.is_empty() {
                return Ok((None, None));
            }
            let mut tx = pool.begin().await?;
            let changed = catalog::upsert(&mut tx, updates).await?;
            let refresh = tokio::spawn(async move {
                let (refreshed, took) = timed(cache.write_through(&changed)).await;
                Refresh {
                    refreshed,
                    took,
                    changed,
                }
            });
            Ok::<_, sqlx::Error>((Some(tx), Some(refresh)))
        }
        .await
        .map_err(|e| format!("catalog upsert: {e}"))
    }));
    // Let the upsert task put its BEGIN on the wire before this task spends a few hundred
    // microseconds gzipping: a task spawned from a worker waits in that worker's next-task
    // slot until the current task yields.
    tokio::task::yield_now().await;
    let (archived, archive_time) = archive_write.await;
    let (staged, catalog_time) = staged_upsert
        .await
        .unwrap_or_else(|e| (Err(format!("catalog upsert task: {e}")), Duration::ZERO));
    report.timings.archive = archive_time;
    let changed = match (archived, staged) {
        (Err(err), staged) => {
            if let Ok((tx, refresh)) = staged {
                if let Some(tx) = tx {
                    let _ = tx.rollback().await;
                }
                withdraw(deps, Refresh::finished(refresh).await).await;
            }
            return retry_from_first(deps, &records, report, err);
        }
        (Ok(()), Err(e)) => return retry_from_first(deps, &records, report, e),
        (Ok(()), Ok((tx, refresh))) => {
            // 3. The cache refresh may already be done. Until the commit returns, the cache may
            // be ahead of the catalog by this batch; if the commit fails (as when the archive
            // failed above), the batch's entries are deleted again before the retry, so a
            // reader never keeps a value the catalog did not take.
            let commit = timed(async {
                match tx {
                    Some(tx) => tx.commit().await,
                    None => Ok(()),
                }
            });
            let ((committed, commit_time), refresh) =
                tokio::join!(commit, Refresh::finished(refresh));
            report.timings.cache = refresh.took;
            if let Err(e) = committed {
                withdraw(deps, refresh).await;
                return retry_from_first(deps, &records, report, format!("catalog commit: {e}"));
            }
            let Refresh {
                refreshed, changed, ..
            } = refresh;
            report.timings.catalog = catalog_time + commit_time;
            if let Err(e) = refreshed {
                Metrics::add(&deps.metrics.cache_failures, 1);
                tracing::warn!(error = %e, products = changed.len(), "cache refresh failed; catalog is updated");
                report.cache_error = Some(e.to_string());
            }
            changed
        }
    };
    report.archive_key = Some(key);
    report.changed = changed.len();

    Metrics::add(&deps.metrics.accepted, report.accepted as u64);
    Metrics::add(&deps.metrics.rejected, report.rejected as u64);
    Metrics::add(&deps.metrics.changed, report.changed as u64);
    tracing::info!(
        records = records.len(),
        accepted = report.accepted,
        rejected = report.rejected,
        changed = report.changed,
        cache_ok = report.cache_error.is_none(),
        archive_key = report.archive_key.as_deref().unwrap_or_default(),
        validate_ms = millis(report.timings.validate),
        archive_ms = millis(report.timings.archive),
        catalog_ms = millis(report.timings.catalog),
        cache_ms = millis(report.timings.cache),
        total_rejected = Metrics::get(&deps.metrics.rejected),
        total_cache_failures = Metrics::get(&deps.metrics.cache_failures),
        "batch processed"
    );
    report
}

/// The cache refresh of one batch, run on its own task.
struct Refresh {
    refreshed: Result<(), CacheError>,
    took: Duration,
    /// The rows the upsert changed, handed back for the report (and a withdrawal).
    changed: Vec<ChangedProduct>,
}

impl Refresh {
    /// Waits for the refresh task, if the batch changed anything.
    async fn finished(task: Option<tokio::task::JoinHandle<Refresh>>) -> Refresh {
        let refreshed = match task {
            Some(task) => match task.await {
                Ok(refresh) => return refresh,
                Err(e) => Err(CacheError(format!("cache task: {e}"))),
            },
            None => Ok(()),
        };
        Refresh {
            refreshed,
            took: Duration::ZERO,
            changed: Vec::new(),
        }
    }
}

/// Deletes the cache entries of a batch that was not committed (its archive write or its
/// commit failed); they expire with their TTL if even that fails, and the retry writes them
/// again anyway.
async fn withdraw(deps: &Deps, refresh: Refresh) {
    if refresh.refreshed.is_ok()
        && !refresh.changed.is_empty()
        && let Err(e) = deps.cache.invalidate(&refresh.changed).await
    {
        Metrics::add(&deps.metrics.cache_failures, 1);
        tracing::warn!(error = %e, "could not withdraw the cache entries of an uncommitted batch");
    }
}

/// Runs `work` and says how long it took, for the per-stage timings.
async fn timed<T>(work: impl Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let out = work.await;
    (out, started.elapsed())
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Hands the batch back to Lambda from its first record: nothing of it has been applied to
/// the catalog, and a retry overwrites the same archive object.
fn retry_from_first(
    deps: &Deps,
    records: &[IncomingRecord],
    mut report: BatchReport,
    err: String,
) -> BatchReport {
    Metrics::add(&deps.metrics.transient_failures, 1);
    let first = records
        .iter()
        .map(|r| r.sequence_number.as_str())
        .find(|s| !s.is_empty());
    tracing::error!(error = %err, retry_from = first.unwrap_or_default(), "batch handed back for retry");
    if let Some(first) = first {
        report.response.add_failure(first);
    }
    report.changed = 0;
    report.transient_error = Some(err);
    report
}
