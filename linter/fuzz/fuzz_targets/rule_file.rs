//! The rule-file loader: any text must compile to a rule or a RuleFileError, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tap_lint::rules::{Settings, parse_rule};

fuzz_target!(|data: &[u8]| {
    // Rule files are read as UTF-8 text before parsing; other bytes never reach parse_rule.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_rule("fuzz", text, &Settings::default());
});
