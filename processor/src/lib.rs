//! The inventory processor: a Kinesis-triggered Lambda that archives every inventory update to
//! S3, keeps the PostgreSQL product catalog current, and refreshes the Redis cache.
//!
//! `main` builds [`Deps`] once per container; [`handle`] is a plain async function, so tests
//! and the local replay mode call it exactly as Lambda does.

#![warn(missing_docs)]

pub mod archive;
pub mod cache;
pub mod catalog;
pub mod config;
pub mod handler;
pub mod metrics;
#[cfg(feature = "local-poller")]
pub mod poller;
pub mod record;
pub mod replay;

pub use handler::{BatchReport, handle, handle_json, process};

/// The error type Lambda expects from a handler.
pub type Error = lambda_runtime::Error;

/// Everything a batch needs, built once per container and shared by every invocation.
pub struct Deps {
    /// The catalog database.
    pub db: sqlx::PgPool,
    /// The archive store.
    pub s3: aws_sdk_s3::Client,
    /// The product cache (possibly disabled).
    pub cache: cache::Cache,
    /// Non-client settings.
    pub settings: config::Settings,
    /// Counters since the container started.
    pub metrics: metrics::Metrics,
    /// Set when the migrations could not be applied at cold start (database down); the next
    /// batch applies them first, so a new container never writes to a missing schema.
    pub migrations_pending: std::sync::atomic::AtomicBool,
}

impl Deps {
    /// Wires already-built clients (tests, benchmark); the schema is assumed migrated.
    pub fn new(
        db: sqlx::PgPool,
        s3: aws_sdk_s3::Client,
        cache: cache::Cache,
        settings: config::Settings,
    ) -> Self {
        Self {
            db,
            s3,
            cache,
            settings,
            metrics: metrics::Metrics::default(),
            migrations_pending: std::sync::atomic::AtomicBool::new(false),
        }
    }
}
