//! The real binary under a small Lambda Runtime API emulator, and the `replay` subcommand,
//! both against real PostgreSQL, Redis, and moto's S3 and Secrets Manager.

mod common;

use std::collections::VecDeque;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, mpsc};

const BIN: &str = env!("CARGO_BIN_EXE_processor");

/// What the function posted back for one invocation.
#[derive(Debug)]
struct Outcome {
    request_id: String,
    kind: &'static str,
    body: Value,
}

/// One parsed HTTP/1.1 request.
struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

async fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let (mut length, mut chunked) = (0usize, false);
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).await.ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
            _ => {}
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).await.ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).await.ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        body.resize(length, 0);
        reader.read_exact(&mut body).await.ok()?;
    }
    Some(Request { method, path, body })
}

/// Serves `/runtime/invocation/next` from a queue and reports what comes back.
async fn runtime_api(events: Vec<(String, Value)>) -> (String, mpsc::UnboundedReceiver<Outcome>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind runtime API");
    let address = listener.local_addr().expect("addr").to_string();
    let queue = Arc::new(Mutex::new(VecDeque::from(events)));
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (queue, tx) = (Arc::clone(&queue), tx.clone());
            tokio::spawn(async move {
                let mut reader = BufReader::new(stream);
                while let Some(request) = read_request(&mut reader).await {
                    let reply = respond(request, &queue, &tx).await;
                    if reader.get_mut().write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (address, rx)
}

async fn respond(
    request: Request,
    queue: &Mutex<VecDeque<(String, Value)>>,
    tx: &mpsc::UnboundedSender<Outcome>,
) -> String {
    let segments: Vec<&str> = request.path.trim_matches('/').split('/').collect();
    match (request.method.as_str(), segments.as_slice()) {
        ("GET", ["2018-06-01", "runtime", "invocation", "next"]) => {
            let next = queue.lock().await.pop_front();
            let Some((id, event)) = next else {
                // No more work: park the poll as Lambda does between invocations.
                std::future::pending::<()>().await;
                unreachable!()
            };
            let body = event.to_string();
            let deadline = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis())
                + 60_000;
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: {id}\r\n\
                 Lambda-Runtime-Deadline-Ms: {deadline}\r\n\
                 Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:processor\r\n\
                 Lambda-Runtime-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1\r\n\
                 Content-Length: {}\r\n\r\n{body}",
                body.len()
            )
        }
        (
            "POST",
            [
                "2018-06-01",
                "runtime",
                "invocation",
                id,
                kind @ ("response" | "error"),
            ],
        ) => {
            let body = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
            let kind = if *kind == "response" {
                "response"
            } else {
                "error"
            };
            let _ = tx.send(Outcome {
                request_id: (*id).to_owned(),
                kind,
                body,
            });
            accepted()
        }
        ("POST", ["2018-06-01", "runtime", "init", "error"]) => {
            let body = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
            let _ = tx.send(Outcome {
                request_id: String::new(),
                kind: "init-error",
                body,
            });
            accepted()
        }
        _ => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_owned(),
    }
}

fn accepted() -> String {
    let body = r#"{"status":"OK"}"#;
    format!(
        "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Environment for the binary: moto for AWS, the test's bucket and key prefix.
fn processor_command(env: &Env, log: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("DATABASE_URL")
        .env("AWS_ENDPOINT_URL", moto_endpoint())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("S3_FORCE_PATH_STYLE", "true")
        .env("ARCHIVE_BUCKET", &env.bucket)
        .env("REDIS_URL", redis_url())
        .env("CACHE_KEY_PREFIX", &env.prefix)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stderr(std::fs::File::create(log).expect("log file"));
    cmd
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn lambda_binary_answers_invocations_through_the_runtime_api() {
    let env = Env::new().await;
    let secret = json!({"username": "postgres", "password": "unused", "dbname": env.db.name});
    let arn = secrets_client(&moto_endpoint())
        .create_secret()
        .name(unique("proc-e2e-"))
        .secret_string(secret.to_string())
        .send()
        .await
        .expect("create secret on moto")
        .arn()
        .expect("arn")
        .to_owned();

    let good = kinesis_record("1001", &update("e2e-1", 12, "3.50"));
    let malformed = kinesis_record("1002", b"{oops");
    let bad_base64 = record_with_raw_data("1003", "***");
    let later = kinesis_record("1004", &update("e2e-2", 1, "0.99"));
    let (api, mut outcomes) = runtime_api(vec![
        (
            "req-1".to_owned(),
            event_json(vec![good, malformed, bad_base64, later]),
        ),
        ("req-2".to_owned(), json!({"not": "a kinesis event"})),
        // The schema trigger's invocation: migrations, then an empty success.
        ("req-3".to_owned(), json!({})),
    ])
    .await;

    let log = std::env::temp_dir().join(format!("{}.log", unique("processor-e2e-")));
    let mut cmd = processor_command(&env, &log);
    cmd.env("DATABASE_SECRET_ARN", &arn)
        .env("DATABASE_HOST", "127.0.0.1")
        .env("DATABASE_PORT", "5432")
        .env("AWS_LAMBDA_RUNTIME_API", &api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "processor")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/processor")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "e2e");
    let _child = KillOnDrop(cmd.spawn().expect("spawn the processor binary"));

    let mut got = Vec::new();
    while got.len() < 3 {
        match tokio::time::timeout(Duration::from_secs(60), outcomes.recv()).await {
            Ok(Some(outcome)) => got.push(outcome),
            _ => panic!(
                "the binary did not answer all three invocations; got {got:?}; log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            ),
        }
    }
    assert_eq!(
        (got[0].request_id.as_str(), got[0].kind),
        ("req-1", "response")
    );
    assert_eq!(got[0].body, json!({"batchItemFailures": []}));
    assert_eq!(
        (got[1].request_id.as_str(), got[1].kind),
        ("req-2", "error")
    );
    assert!(
        got[1].body["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("not a Kinesis event")),
        "error payload: {}",
        got[1].body
    );
    assert_eq!(
        (got[2].request_id.as_str(), got[2].kind),
        ("req-3", "response")
    );
    assert_eq!(got[2].body, json!({"batchItemFailures": []}));

    assert_eq!(
        env.db.product("e2e-1").await,
        Some((12, "3.50".into(), "1001".into()))
    );
    assert_eq!(
        env.db.product("e2e-2").await,
        Some((1, "0.99".into(), "1004".into()))
    );
    assert_eq!(
        env.cached("e2e-2").await.expect("cached").0["price"],
        "0.99"
    );
    let lines = env.archive_lines(&env.archive_keys().await[0]).await;
    let codes: Vec<&str> = lines
        .iter()
        .map(|l| l["reason_code"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(codes, ["-", "malformed_json", "bad_envelope", "-"]);

    let logged = std::fs::read_to_string(&log).expect("log");
    let summary = logged
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["fields"]["message"] == "batch processed")
        .unwrap_or_else(|| panic!("no JSON summary line in the log:\n{logged}"));
    assert_eq!(summary["fields"]["rejected"], 2);
    assert!(
        !logged.contains("unused"),
        "the database password must never be logged"
    );
    env.finish().await;
}

#[tokio::test]
async fn replay_subcommand_runs_a_jsonl_file_through_the_handler() {
    let env = Env::new().await;
    let file = std::env::temp_dir().join(format!("{}.jsonl", unique("replay-")));
    std::fs::write(
        &file,
        "{\"product_id\":\"rp-1\",\"inventory\":5,\"price\":1.5}\nnot json\n{\"product_id\":\"rp-2\",\"inventory\":6,\"price\":2}\n",
    )
    .expect("write replay file");
    let log = std::env::temp_dir().join(format!("{}.log", unique("processor-replay-")));
    // A bucket that does not exist yet: the local modes create it.
    let fresh_bucket = unique("proc-test-fresh-").replace('_', "-");
    let output = processor_command(&env, &log)
        .env("DATABASE_URL", &env.db.url)
        .env("ARCHIVE_BUCKET", &fresh_bucket)
        .args([
            "replay",
            file.to_str().expect("utf-8 path"),
            "--batch-size",
            "2",
        ])
        .output()
        .expect("run processor replay");
    let _ = std::fs::remove_file(&file);
    assert!(
        output.status.success(),
        "replay failed: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let summary: Value = serde_json::from_slice(&output.stdout).expect("JSON summary on stdout");
    assert_eq!(summary["batches"], 2);
    assert_eq!(summary["accepted"], 2);
    assert_eq!(summary["rejected"], 1);
    assert_eq!(env.db.product("rp-2").await.map(|p| p.0), Some(6));
    let archived = env
        .s3
        .list_objects_v2()
        .bucket(&fresh_bucket)
        .send()
        .await
        .expect("list fresh bucket");
    assert_eq!(
        archived.contents().len(),
        2,
        "one archive object per replayed batch"
    );
    env.finish().await;
}
