//! Walking a [`PathPattern`] over a node tree without allocating per node.

use std::fmt;
use std::ops::ControlFlow;

use crate::model::node::{Node, Span, Value};
use crate::model::pointer;
use crate::rules::check::{PathPattern, Seg};

/// What a path leads to.
#[derive(Clone, Copy, Debug)]
pub enum Hit<'t> {
    /// A node exists there.
    Found(&'t Node),
    /// The path does not exist; the label is the nearest existing parent.
    Missing,
    /// An intrinsic function stands in the way, so the value is only known at deploy time.
    Unknown,
}

/// One visited place: the hit, its key in the parent, and the span to underline.
#[derive(Clone, Copy, Debug)]
pub struct Place<'t> {
    pub hit: Hit<'t>,
    /// The key under which it sits (for `key_matches` and messages).
    pub key: Option<&'t str>,
    /// What to underline: the value for scalars, the key for blocks, else the nearest parent.
    pub label: Span,
}

/// The way from the start to a place, kept as borrowed steps: most places a walk visits
/// never fail, so their pointer is written out only when asked for (`Display`).
#[derive(Default)]
pub struct Trail<'t, 'p> {
    steps: Vec<Step<'t, 'p>>,
}

#[derive(Clone, Copy)]
enum Step<'t, 'p> {
    Key(&'t str),
    Index(usize),
    /// The pattern's segments that could not be followed (`/Tags/*` under an intrinsic).
    Rest(&'p [Seg]),
}

impl fmt::Display for Trail<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        for step in &self.steps {
            match *step {
                Step::Key(k) => pointer::push(&mut out, k),
                Step::Index(i) => pointer::push_index(&mut out, i),
                Step::Rest(segs) => push_rest(&mut out, segs),
            }
        }
        f.write_str(&out)
    }
}

/// Visits every place a pattern reaches from `start`, with the trail that leads to it.
pub fn visit<'t, 'p>(
    start: Place<'t>,
    path: &'p PathPattern,
    f: &mut dyn FnMut(&Place<'t>, &Trail<'t, 'p>) -> ControlFlow<()>,
) -> ControlFlow<()> {
    walk(start, &path.segs, &mut Trail::default(), f)
}

/// The label for a node reached under a key.
pub fn label_for(node: &Node, key_span: Option<Span>) -> Span {
    match key_span {
        Some(k) if !node.is_scalar() => k,
        _ => node.span,
    }
}

type Visitor<'f, 't, 'p> = dyn FnMut(&Place<'t>, &Trail<'t, 'p>) -> ControlFlow<()> + 'f;

fn walk<'t, 'p>(
    here: Place<'t>,
    segs: &'p [Seg],
    ptr: &mut Trail<'t, 'p>,
    f: &mut Visitor<'_, 't, 'p>,
) -> ControlFlow<()> {
    let Hit::Found(node) = here.hit else {
        return f(&here, ptr);
    };
    let Some((seg, rest)) = segs.split_first() else {
        if is_no_value(node) {
            return f(
                &Place {
                    hit: Hit::Missing,
                    ..here
                },
                ptr,
            );
        }
        return f(&here, ptr);
    };
    if node.intrinsic().is_some() && *seg != Seg::Deep {
        ptr.steps.push(Step::Rest(segs));
        let out = f(
            &Place {
                hit: Hit::Unknown,
                ..here
            },
            ptr,
        );
        ptr.steps.pop();
        return out;
    }
    let len = ptr.steps.len();
    let out = match seg {
        Seg::Key(key) => {
            let child = match &node.value {
                Value::Map(m) => m
                    .entry(key)
                    .map(|e| (&e.value, Some(e.key_span), Some(&*e.key), Step::Key(&e.key))),
                Value::Seq(items) => key
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get(i).map(|n| (n, None, None, Step::Index(i)))),
                _ => None,
            };
            match child {
                Some((child, key_span, key_text, step)) => {
                    ptr.steps.push(step);
                    let place = Place {
                        hit: Hit::Found(child),
                        key: key_text,
                        label: label_for(child, key_span),
                    };
                    walk(place, rest, ptr, f)
                }
                None => {
                    ptr.steps.push(Step::Rest(segs));
                    f(
                        &Place {
                            hit: Hit::Missing,
                            key: None,
                            label: here.label,
                        },
                        ptr,
                    )
                }
            }
        }
        Seg::Any => each_child(node, ptr, &mut |place, ptr| walk(place, rest, ptr, f)),
        Seg::Deep => deep(here, rest, ptr, f),
    };
    ptr.steps.truncate(len);
    out
}

fn each_child<'t, 'p>(
    node: &'t Node,
    ptr: &mut Trail<'t, 'p>,
    f: &mut dyn FnMut(Place<'t>, &mut Trail<'t, 'p>) -> ControlFlow<()>,
) -> ControlFlow<()> {
    let len = ptr.steps.len();
    match &node.value {
        Value::Map(m) => {
            for e in &m.entries {
                ptr.steps.push(Step::Key(&e.key));
                let place = Place {
                    hit: Hit::Found(&e.value),
                    key: Some(&e.key),
                    label: label_for(&e.value, Some(e.key_span)),
                };
                let out = f(place, ptr);
                ptr.steps.truncate(len);
                out?;
            }
        }
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                ptr.steps.push(Step::Index(i));
                let place = Place {
                    hit: Hit::Found(item),
                    key: None,
                    label: label_for(item, None),
                };
                let out = f(place, ptr);
                ptr.steps.truncate(len);
                out?;
            }
        }
        _ => {}
    }
    ControlFlow::Continue(())
}

fn deep<'t, 'p>(
    here: Place<'t>,
    rest: &'p [Seg],
    ptr: &mut Trail<'t, 'p>,
    f: &mut Visitor<'_, 't, 'p>,
) -> ControlFlow<()> {
    walk(here, rest, ptr, f)?;
    let Hit::Found(node) = here.hit else {
        return ControlFlow::Continue(());
    };
    // A `Fn::Sub`/`Fn::Join` is one string: visiting its pieces too would report it twice.
    if matches!(node.intrinsic(), Some(("Fn::Sub" | "Fn::Join", _))) {
        return ControlFlow::Continue(());
    }
    each_child(node, ptr, &mut |place, ptr| deep(place, rest, ptr, f))
}

fn push_rest(ptr: &mut String, segs: &[Seg]) {
    for seg in segs {
        ptr.push('/');
        match seg {
            Seg::Key(k) => ptr.push_str(&pointer::escape(k)),
            Seg::Any => ptr.push('*'),
            Seg::Deep => ptr.push_str("**"),
        }
    }
}

/// `{"Ref": "AWS::NoValue"}` removes a property, so it reads as absent.
pub fn is_no_value(node: &Node) -> bool {
    matches!(node.intrinsic(), Some(("Ref", arg)) if arg.as_str() == Some("AWS::NoValue"))
}

/// Collects the places a pattern reaches with their relative pointers (for callers that
/// report at them).
pub fn collect<'t>(start: Place<'t>, path: &PathPattern) -> Vec<(Place<'t>, String)> {
    let mut out = Vec::new();
    let _ = visit(start, path, &mut |place, trail| {
        out.push((*place, trail.to_string()));
        ControlFlow::Continue(())
    });
    out
}

/// Collects the places a pattern reaches, for callers that only read the nodes.
pub fn places<'t>(start: Place<'t>, path: &PathPattern) -> Vec<Place<'t>> {
    let mut out = Vec::new();
    let _ = visit(start, path, &mut |place, _| {
        out.push(*place);
        ControlFlow::Continue(())
    });
    out
}
