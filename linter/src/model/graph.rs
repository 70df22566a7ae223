//! The dependency graph of a template's resources (an edge for every `Ref`, `Fn::GetAtt`,
//! `Fn::Sub` variable and `DependsOn` that names a resource) and its cycles, which
//! CloudFormation rejects before creating anything ("Circular dependency between resources").

use super::template::Template;

/// The cycles of a template, each once: the resources of one strongly connected component
/// (or a resource that refers to itself), as one concrete loop `a -> b -> ... -> a` starting
/// at the component's first resource in source order.
pub fn cycles(t: &Template) -> Vec<Vec<usize>> {
    let n = t.resource_count;
    let mut edges: Vec<Vec<usize>> = Vec::with_capacity(n);
    for item in 0..n {
        // References name resources only, all of which are below `n`.
        edges.push(t.referenced(item).to_vec());
    }
    let mut out = Vec::new();
    for component in components(&edges) {
        let first = component[0];
        if component.len() == 1 && !edges[first].contains(&first) {
            continue;
        }
        out.push(loop_through(&edges, &component, first));
    }
    out.sort_by_key(|c| c[0]);
    out
}

/// Strongly connected components (Tarjan's algorithm, iterative so a long chain of resources
/// cannot overflow the stack), each sorted by item index.
fn components(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    const UNSEEN: usize = usize::MAX;
    let n = edges.len();
    let (mut index, mut low) = (vec![UNSEEN; n], vec![0; n]);
    let mut on_stack = vec![false; n];
    let (mut stack, mut out) = (Vec::new(), Vec::new());
    let mut next = 0;
    for root in 0..n {
        if index[root] != UNSEEN {
            continue;
        }
        // (node, how many of its edges have been followed)
        let mut work = vec![(root, 0usize)];
        while let Some(&mut (v, ref mut i)) = work.last_mut() {
            if *i == 0 {
                index[v] = next;
                low[v] = next;
                next += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if let Some(&w) = edges[v].get(*i) {
                *i += 1;
                if index[w] == UNSEEN {
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                component.sort_unstable();
                out.push(component);
            }
        }
    }
    out
}

/// A shortest loop from `start` back to itself inside its component (breadth first).
fn loop_through(edges: &[Vec<usize>], component: &[usize], start: usize) -> Vec<usize> {
    if edges[start].contains(&start) {
        return vec![start];
    }
    let inside = |v: &usize| component.binary_search(v).is_ok();
    let mut came_from: std::collections::HashMap<usize, usize> = Default::default();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for &w in edges[v].iter().filter(|w| inside(w)) {
            if w == start {
                let mut path = vec![v];
                let mut at = v;
                while at != start {
                    at = came_from[&at];
                    path.push(at);
                }
                path.reverse();
                return path;
            }
            if let std::collections::hash_map::Entry::Vacant(e) = came_from.entry(w) {
                e.insert(v);
                queue.push_back(w);
            }
        }
    }
    // Unreachable for a strongly connected component; the members are still a true answer.
    component.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{self, Syntax};

    fn names(text: &str) -> Vec<Vec<String>> {
        let root = load::parse(text.as_bytes(), Syntax::Yaml).expect("the test template parses");
        let t = Template::new(root).expect("it is a template");
        cycles(&t)
            .into_iter()
            .map(|c| c.iter().map(|&i| t.items[i].id.to_string()).collect())
            .collect()
    }

    #[test]
    fn a_loop_is_named_once_from_its_first_resource() {
        let text = "\
Resources:
  A: {Type: T, Properties: {X: !Ref B}}
  B: {Type: T, Properties: {X: !GetAtt C.Arn}}
  C: {Type: T, DependsOn: [A]}
  D: {Type: T, Properties: {X: !Ref A}}
";
        assert_eq!(names(text), [["A", "B", "C"]]);
    }

    #[test]
    fn self_references_and_sub_variables_are_edges() {
        let text = "\
Resources:
  A: {Type: T, Properties: {X: !Sub '${A.Arn}'}}
  B: {Type: T, Properties: {X: !Sub ['${V}', {V: !Ref C}]}}
  C: {Type: T, Properties: {X: !Sub '${B}'}}
";
        assert_eq!(names(text), [vec!["A"], vec!["B", "C"]]);
    }

    #[test]
    fn the_named_loop_is_a_shortest_one_through_the_first_resource() {
        // A -> B -> C -> D -> A and a shortcut B -> A.
        let text = "\
Resources:
  A: {Type: T, Properties: {X: !Ref B}}
  B: {Type: T, Properties: {X: [!Ref C, !Ref A]}}
  C: {Type: T, Properties: {X: !Ref D}}
  D: {Type: T, Properties: {X: !Ref A}}
";
        assert_eq!(names(text), [["A", "B"]]);
    }

    #[test]
    fn a_chain_without_loops_has_none_and_a_long_one_does_not_overflow() {
        let mut text = String::from("Resources:\n");
        for i in 0..20_000 {
            text.push_str(&format!(
                "  R{i}: {{Type: T, Properties: {{X: !Ref R{}}}}}\n",
                i + 1
            ));
        }
        text.push_str("  R20000: {Type: T}\n");
        assert!(names(&text).is_empty());
    }
}
