//! A span-recording JSON parser: serde_json cannot give positions for every node and key.

use super::MAX_DEPTH;
use crate::model::error::LoadError;
use crate::model::node::{Entry, Map, Node, Span, Value};

/// Parses JSON text; `offset` is added to every span (the length of a stripped BOM).
pub fn parse(text: &str, offset: usize) -> Result<Node, LoadError> {
    let mut p = Parser {
        src: text.as_bytes(),
        pos: 0,
        offset,
    };
    p.skip_ws();
    let node = p.value(0)?;
    p.skip_ws();
    if p.pos < p.src.len() {
        return Err(p.error("unexpected text after the end of the JSON document"));
    }
    Ok(node)
}

struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
    offset: usize,
}

impl Parser<'_> {
    fn span(&self, start: usize) -> Span {
        Span::new(start + self.offset, self.pos + self.offset)
    }

    fn error(&self, message: &str) -> LoadError {
        let at = self.pos.min(self.src.len()) + self.offset;
        let found = match self.src.get(self.pos) {
            Some(b) if b.is_ascii_graphic() => format!(", found `{}`", *b as char),
            Some(_) => String::new(),
            None => ", found the end of the file".to_string(),
        };
        LoadError::at(
            Span::new(at, at + 1),
            format!("invalid JSON: {message}{found}"),
        )
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.src.get(self.pos) {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, LoadError> {
        if depth > MAX_DEPTH {
            return Err(self
                .error(&format!("nesting deeper than {MAX_DEPTH} levels"))
                .with_help("no CloudFormation template nests this deep; the file is likely generated wrongly"));
        }
        let start = self.pos;
        let value = match self.src.get(self.pos) {
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => Value::String(self.string()?.into()),
            Some(b't') => self.keyword("true", Value::Bool(true))?,
            Some(b'f') => self.keyword("false", Value::Bool(false))?,
            Some(b'n') => self.keyword("null", Value::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            _ => return Err(self.error("expected a value")),
        };
        Ok(Node::new(self.span(start), value))
    }

    fn keyword(&mut self, word: &str, value: Value) -> Result<Value, LoadError> {
        if self.src[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error("expected a value"))
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, LoadError> {
        self.pos += 1;
        let mut map = Map::default();
        self.skip_ws();
        if self.src.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(Value::Map(map));
        }
        loop {
            self.skip_ws();
            if self.src.get(self.pos) != Some(&b'"') {
                return Err(self.error("expected a string key"));
            }
            let key_start = self.pos;
            let key = self.string()?;
            let key_span = self.span(key_start);
            // Indexed once the mapping is large, so checking every key stays linear.
            if let Some(first) = map.entry(&key) {
                return Err(duplicate_key(&key, key_span, first.key_span));
            }
            self.skip_ws();
            if self.src.get(self.pos) != Some(&b':') {
                return Err(self.error("expected `:` after the key"));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value(depth + 1)?;
            map.entries.push(Entry {
                key: key.into(),
                key_span,
                value,
            });
            self.skip_ws();
            match self.src.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Map(map));
                }
                _ => return Err(self.error("expected `,` or `}`")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, LoadError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.src.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(Value::Seq(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.src.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Seq(items));
                }
                _ => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    fn number(&mut self) -> Result<Value, LoadError> {
        let start = self.pos;
        if self.src.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        let digits = |p: &mut Self| {
            let s = p.pos;
            while p.src.get(p.pos).is_some_and(u8::is_ascii_digit) {
                p.pos += 1;
            }
            p.pos > s
        };
        if !digits(self) {
            return Err(self.error("expected digits"));
        }
        if self.src.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if !digits(self) {
                return Err(self.error("expected digits after `.`"));
            }
        }
        if let Some(b'e' | b'E') = self.src.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.src.get(self.pos) {
                self.pos += 1;
            }
            if !digits(self) {
                return Err(self.error("expected exponent digits"));
            }
        }
        // The slice is ASCII digits and signs, so both conversions succeed; errors are mapped anyway.
        std::str::from_utf8(&self.src[start..self.pos])
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .map(Value::Number)
            .ok_or_else(|| self.error("invalid number"))
    }

    fn string(&mut self) -> Result<String, LoadError> {
        let quote = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let run_start = self.pos;
            while let Some(&b) = self.src.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // Runs end on ASCII bytes, so they are char boundaries of the (valid UTF-8) input.
            out.push_str(std::str::from_utf8(&self.src[run_start..self.pos]).unwrap_or_default());
            match self.src.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => {
                    return Err(
                        self.error("control character inside a string (escape it as \\n, \\t...)")
                    );
                }
                None => {
                    self.pos = quote;
                    return Err(self.error("string is never closed"));
                }
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), LoadError> {
        let c = match self.src.get(self.pos) {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.pos += 1;
                let high = self.hex4()?;
                let code = if (0xD800..0xDC00).contains(&high)
                    && self.src[self.pos..].starts_with(b"\\u")
                {
                    self.pos += 2;
                    let low = self.hex4()?;
                    0x10000 + ((high - 0xD800) << 10) + low.wrapping_sub(0xDC00)
                } else {
                    high
                };
                out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                return Ok(());
            }
            _ => return Err(self.error("invalid escape sequence")),
        };
        self.pos += 1;
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, LoadError> {
        let digits = self
            .src
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.error("expected 4 hex digits"))?;
        let text = std::str::from_utf8(digits).map_err(|_| self.error("expected 4 hex digits"))?;
        let v = u32::from_str_radix(text, 16).map_err(|_| self.error("expected 4 hex digits"))?;
        self.pos += 4;
        Ok(v)
    }
}

/// The error for a key written twice: CloudFormation rejects such templates.
pub(super) fn duplicate_key(key: &str, span: Span, first: Span) -> LoadError {
    let mut e = LoadError::at(span, format!("duplicate key `{key}`"))
        .with_help("CloudFormation rejects duplicate keys; remove or rename one of them");
    e.related = Some((first, "first written"));
    e
}
