//! Load + lint + fix: linting never panics, fixing never panics, and a fix's output parses.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tap_lint::fix::{self, FixOptions};
use tap_lint::run::lint::{self, LintOptions};
use tap_lint::load;
use tap_lint::rules::{RuleSet, Settings};

// Compiling the pack costs far more than one input; build it once per process.
static RULES: LazyLock<RuleSet> =
    LazyLock::new(|| RuleSet::builtin(&Settings::default()).expect("the embedded pack loads"));

fuzz_target!(|data: &[u8]| {
    // No extension: the syntax is detected from the content, as for an extensionless file.
    let name = "fuzz-template";
    let _ = lint::lint_bytes(name, data, &RULES, LintOptions::default());
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Unsafe fixes too: they are a superset of the operations, so more of the fix engine runs.
    let opts = FixOptions { unsafe_fixes: true };
    match fix::fix_text(name, text, &RULES, opts) {
        Ok(fixed) => {
            let syntax =
                load::detect_syntax(Path::new(name), fixed.text.trim_start_matches('\u{feff}'));
            if let Err(e) = load::parse(fixed.text.as_bytes(), syntax) {
                panic!("fixed text does not parse: {e:?}\n---\n{}", fixed.text);
            }
        }
        // fix_text's own cross-check failing means the text edits and the tree operations
        // disagree: a fix engine bug, which the fuzzer must report rather than swallow.
        Err(e) if e.contains("please report this") => panic!("{e}"),
        Err(_) => {}
    }
});
