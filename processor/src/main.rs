//! The Lambda binary, plus `processor replay FILE.jsonl` for local runs without AWS.

use std::io::BufReader;

use lambda_runtime::{LambdaEvent, service_fn};
use processor::{Deps, Error, handle_json};

fn init_logging() {
    // JSON lines so CloudWatch Logs Insights can query fields; level from RUST_LOG.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
}

/// The local modes create the archive bucket if needed, so trying the pipeline against a
/// fresh moto takes no extra step.
async fn local_bucket(deps: &Deps) -> Result<(), Error> {
    let bucket = &deps.settings.archive_bucket;
    processor::archive::ensure_bucket(&deps.s3, bucket)
        .await
        .map_err(|e| format!("archive bucket {bucket}: {e}").into())
}

const USAGE: &str = "usage: processor                      (run as the Lambda function)
       processor replay FILE.jsonl [--batch-size N]
       processor poll STREAM [--once] [--batch-size N]   (feature local-poller)";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    init_logging();
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // Plain text, not a JSON log line: the usage text stays readable, and CloudWatch
            // records stderr either way.
            eprintln!("processor: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => {
            let deps = Deps::from_env().await?;
            let deps = &deps;
            lambda_runtime::run(service_fn(
                move |event: LambdaEvent<serde_json::Value>| async move {
                    handle_json(deps, event.payload).await
                },
            ))
            .await
        }
        Some("replay") => {
            let path = args.get(1).ok_or(USAGE)?;
            let batch_size = match (args.get(2).map(String::as_str), args.get(3)) {
                (Some("--batch-size"), Some(n)) => n.parse().map_err(|_| USAGE)?,
                (None, _) => 500,
                _ => return Err(USAGE.into()),
            };
            let deps = Deps::from_env().await?;
            local_bucket(&deps).await?;
            let file = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
            let summary =
                processor::replay::replay(&deps, BufReader::new(file), batch_size).await?;
            println!("{}", serde_json::to_string(&summary)?);
            if summary.failed_batches > 0 {
                return Err(
                    format!("{} batch(es) failed; see the log", summary.failed_batches).into(),
                );
            }
            Ok(())
        }
        #[cfg(feature = "local-poller")]
        Some("poll") => {
            let stream = args.get(1).ok_or(USAGE)?;
            let mut options = processor::poller::PollOptions {
                stream: stream.clone(),
                batch_size: 500,
                once: false,
                wait: std::time::Duration::from_secs(1),
                max_attempts: 3,
            };
            let mut rest = args[2..].iter();
            while let Some(flag) = rest.next() {
                match flag.as_str() {
                    "--once" => options.once = true,
                    "--batch-size" => {
                        options.batch_size =
                            rest.next().and_then(|n| n.parse().ok()).ok_or(USAGE)?;
                    }
                    _ => return Err(USAGE.into()),
                }
            }
            let deps = Deps::from_env().await?;
            local_bucket(&deps).await?;
            let kinesis = aws_sdk_kinesis::Client::new(&processor::config::aws_config().await);
            let summary = processor::poller::poll(&deps, &kinesis, &options).await?;
            println!("{}", serde_json::to_string(&summary)?);
            Ok(())
        }
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command {other:?}\n{USAGE}").into()),
    }
}
