//! The batch pipeline: validate, archive to S3, upsert PostgreSQL, refresh Redis.
//!
//! Order matters: the archive is written first so no record reaches the catalog without being
//! archived; the catalog upsert is one statement so a batch is applied entirely or not at all;
//! the cache is best effort because the catalog is the source of truth.

use aws_lambda_events::event::kinesis::KinesisEvent;
use aws_lambda_events::event::streams::KinesisEventResponse;

use crate::archive::{self, Verdict};
use crate::catalog::{self, SequencedUpdate};
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
    let Some(serde_json::Value::Array(records)) = event.remove("Records") else {
        return Err("event has no `Records` array: not a Kinesis event".into());
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
fn judge(record: &IncomingRecord, max_bytes: usize) -> Verdict {
    if SequenceNumber::parse(&record.sequence_number).is_none() {
        return Verdict::Rejected(Rejection {
            code: "invalid_sequence_number",
            detail: format!(
                "sequence number {:?} is not decimal digits",
                record.sequence_number
            ),
        });
    }
    match &record.data {
        Err(why) => Verdict::Rejected(Rejection {
            code: "bad_envelope",
            detail: why.clone(),
        }),
        Ok(data) => match parse_update(data, max_bytes) {
            Ok(update) => Verdict::Accepted(update),
            Err(rejection) => Verdict::Rejected(rejection),
        },
    }
}

/// Runs the whole pipeline on one batch; never panics and never returns early without a
/// report, so every record ends in the catalog, the rejected archive, or a retry.
pub async fn process(deps: &Deps, records: Vec<IncomingRecord>) -> BatchReport {
    let mut report = BatchReport::default();
    Metrics::add(&deps.metrics.batches, 1);
    if records.is_empty() {
        return report;
    }
    let verdicts: Vec<Verdict> = records
        .iter()
        .map(|r| judge(r, deps.settings.max_record_bytes))
        .collect();
    for (record, verdict) in records.iter().zip(&verdicts) {
        if let Verdict::Rejected(why) = verdict {
            tracing::warn!(
                sequence_number = %record.sequence_number,
                shard_id = %record.shard_id,
                code = why.code,
                detail = %why.detail,
                "record rejected"
            );
        }
    }
    report.rejected = verdicts
        .iter()
        .filter(|v| matches!(v, Verdict::Rejected(_)))
        .count();
    report.accepted = records.len() - report.rejected;

    // 1. Archive everything first: nothing may reach the catalog unarchived.
    let key = archive::object_key(&deps.settings.archive_prefix, &records);
    let archived = match archive::encode(&records, &verdicts) {
        Ok(body) => archive::put(&deps.s3, &deps.settings.archive_bucket, &key, body)
            .await
            .map_err(|e| {
                format!(
                    "archive to s3://{}/{key}: {e}",
                    deps.settings.archive_bucket
                )
            }),
        Err(e) => Err(format!("encoding archive: {e}")),
    };
    if let Err(err) = archived {
        return retry_from_first(deps, &records, report, err);
    }
    report.archive_key = Some(key);

    // 2. One set-based upsert for all valid updates.
    let updates: Vec<SequencedUpdate> = records
        .iter()
        .zip(verdicts)
        .filter_map(|(record, verdict)| match verdict {
            Verdict::Accepted(update) => SequenceNumber::parse(&record.sequence_number)
                .map(|sequence| SequencedUpdate { update, sequence }),
            Verdict::Rejected(_) => None,
        })
        .collect();
    let changed = match catalog::upsert(&deps.db, &catalog::newest_per_product(updates)).await {
        Ok(changed) => changed,
        Err(e) => return retry_from_first(deps, &records, report, format!("catalog upsert: {e}")),
    };
    report.changed = changed.len();

    // 3. Best-effort cache refresh.
    if let Err(e) = deps.cache.write_through(&changed).await {
        Metrics::add(&deps.metrics.cache_failures, 1);
        tracing::warn!(error = %e, products = changed.len(), "cache refresh failed; catalog is updated");
        report.cache_error = Some(e.to_string());
    }

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
        total_rejected = Metrics::get(&deps.metrics.rejected),
        total_cache_failures = Metrics::get(&deps.metrics.cache_failures),
        "batch processed"
    );
    report
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
