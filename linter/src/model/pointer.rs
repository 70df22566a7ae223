//! RFC 6901 JSON pointers: the one codec for every pointer tap-lint reads or writes (findings,
//! rule paths, fix targets, baselines). Findings carry pointers as encoded text because the
//! engine builds them by appending to one buffer per walk; fixes and rule paths carry them
//! decoded, as [`Pointer`] segments.

use std::borrow::Cow;

/// A decoded pointer: keys and list indices from the node it is relative to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pointer(pub Vec<String>);

impl Pointer {
    /// Reads an encoded pointer (`/Properties/Tags/0`, `""` for the node itself); `None` when the
    /// text does not start with `/`.
    pub fn parse(text: &str) -> Option<Pointer> {
        if text.is_empty() {
            return Some(Pointer::default());
        }
        text.strip_prefix('/')
            .map(|rest| Pointer(rest.split('/').map(|s| unescape(s).into_owned()).collect()))
    }

    pub fn segments(&self) -> &[String] {
        &self.0
    }

    /// This pointer followed by another, relative to it.
    pub fn join(&self, rel: &Pointer) -> Pointer {
        let mut segs = self.0.clone();
        segs.extend(rel.0.iter().cloned());
        Pointer(segs)
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        for s in &self.0 {
            push(&mut out, s);
        }
        out
    }
}

/// Escapes a key for use as one pointer segment (`~` → `~0`, `/` → `~1`).
pub fn escape(key: &str) -> Cow<'_, str> {
    if memchr::memchr2(b'~', b'/', key.as_bytes()).is_some() {
        key.replace('~', "~0").replace('/', "~1").into()
    } else {
        key.into()
    }
}

/// Decodes one segment; `~1` is decoded before `~0`, so `~01` stays the key `~1`.
pub fn unescape(segment: &str) -> Cow<'_, str> {
    if segment.contains('~') {
        segment.replace("~1", "/").replace("~0", "~").into()
    } else {
        segment.into()
    }
}

/// Appends one key to an encoded pointer.
pub fn push(pointer: &mut String, key: &str) {
    pointer.push('/');
    pointer.push_str(&escape(key));
}

/// Appends a list index as one segment, without the formatting machinery: walks append one per
/// list element they visit.
pub fn push_index(pointer: &mut String, index: usize) {
    pointer.push('/');
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = index;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        pointer.push(char::from(d));
    }
}

/// The decoded segments of an encoded pointer (`""` and `"/"` differ: the second is one empty key).
pub fn split(pointer: &str) -> Vec<String> {
    Pointer::parse(pointer).map(|p| p.0).unwrap_or_default()
}

/// The decoded last segment of an encoded pointer, or `""` for the root.
pub fn last(pointer: &str) -> Cow<'_, str> {
    match pointer.rfind('/') {
        Some(i) => unescape(&pointer[i + 1..]),
        None => Cow::Borrowed(""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_keys_with_slashes_and_tildes() {
        for key in ["plain", "a/b", "~", "~1", "~0/", "", "x~y/z"] {
            let mut p = String::new();
            push(&mut p, key);
            push(&mut p, "next");
            assert_eq!(split(&p), [key, "next"], "{p}");
            assert_eq!(last(&p), "next");
            assert_eq!(Pointer::parse(&p).map(|q| q.encode()), Some(p.clone()));
        }
    }

    #[test]
    fn indices_are_written_in_decimal() {
        let mut p = String::new();
        for i in [0, 7, 10, 305, usize::MAX] {
            push_index(&mut p, i);
        }
        assert_eq!(p, format!("/0/7/10/305/{}", usize::MAX));
    }

    #[test]
    fn rfc_6901_examples_decode() {
        assert_eq!(split(""), Vec::<String>::new());
        assert_eq!(split("/"), [""]);
        assert_eq!(split("/a~1b"), ["a/b"]);
        assert_eq!(split("/m~0n"), ["m~n"]);
        assert_eq!(split("/~01"), ["~1"]);
        assert_eq!(last("/Resources/a~1b"), "a/b");
        assert_eq!(Pointer::parse("no-slash"), None);
    }
}
