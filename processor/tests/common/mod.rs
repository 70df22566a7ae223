//! Shared helpers for the integration tests: real PostgreSQL, Redis and moto, each test with
//! its own database, key prefix and bucket so parallel runs never collide.
//!
//! Every helper that needs a service panics with a clear message when it is unreachable:
//! these tests must fail, never silently pass, without their services.
#![allow(dead_code)]

use std::io::Read;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use base64::Engine as _;
use processor::Deps;
use processor::cache::{Cache, CacheSettings};
use processor::config::{Settings, lazy_pool};
use serde_json::{Value, json};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Executor, PgConnection, PgPool};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

/// The admin URL used to create per-test databases.
pub fn admin_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// moto's endpoint (started by `processor/scripts/start-moto.sh`).
pub fn moto_endpoint() -> String {
    std::env::var("MOTO_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:5000".to_owned())
}

/// The Redis server the tests write to.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A name no other test or run uses: pid, a per-process counter and the clock.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{prefix}{}x{n}x{nanos}", std::process::id())
}

/// A port that nothing listens on, for "service unreachable" tests.
pub async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind an ephemeral port");
    let port = listener.local_addr().expect("local addr").port();
    drop(listener);
    port
}

/// A freshly created and migrated database, dropped by [`TestDb::drop_db`].
pub struct TestDb {
    /// Its name.
    pub name: String,
    /// A URL reaching it directly.
    pub url: String,
    /// A pool on it, for assertions.
    pub pool: PgPool,
}

impl TestDb {
    /// Creates and migrates a database of its own.
    pub async fn create() -> Self {
        let db = Self::create_empty().await;
        processor::catalog::MIGRATOR
            .run(&db.pool)
            .await
            .expect("migrations apply");
        db
    }

    /// Creates a database of its own without the schema.
    pub async fn create_empty() -> Self {
        let admin = admin_url();
        let mut conn = PgConnection::connect(&admin).await.unwrap_or_else(|e| {
            panic!("PostgreSQL is not reachable at {admin} ({e}); start it or set DATABASE_URL")
        });
        let name = unique("proc_test_");
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create test database");
        conn.close().await.ok();
        let options = PgConnectOptions::from_str(&admin)
            .expect("admin url")
            .database(&name);
        let url = with_database(&admin, &name);
        let pool = lazy_pool(options, 4, Duration::from_secs(5));
        Self { name, url, pool }
    }

    /// Drops the database (best effort at the end of a test).
    pub async fn drop_db(self) {
        self.pool.close().await;
        if let Ok(mut conn) = PgConnection::connect(&admin_url()).await {
            let _ = conn
                .execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str())
                .await;
        }
    }

    /// A product row as (inventory, price text, sequence text), if present.
    pub async fn product(&self, id: &str) -> Option<(i64, String, String)> {
        sqlx::query_as::<_, (i64, String, String)>(
            "SELECT inventory, price::text, kinesis_sequence::text FROM products WHERE product_id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .expect("query products")
    }

    /// How many products the catalog holds.
    pub async fn count(&self) -> i64 {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM products")
            .fetch_one(&self.pool)
            .await
            .expect("count products")
    }
}

/// Replaces the database path of a PostgreSQL URL.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// An S3 client for moto (or for any endpoint, such as a closed port).
pub fn s3_client(endpoint: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .timeout_config(
            aws_sdk_s3::config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_timeout(Duration::from_secs(10))
                .build(),
        )
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// A Secrets Manager client for moto.
pub fn secrets_client(endpoint: &str) -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
        .region(aws_sdk_secretsmanager::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

/// Creates a bucket of its own on moto, failing clearly when moto is not running.
pub async fn create_bucket(s3: &aws_sdk_s3::Client) -> String {
    let bucket = unique("proc-test-").replace('_', "-");
    s3.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "cannot create a bucket on moto at {} ({}); run processor/scripts/start-moto.sh",
                moto_endpoint(),
                aws_sdk_s3::error::DisplayErrorContext(&e)
            )
        });
    bucket
}

/// Fails clearly unless Redis answers.
pub async fn require_redis() {
    let url = redis_url();
    let client = redis::Client::open(url.as_str()).expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| {
            panic!("Redis is not reachable at {url} ({e}); start it or set REDIS_URL")
        });
    let _: String = redis::cmd("PING")
        .query_async(&mut conn)
        .await
        .expect("redis PING");
}

/// The services one test uses, with its own database, bucket and cache prefix.
pub struct Env {
    /// The test's database.
    pub db: TestDb,
    /// The moto S3 client.
    pub s3: aws_sdk_s3::Client,
    /// The test's bucket.
    pub bucket: String,
    /// The test's Redis key prefix.
    pub prefix: String,
}

impl Env {
    /// Sets up a database, a bucket and a key prefix.
    pub async fn new() -> Self {
        // Services are checked before the database is created, so a missing one leaks nothing.
        require_redis().await;
        let s3 = s3_client(&moto_endpoint());
        let bucket = create_bucket(&s3).await;
        let db = TestDb::create().await;
        let prefix = format!("{}:product:", unique("proc-test-"));
        Self {
            db,
            s3,
            bucket,
            prefix,
        }
    }

