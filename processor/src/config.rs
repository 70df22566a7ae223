//! Settings from the environment and the clients built from them, once per container.
//!
//! The database credentials come from Secrets Manager (`DATABASE_SECRET_ARN`, fetched once at
//! start-up) or, for local runs and tests, from `DATABASE_URL`. No password is ever logged.

use std::str::FromStr;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use serde::Deserialize;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection as _, PgPool};

use crate::Deps;
use crate::cache::{Cache, CacheSettings};
use crate::record::DEFAULT_MAX_RECORD_BYTES;

/// The boxed error used at start-up, where any failure stops the container.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Handler settings that are not clients.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Bucket receiving the compliance archive.
    pub archive_bucket: String,
    /// Key prefix of the archive objects.
    pub archive_prefix: String,
    /// Records larger than this are rejected unread.
    pub max_record_bytes: usize,
}

impl Settings {
    /// Defaults suitable for a bucket; used by tests and the benchmark.
    pub fn for_bucket(bucket: impl Into<String>) -> Self {
        Self {
            archive_bucket: bucket.into(),
            archive_prefix: "inventory-updates".to_owned(),
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
        }
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parsed<T: FromStr>(name: &str, default: T) -> Result<T, BoxError> {
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| format!("{name}={v:?} is not valid").into()),
    }
}

/// The shape of an RDS-managed secret (or any secret with the same fields).
#[derive(Deserialize)]
struct DbSecret {
    username: String,
    password: String,
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    port: Option<u16>,
    #[serde(default)]
    dbname: Option<String>,
}

/// Reads the database secret (called once per container) and turns it into connect options.
pub async fn database_options_from_secret(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
) -> Result<PgConnectOptions, BoxError> {
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| {
            format!(
                "reading database secret: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
            )
        })?;
    let text = out
        .secret_string()
        .ok_or("database secret has no SecretString")?;
    // The parse error could quote the secret, so it is replaced by a fixed message.
    let secret: DbSecret = serde_json::from_str(text)
        .map_err(|_| "database secret is not JSON with username and password")?;
    let mut options = PgConnectOptions::new()
        .port(secret.port.unwrap_or(5432))
        .username(&secret.username)
        .password(&secret.password);
    if let Some(host) = secret.host {
        options = options.host(&host);
    }
    if let Some(db) = secret.dbname {
        options = options.database(&db);
    }
    Ok(options)
}

/// How long a pooled connection may sit unused before it is checked before use.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

/// A pool that connects on demand, so a database outage at cold start is retried per batch
/// instead of crashing the container.
pub fn lazy_pool(
    options: PgConnectOptions,
    max_connections: u32,
    acquire_timeout: Duration,
) -> PgPool {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(0)
        .acquire_timeout(acquire_timeout)
        // By default sqlx pings every connection it hands out: a round trip per batch on the
        // critical path. It already pings each one when it comes back to the pool (and drops
        // it if that fails), so only a connection that has sat idle since (a thawed container,
        // a quiet stream) can have been dropped by the server or a NAT meanwhile: only such a
        // connection is pinged before use.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= IDLE_BEFORE_PING {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .connect_lazy_with(options)
}

/// Loads the AWS configuration from the environment (region, credentials, `AWS_ENDPOINT_URL`)
/// with bounded timeouts so an unreachable S3 fails the batch quickly.
pub async fn aws_config() -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_timeout(Duration::from_secs(20))
                .build(),
        )
        .load()
        .await
}

/// An S3 client; `force_path_style` is needed by local servers such as moto.
pub fn s3_client(sdk: &aws_config::SdkConfig, force_path_style: bool) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(force_path_style)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// Environment settings applied on top of the secret or URL: `DATABASE_HOST`, `DATABASE_PORT`
/// and `DATABASE_SSLMODE` win (the stack knows the endpoint before the secret is attached to
/// the instance), and every session gets a `statement_timeout`.
fn endpoint_overrides(mut options: PgConnectOptions) -> Result<PgConnectOptions, BoxError> {
    if let Some(host) = var("DATABASE_HOST") {
        options = options.host(&host);
    }
    if var("DATABASE_PORT").is_some() {
        options = options.port(parsed("DATABASE_PORT", 5432)?);
    }
    if let Some(mode) = var("DATABASE_SSLMODE") {
        options = options.ssl_mode(mode.parse().map_err(|_| "DATABASE_SSLMODE is not valid")?);
    }
    // A hung statement fails the batch (and so retries it) well before the Lambda timeout.
    let timeout_ms: u64 = parsed("DB_STATEMENT_TIMEOUT_MS", 15_000)?;
    Ok(options.options([("statement_timeout", timeout_ms.to_string())]))
}

impl Deps {
    /// Builds every client from the environment; called once per container in `main`.
    pub async fn from_env() -> Result<Self, BoxError> {
        let sdk = aws_config().await;
        let options = match (var("DATABASE_URL"), var("DATABASE_SECRET_ARN")) {
            (Some(url), _) => PgConnectOptions::from_str(&url)
                .map_err(|_| "DATABASE_URL is not a valid PostgreSQL URL")?,
            (None, Some(arn)) => {
                let client = aws_sdk_secretsmanager::Client::new(&sdk);
                database_options_from_secret(&client, &arn).await?
            }
            (None, None) => return Err("set DATABASE_SECRET_ARN (or DATABASE_URL locally)".into()),
        };
        let options = endpoint_overrides(options)?;
        let db = lazy_pool(
            options,
            parsed("DB_MAX_CONNECTIONS", 2)?,
            Duration::from_millis(parsed("DB_ACQUIRE_TIMEOUT_MS", 5_000)?),
        );
        let mut migrations_pending = false;
        if parsed("RUN_MIGRATIONS", true)? {
            // Not fatal: the database may be down; the first batch retries them.
            if let Err(e) = crate::catalog::MIGRATOR.run(&db).await {
                tracing::error!(error = %e, "migrations not applied at start-up; retrying per batch");
                migrations_pending = true;
            }
        }
        let cache_settings = CacheSettings {
            key_prefix: var("CACHE_KEY_PREFIX").unwrap_or_else(|| "product:".to_owned()),
            ttl: Duration::from_secs(parsed("CACHE_TTL_SECONDS", 900)?),
            timeout: Duration::from_millis(parsed("CACHE_TIMEOUT_MS", 500)?),
        };
        let cache = match var("REDIS_URL") {
            Some(url) => Cache::connect_lazy(&url, cache_settings)
                .map_err(|_| "REDIS_URL is not a valid Redis URL")?,
            None => Cache::disabled(cache_settings),
        };
        let settings = Settings {
            archive_bucket: var("ARCHIVE_BUCKET").ok_or("ARCHIVE_BUCKET is required")?,
            archive_prefix: var("ARCHIVE_PREFIX").unwrap_or_else(|| "inventory-updates".to_owned()),
            max_record_bytes: parsed("MAX_RECORD_BYTES", DEFAULT_MAX_RECORD_BYTES)?,
        };
        let deps = Deps::new(
            db,
            s3_client(&sdk, parsed("S3_FORCE_PATH_STYLE", false)?),
            cache,
            settings,
        );
        deps.migrations_pending
            .store(migrations_pending, std::sync::atomic::Ordering::Relaxed);
        Ok(deps)
    }
}
