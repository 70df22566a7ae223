//! The benchmark floor: read and parse every template under the given paths, nothing else.
//!
//! JSON is parsed with serde_json into `serde_json::Value`; YAML with the same YAML loader
//! tap-lint uses (there is no serde_json equivalent for YAML with CloudFormation tags). Files are
//! parsed in parallel like `tap-lint` does, so the two are comparable; `-j N` sets the threads.

use std::path::PathBuf;

use rayon::prelude::*;
use tap_lint::io::discover::discover;
use tap_lint::load::{self, Syntax};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "-j") {
        let threads = args.get(i + 1).and_then(|n| n.parse().ok()).unwrap_or(1);
        args.drain(i..=(i + 1).min(args.len() - 1));
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global();
    }
    let paths: Vec<PathBuf> = args.into_iter().map(PathBuf::from).collect();
    let (targets, _) = discover(&paths);
    let parsed: usize = targets
        .par_iter()
        .map(|t| {
            let Ok(bytes) = std::fs::read(&t.path) else {
                return 0;
            };
            let text = String::from_utf8_lossy(&bytes);
            match load::detect_syntax(&t.path, &text) {
                Syntax::Json => {
                    usize::from(serde_json::from_slice::<serde_json::Value>(&bytes).is_ok())
                }
                Syntax::Yaml => usize::from(load::parse(&bytes, Syntax::Yaml).is_ok()),
            }
        })
        .sum();
    println!("{parsed} of {} files parsed", targets.len());
}