    /// Deps wired to the real services.
    pub fn deps(&self) -> Deps {
        self.deps_with(&self.db.url, self.s3.clone(), &redis_url())
    }

    /// Deps with any of the endpoints swapped (for outage tests).
    pub fn deps_with(&self, db_url: &str, s3: aws_sdk_s3::Client, redis: &str) -> Deps {
        let options = PgConnectOptions::from_str(db_url).expect("db url");
        Deps::new(
            lazy_pool(options, 2, Duration::from_secs(2)),
            s3,
            Cache::connect_lazy(redis, self.cache_settings()).expect("redis url"),
            Settings::for_bucket(&self.bucket),
        )
    }

    fn cache_settings(&self) -> CacheSettings {
        CacheSettings {
            key_prefix: self.prefix.clone(),
            ttl: Duration::from_secs(600),
            timeout: Duration::from_millis(500),
        }
    }

    /// The cached JSON for a product, if any, and its remaining TTL.
    pub async fn cached(&self, id: &str) -> Option<(Value, i64)> {
        let client = redis::Client::open(redis_url()).expect("redis url");
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .expect("redis connection");
        let key = format!("{}{id}", self.prefix);
        let text: Option<String> = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .expect("GET");
        let ttl: i64 = redis::cmd("TTL")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .expect("TTL");
        text.map(|t| (serde_json::from_str(&t).expect("cached JSON"), ttl))
    }

    /// Reads an archive object back as parsed NDJSON lines.
    pub async fn archive_lines(&self, key: &str) -> Vec<Value> {
        let object = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .expect("get archive");
        let bytes = object
            .body
            .collect()
            .await
            .expect("archive body")
            .into_bytes();
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .expect("gzip archive");
        text.lines()
            .map(|l| serde_json::from_str(l).expect("NDJSON line"))
            .collect()
    }

    /// All archive keys in the bucket.
    pub async fn archive_keys(&self) -> Vec<String> {
        let out = self
            .s3
            .list_objects_v2()
            .bucket(&self.bucket)
            .send()
            .await
            .expect("list archive");
        out.contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect()
    }

    /// Cleans up the database.
    pub async fn finish(self) {
        self.db.drop_db().await;
    }
}

/// A producer payload in the documented shape.
pub fn update(id: &str, inventory: i64, price: &str) -> Vec<u8> {
    format!(r#"{{"product_id":"{id}","inventory":{inventory},"price":{price}}}"#).into_bytes()
}

/// One Kinesis record as Lambda delivers it (data base64-encoded).
pub fn kinesis_record(seq: &str, data: &[u8]) -> Value {
    record_with_raw_data(seq, &base64::engine::general_purpose::STANDARD.encode(data))
}

/// A record whose `data` field is given verbatim (for bad base64).
pub fn record_with_raw_data(seq: &str, data: &str) -> Value {
    json!({
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "pk",
            "sequenceNumber": seq,
            "data": data,
            "approximateArrivalTimestamp": 1764100000.125
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": format!("shardId-000000000003:{seq}"),
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/processor",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/inventory"
    })
}

/// A Kinesis event JSON from records.
pub fn event_json(records: Vec<Value>) -> Value {
    json!({ "Records": records })
}

/// A typed Kinesis event from (sequence number, payload) pairs.
pub fn event(records: &[(&str, Vec<u8>)]) -> aws_lambda_events::event::kinesis::KinesisEvent {
    let json = event_json(
        records
            .iter()
            .map(|(seq, data)| kinesis_record(seq, data))
            .collect(),
    );
    serde_json::from_value(json).expect("valid Kinesis event")
}

/// The item identifiers of a response.
pub fn failures(response: &aws_lambda_events::event::streams::KinesisEventResponse) -> Vec<String> {
    response
        .batch_item_failures
        .iter()
        .filter_map(|f| f.item_identifier.clone())
        .collect()
}

/// A TCP forwarder to PostgreSQL that can be stopped (dropping every connection) and started
/// again on the same port: a database outage without touching the shared server.
pub struct OutageProxy {
    /// The port clients connect to.
    pub port: u16,
    target: String,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl OutageProxy {
    /// Starts forwarding to `target` (host:port).
    pub async fn start(target: &str) -> Self {
        let proxy = Self {
            port: closed_port().await,
            target: target.to_owned(),
            tasks: Arc::default(),
        };
        proxy.resume().await;
        proxy
    }

    /// A database URL that goes through the proxy.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Listens again on the same port.
    pub async fn resume(&self) {
        let socket = TcpSocket::new_v4().expect("socket");
        socket.set_reuseaddr(true).expect("reuseaddr");
        socket
            .bind(([127, 0, 0, 1], self.port).into())
            .expect("rebind proxy port");
        let listener = socket.listen(64).expect("listen");
        let target = self.target.clone();
        let tasks = Arc::clone(&self.tasks);
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let target = target.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks.lock().await.push(conn);
            }
        });
        self.tasks.lock().await.push(accept);
    }

    /// Stops listening and cuts every open connection.
    pub async fn stop(&self) {
        for task in self.tasks.lock().await.drain(..) {
            task.abort();
            let _ = task.await;
        }
    }
}
