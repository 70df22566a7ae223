//! The one placeholder grammar of rule files, shared by messages, fix values and their
//! validation: `{name}` (letters, digits, `_`) is a placeholder; `${...}` is CloudFormation's
//! `Fn::Sub` syntax and stays as written; any other brace is plain text. Before it was shared, a
//! message containing `${AWS::Region}` failed to load while a fix value accepted it.

/// A run of literal text or a placeholder's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Var(&'a str),
}

/// The pieces of a template, in order; adjacent text may come in several pieces.
pub fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut from = 0;
    while let Some(open) = text[from..].find('{').map(|i| i + from) {
        let after = &text[open + 1..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let closed = after[name_len..].starts_with('}');
        let sub = open > 0 && text.as_bytes()[open - 1] == b'$';
        if name_len > 0 && closed && !sub {
            if start < open {
                out.push(Piece::Text(&text[start..open]));
            }
            out.push(Piece::Var(&after[..name_len]));
            start = open + 1 + name_len + 1;
            from = start;
        } else {
            from = open + 1;
        }
    }
    if start < text.len() {
        out.push(Piece::Text(&text[start..]));
    }
    out
}

/// Fills a template; `None` when `value` has nothing for a placeholder.
pub fn fill(text: &str, mut value: impl FnMut(&str) -> Option<String>) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 16);
    for piece in pieces(text) {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Var(name) => out.push_str(&value(name)?),
        }
    }
    Some(out)
}

/// The placeholder names a template uses.
pub fn names(text: &str) -> impl Iterator<Item = &str> {
    pieces(text).into_iter().filter_map(|p| match p {
        Piece::Var(name) => Some(name),
        Piece::Text(_) => None,
    })
}

#[cfg(test)]
mod tests {
    use super::Piece::{Text, Var};
    use super::*;

    #[test]
    fn placeholders_and_literal_braces() {
        assert_eq!(pieces(""), []);
        assert_eq!(pieces("plain"), [Text("plain")]);
        assert_eq!(
            pieces("{resource} has {value}."),
            [Var("resource"), Text(" has "), Var("value"), Text(".")]
        );
        assert_eq!(
            pieces("arn:${AWS::Partition}:s3:::{name}"),
            [Text("arn:${AWS::Partition}:s3:::"), Var("name")]
        );
        assert_eq!(pieces("${Env}"), [Text("${Env}")]);
        assert_eq!(pieces("{not a name} {x"), [Text("{not a name} {x")]);
        assert_eq!(pieces("{}{{a}}"), [Text("{}{"), Var("a"), Text("}")]);
        assert_eq!(pieces("é{ü}{b_2}"), [Text("é{ü}"), Var("b_2")]);
    }

    #[test]
    fn fill_needs_every_value() {
        let vars = |n: &str| (n == "a").then(|| "1".to_string());
        assert_eq!(fill("x{a}y", vars).as_deref(), Some("x1y"));
        assert_eq!(fill("${a}{a}", vars).as_deref(), Some("${a}1"));
        assert_eq!(fill("{b}", vars), None);
        assert_eq!(names("{a} {b} ${c}").collect::<Vec<_>>(), ["a", "b"]);
    }
}
