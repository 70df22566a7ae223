//! Per-container counters, reported in each batch's summary log line.

use std::sync::atomic::{AtomicU64, Ordering};

/// Running totals since the container started; cheap enough to bump per record.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Batches handled.
    pub batches: AtomicU64,
    /// Records accepted and offered to the catalog.
    pub accepted: AtomicU64,
    /// Records archived as rejected and skipped.
    pub rejected: AtomicU64,
    /// Catalog rows actually changed.
    pub changed: AtomicU64,
    /// Batches handed back to Lambda for retry because a dependency failed.
    pub transient_failures: AtomicU64,
    /// Cache refreshes that failed (the catalog was still updated).
    pub cache_failures: AtomicU64,
}

impl Metrics {
    /// Adds `n` to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}
