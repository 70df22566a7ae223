//! Local mode: `processor replay FILE.jsonl` feeds producer payloads, one per line, through
//! the same pipeline as Lambda against the configured PostgreSQL, Redis and S3.

use std::io::BufRead;
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::Utc;

use crate::Deps;
use crate::handler::process;
use crate::record::IncomingRecord;

/// Totals of a replay run, printed as JSON by `main`.
#[derive(Debug, Default, serde::Serialize)]
pub struct ReplaySummary {
    /// Batches sent through the handler.
    pub batches: usize,
    /// Lines read (blank lines excluded).
    pub records: usize,
    /// Records that passed validation.
    pub accepted: usize,
    /// Records archived as rejected.
    pub rejected: usize,
    /// Catalog rows changed.
    pub changed: usize,
    /// Batches the handler reported as failed (would be retried by Lambda).
    pub failed_batches: usize,
}

/// Wraps payload lines as records of one pseudo-shard; sequence numbers start from the
/// current time in nanoseconds so a later replay supersedes an earlier one, as a later
/// `put-record` would.
pub fn records_from_lines(lines: &[String], first_sequence: u128) -> Vec<IncomingRecord> {
    let now = Utc::now();
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let partition_key = serde_json::from_str::<serde_json::Value>(line)
                .ok()
                .and_then(|v| v.get("product_id")?.as_str().map(str::to_owned))
                .unwrap_or_else(|| "replay".to_owned());
            let sequence = first_sequence + i as u128;
            IncomingRecord {
                sequence_number: sequence.to_string(),
                partition_key,
                shard_id: "shardId-replay".to_owned(),
                event_id: Some(format!("shardId-replay:{sequence}")),
                arrival: Some(now),
                data: Ok(line.clone().into_bytes()),
            }
        })
        .collect()
}

/// Replays a JSON-lines reader in batches of `batch_size`.
pub async fn replay(
    deps: &Deps,
    input: impl BufRead,
    batch_size: usize,
) -> std::io::Result<ReplaySummary> {
    let mut next_sequence = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos());
    let mut summary = ReplaySummary::default();
    let mut lines = Vec::with_capacity(batch_size);
    let mut input = input.lines();
    loop {
        let line = input.next().transpose()?;
        if let Some(line) = &line {
            if !line.trim().is_empty() {
                lines.push(line.clone());
            }
        }
        if lines.len() >= batch_size.max(1) || (line.is_none() && !lines.is_empty()) {
            let records = records_from_lines(&lines, next_sequence);
            next_sequence += lines.len() as u128;
            summary.records += lines.len();
            lines.clear();
            let report = process(deps, records).await;
            summary.batches += 1;
            summary.accepted += report.accepted;
            summary.rejected += report.rejected;
            summary.changed += report.changed;
            if report.transient_error.is_some() {
                summary.failed_batches += 1;
            }
        }
        if line.is_none() {
            return Ok(summary);
        }
    }
}
