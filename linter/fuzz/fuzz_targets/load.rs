//! Template loading: any bytes, parsed as JSON and as YAML, then indexed as a template, must end
//! in a tree or a LoadError (never a panic, stack overflow or runaway allocation).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tap_lint::load::{self, Syntax};
use tap_lint::model::template::Template;

fuzz_target!(|data: &[u8]| {
    // Both parsers on every input: the seeds are real templates of either syntax, and a YAML
    // parser must also survive JSON (its flow subset) and the other way round.
    for syntax in [Syntax::Json, Syntax::Yaml] {
        if let Ok(node) = load::parse(data, syntax) {
            let _ = Template::new(node);
        }
    }
});
