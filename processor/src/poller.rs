//! Local pipeline (feature `local-poller`): reads a Kinesis API endpoint (moto, kinesalite)
//! shard by shard and hands each batch to the same [`process`] function, retrying from the
//! first failed record exactly as the Lambda event source mapping does with
//! `ReportBatchItemFailures`.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_kinesis::types::ShardIteratorType;
use chrono::DateTime;

use crate::Deps;
use crate::config::BoxError;
use crate::handler::process;
use crate::record::IncomingRecord;

/// How to poll.
#[derive(Clone, Debug)]
pub struct PollOptions {
    /// The stream to read.
    pub stream: String,
    /// Largest batch handed to the handler (the mapping's `BatchSize`).
    pub batch_size: i32,
    /// Stop once every shard is drained, instead of polling forever.
    pub once: bool,
    /// Pause between empty polls and between retries.
    pub wait: Duration,
    /// In `once` mode, give up after this many consecutive failed attempts of one batch.
    pub max_attempts: u32,
}

/// Totals of a polling run.
#[derive(Debug, Default, serde::Serialize)]
pub struct PollSummary {
    /// Batches handed to the handler, retries included.
    pub batches: usize,
    /// Records read from the stream and fully processed.
    pub records: usize,
    /// Batches the handler reported as failed (and that were retried).
    pub retries: usize,
}

/// Where a shard is read from next.
enum Position {
    Start,
    After(String),
    At(String),
}

/// Polls every shard of the stream until drained (`once`) or forever.
pub async fn poll(
    deps: &Deps,
    kinesis: &aws_sdk_kinesis::Client,
    options: &PollOptions,
) -> Result<PollSummary, BoxError> {
    let shards = kinesis
        .list_shards()
        .stream_name(&options.stream)
        .send()
        .await
        .map_err(|e| {
            format!(
                "listing shards of {}: {}",
                options.stream,
                aws_sdk_kinesis::error::DisplayErrorContext(&e)
            )
        })?;
    let mut positions: BTreeMap<String, Position> = shards
        .shards()
        .iter()
        .map(|s| (s.shard_id().to_owned(), Position::Start))
        .collect();
    let mut summary = PollSummary::default();
    let mut failures_in_a_row = 0u32;
    loop {
        let mut drained = true;
        for (shard_id, position) in positions.iter_mut() {
            let records = read_batch(kinesis, options, shard_id, position).await?;
            if records.is_empty() {
                continue;
            }
            drained = false;
            let count = records.len();
            let last = records
                .last()
                .map(|r| r.sequence_number.clone())
                .unwrap_or_default();
            let report = process(deps, records).await;
            summary.batches += 1;
            match report
                .response
                .batch_item_failures
                .first()
                .and_then(|f| f.item_identifier.clone())
            {
                None => {
                    summary.records += count;
                    failures_in_a_row = 0;
                    *position = Position::After(last);
                }
                Some(failed) => {
                    summary.retries += 1;
                    failures_in_a_row += 1;
                    *position = Position::At(failed);
                    if options.once && failures_in_a_row >= options.max_attempts {
                        return Err(format!(
                            "shard {shard_id}: batch failed {failures_in_a_row} times: {}",
                            report.transient_error.unwrap_or_default()
                        )
                        .into());
                    }
                    tokio::time::sleep(options.wait).await;
                }
            }
        }
        if drained {
            if options.once {
                return Ok(summary);
            }
            tokio::time::sleep(options.wait).await;
        }
    }
}

/// Reads up to `batch_size` records of one shard from `position`.
async fn read_batch(
    kinesis: &aws_sdk_kinesis::Client,
    options: &PollOptions,
    shard_id: &str,
    position: &Position,
) -> Result<Vec<IncomingRecord>, BoxError> {
    let request = kinesis
        .get_shard_iterator()
        .stream_name(&options.stream)
        .shard_id(shard_id);
    let request = match position {
        Position::Start => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        Position::After(seq) => request
            .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
            .starting_sequence_number(seq),
        Position::At(seq) => request
            .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
            .starting_sequence_number(seq),
    };
    let iterator = request.send().await.map_err(|e| {
        format!(
            "shard iterator for {shard_id}: {}",
            aws_sdk_kinesis::error::DisplayErrorContext(&e)
        )
    })?;
    let Some(iterator) = iterator.shard_iterator() else {
        return Ok(Vec::new());
    };
    let out = kinesis
        .get_records()
        .shard_iterator(iterator)
        .limit(options.batch_size)
        .send()
        .await
        .map_err(|e| {
            format!(
                "reading {shard_id}: {}",
                aws_sdk_kinesis::error::DisplayErrorContext(&e)
            )
        })?;
    Ok(out
        .records()
        .iter()
        .map(|r| IncomingRecord {
            sequence_number: r.sequence_number().to_owned(),
            partition_key: r.partition_key().to_owned(),
            shard_id: shard_id.to_owned(),
            event_id: Some(format!("{shard_id}:{}", r.sequence_number())),
            arrival: r
                .approximate_arrival_timestamp()
                .and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos())),
            data: Ok(r.data().as_ref().to_vec()),
        })
        .collect())
}
