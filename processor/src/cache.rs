//! The Redis product cache, refreshed write-through with a TTL after each catalog upsert.
//!
//! Write-through (rather than delete-to-invalidate) because readers then find the new stock
//! level immediately instead of all missing at once and stampeding PostgreSQL after every batch;
//! it is safe because only rows the sequence-guarded upsert actually changed are written, and
//! one product's updates arrive in order on one shard. The TTL bounds how long an entry can stay
//! stale if a refresh is lost while Redis is unreachable.

use std::time::Duration;

use redis::Cmd;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::catalog::ChangedProduct;

/// How the cache is addressed and how long entries live.
#[derive(Clone, Debug)]
pub struct CacheSettings {
    /// Prepended to every key (`<prefix><product_id>`), so environments and tests never collide.
    pub key_prefix: String,
    /// Entry lifetime; bounds staleness after a missed refresh.
    pub ttl: Duration,
    /// Upper bound on one pipeline round trip, so a hung Redis cannot stall the shard.
    pub timeout: Duration,
}

/// A lazily connected Redis client that never fails the batch: errors are returned for
/// counting and logging, and the connection manager reconnects on its own. Clones share the
/// connection.
#[derive(Clone)]
pub struct Cache {
    conn: Option<ConnectionManager>,
    settings: CacheSettings,
}

/// The cached representation of a product; the price is a string so it stays exact.
#[derive(Serialize)]
struct CachedProduct<'a> {
    product_id: &'a str,
    inventory: i64,
    #[serde(serialize_with = "as_text")]
    price: &'a Decimal,
    #[serde(skip_serializing_if = "Option::is_none")]
    supplier_id: Option<&'a str>,
    sequence_number: &'a str,
}

/// Writes a value as a JSON string through its `Display`, without an intermediate `String`.
fn as_text<S: serde::Serializer>(value: &&Decimal, out: S) -> Result<S::Ok, S::Error> {
    out.collect_str(value)
}

impl Cache {
    /// Builds the client without connecting, so a Redis outage at cold start costs nothing.
    pub fn connect_lazy(url: &str, settings: CacheSettings) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(settings.timeout))
            .set_response_timeout(Some(settings.timeout))
            .set_number_of_retries(1);
        let conn = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self {
            conn: Some(conn),
            settings,
        })
    }

    /// A cache that does nothing, for deployments without Redis.
    pub fn disabled(settings: CacheSettings) -> Self {
        Self {
            conn: None,
            settings,
        }
    }

    /// Renders the key a product is cached under, `<prefix><product_id>`, into `buf`.
    fn key_into(&self, buf: &mut Vec<u8>, product_id: &str) {
        buf.clear();
        buf.extend_from_slice(self.settings.key_prefix.as_bytes());
        buf.extend_from_slice(product_id.as_bytes());
    }

    /// Waits for a request whose replies are not needed, at most the configured timeout, so a
    /// hung Redis cannot stall the shard.
    async fn bounded(
        &self,
        request: impl Future<Output = redis::RedisResult<()>>,
    ) -> Result<(), CacheError> {
        match tokio::time::timeout(self.settings.timeout, request).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(CacheError(e.to_string())),
            Err(_) => Err(CacheError(format!(
                "timed out after {:?}",
                self.settings.timeout
            ))),
        }
    }

    /// Writes every changed product in one pipeline with `SET .. EX ttl`.
    pub async fn write_through(&self, changed: &[ChangedProduct]) -> Result<(), CacheError> {
        let Some(conn) = &self.conn else {
            return Ok(());
        };
        if changed.is_empty() {
            return Ok(());
        }
        let ttl = self.settings.ttl.as_secs().max(1);
        let mut pipe = redis::Pipeline::with_capacity(changed.len());
        // Keys and entries are rendered into two reused buffers and copied once into a
        // command sized up front: no String per key or entry, no buffer regrowing per arg.
        let (mut key, mut entry) = (Vec::with_capacity(128), Vec::with_capacity(256));
        for row in changed {
            self.key_into(&mut key, &row.product_id);
            entry.clear();
            serde_json::to_writer(
                &mut entry,
                &CachedProduct {
                    product_id: &row.product_id,
                    inventory: row.inventory,
                    price: &row.price,
                    supplier_id: row.supplier_id.as_deref(),
                    sequence_number: &row.kinesis_sequence,
                },
            )
            .map_err(|e| CacheError(e.to_string()))?;
            let mut set = Cmd::with_capacity(5, key.len() + entry.len() + 16);
            set.arg("SET").arg(&key).arg(&entry).arg("EX").arg(ttl);
            pipe.add_command(set).ignore();
        }
        let mut conn = conn.clone();
        self.bounded(pipe.query_async(&mut conn)).await
    }

    /// Deletes the entries of these products: withdraws the refresh of a batch that was not
    /// committed.
    pub async fn invalidate(&self, changed: &[ChangedProduct]) -> Result<(), CacheError> {
        let Some(conn) = &self.conn else {
            return Ok(());
        };
        if changed.is_empty() {
            return Ok(());
        }
        let mut delete = redis::cmd("DEL");
        let mut key = Vec::with_capacity(128);
        for row in changed {
            self.key_into(&mut key, &row.product_id);
            delete.arg(&key);
        }
        let mut conn = conn.clone();
        self.bounded(delete.query_async(&mut conn)).await
    }
}

/// A failed cache refresh; logged and counted, never fatal.
#[derive(Debug)]
pub struct CacheError(pub String);

impl std::fmt::Display for CacheError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "redis refresh failed: {}", self.0)
    }
}

impl std::error::Error for CacheError {}
