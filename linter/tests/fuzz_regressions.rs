//! Inputs that crashed a fuzz target (linter/fuzz), kept so the bug stays fixed. Each file under
//! fixtures/fuzz/ is named after the target that found it; the checks are the target's own.

use std::path::Path;

use tap_lint::fix::{self, FixOptions};
use tap_lint::load;
use tap_lint::rules::{RuleSet, Settings};
use tap_lint::run::lint::{self, LintOptions};

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/fuzz")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What the lint_fix target checks: linting and fixing do not panic, the fix's text edits agree
/// with its tree operations (fix_text's cross-check), and the fixed text parses.
fn lint_and_fix(name: &str, bytes: &[u8]) -> Result<fix::Fixed, String> {
    let rules = RuleSet::builtin(&Settings::default()).expect("the embedded pack loads");
    let _ = lint::lint_bytes(name, bytes, &rules, LintOptions::default());
    let text = std::str::from_utf8(bytes).expect("the fixture is UTF-8");
    let fixed = fix::fix_text(name, text, &rules, FixOptions { unsafe_fixes: true })?;
    let syntax = load::detect_syntax(Path::new(name), fixed.text.trim_start_matches('\u{feff}'));
    load::parse(fixed.text.as_bytes(), syntax)
        .unwrap_or_else(|e| panic!("fixed text does not parse: {e:?}\n{}", fixed.text));
    Ok(fixed)
}

/// lint_fix found: a BOM, then a flow mapping with a key that has no value (`{"Key"}`).
/// fix_text ignored the BOM when detecting the syntax, so it read the file as YAML while lint
/// read it as JSON; and the empty value carried the span of the `}` after it, so the inserted
/// `RetentionInDays` landed outside the mapping and the fix engine's cross-check failed.
const BOM_FLOW_NULL_KEY: &str = "lint_fix-bom-flow-mapping-null-key";

#[test]
fn bom_file_is_fixed_with_the_syntax_lint_uses() {
    let bytes = fixture(BOM_FLOW_NULL_KEY);
    assert!(bytes.starts_with(b"\xEF\xBB\xBF{"));
    // As JSON (what lint reads it as) the file is invalid: a clear error, not the cross-check.
    let err = lint_and_fix("fuzz-template", &bytes).expect_err("invalid JSON");
    assert!(err.starts_with("invalid JSON"), "{err}");
}

#[test]
fn insert_after_a_key_without_value_stays_in_the_flow_mapping() {
    let bytes = fixture(BOM_FLOW_NULL_KEY);
    let fixed = lint_and_fix("template.yaml", &bytes).expect("the YAML reading fixes cleanly");
    assert!(
        fixed
            .text
            .contains("\"LogGroupClaDARD\", RetentionInDays: 30\n   }"),
        "{}",
        fixed.text
    );
    assert_eq!(fixed.applied.len(), 1, "{:?}", fixed.applied);
}

#[test]
fn empty_yaml_values_have_empty_spans_inside_their_entry() {
    // (text, byte offset of the empty value): after the key, or after its `:`.
    for (text, at) in [
        ("{a: {k}}", 6),
        ("{a: {k, j}}", 6),
        ("{a: {k: }}", 7),
        ("{a: {\"k\"\n  }}", 8),
        ("a:\n  k:\nb: 1\n", 7),
    ] {
        let root = load::parse(text.as_bytes(), load::Syntax::Yaml).expect("valid YAML");
        let a = &root.as_map().expect("a mapping").entries[0].value;
        let k = &a.as_map().expect("a mapping").entries[0].value;
        assert_eq!((k.span.start, k.span.end), (at, at), "{text:?}");
    }
}

/// lint_fix found: TAP305's insertion into a block mapping whose last value is a literal block
/// scalar followed by lines starting with a control character (0x1F), which the YAML parser
/// reads as part of the document, not of the scalar. The text edit would change what the scalar
/// holds; the fix engine's cross-check against the tree operations catches that and refuses to
/// write. Rendering this insertion correctly is open (noted in the fuzz README); what is pinned
/// here is the guarantee users rely on: the fix either yields a template that parses and means
/// what the operations mean, or nothing is written.
#[test]
fn insertion_after_a_block_scalar_followed_by_control_characters_never_writes_a_wrong_file() {
    let bytes = fixture("lint_fix-block-empty-value-before-dedent");
    match lint_and_fix("fuzz-template", &bytes) {
        // `lint_and_fix` has already checked that an accepted fix parses.
        Ok(fixed) => assert!(
            !fixed.applied.is_empty(),
            "an accepted result applied fixes"
        ),
        Err(e) => assert!(
            e.contains("nothing was written"),
            "a refusal says nothing was written: {e}"
        ),
    }
}
