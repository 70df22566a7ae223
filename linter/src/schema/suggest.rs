//! "Did you mean": the closest name by edit distance, for unknown properties and types.

/// The candidate closest to `name`, when it is close enough to be a likely typo: a case-only
/// difference always is; otherwise at most a third of the name's letters (at least 1, at most
/// 3) may differ.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let a: Vec<char> = name.chars().collect();
    let limit = (a.len() / 3).clamp(1, 3);
    let mut best: Option<(usize, &str)> = None;
    let mut rows = Rows::default();
    for candidate in candidates {
        let d = if candidate.eq_ignore_ascii_case(name) {
            0
        } else {
            // A type name is compared with some 1,300 others: most differ by more than the
            // limit, and the bounded distance gives up on them after a few letters.
            match rows.within(&a, candidate, limit) {
                Some(d) => d,
                None => continue,
            }
        };
        if best.is_none_or(|(b, c)| (d, candidate) < (b, c)) {
            best = Some((d, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// The two rows of the dynamic programme and the candidate's characters, reused across
/// candidates.
#[derive(Default)]
struct Rows {
    b: Vec<char>,
    prev: Vec<usize>,
    row: Vec<usize>,
}

impl Rows {
    /// The distance between `a` and `b` when it is at most `limit`. Every cell of a row is
    /// at least the row's minimum, so once that minimum passes the limit the distance does too.
    fn within(&mut self, a: &[char], b: &str, limit: usize) -> Option<usize> {
        self.b.clear();
        self.b.extend(b.chars());
        // The distance is at least the difference in length: most candidates stop here.
        if self.b.len().abs_diff(a.len()) > limit {
            return None;
        }
        let n = self.b.len();
        self.prev.clear();
        self.prev.extend(0..=n);
        self.row.clear();
        self.row.resize(n + 1, 0);
        for (i, ca) in a.iter().enumerate() {
            self.row[0] = i + 1;
            let mut least = self.row[0];
            for (j, cb) in self.b.iter().enumerate() {
                let substitute = self.prev[j] + usize::from(ca != cb);
                let cell = substitute.min(self.prev[j + 1] + 1).min(self.row[j] + 1);
                self.row[j + 1] = cell;
                least = least.min(cell);
            }
            if least > limit {
                return None;
            }
            std::mem::swap(&mut self.prev, &mut self.row);
        }
        Some(self.prev[n]).filter(|&d| d <= limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook full-matrix distance, to hold the bounded one to.
    fn reference(a: &str, b: &str) -> usize {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        let mut d = vec![vec![0; b.len() + 1]; a.len() + 1];
        for (i, row) in d.iter_mut().enumerate() {
            row[0] = i;
        }
        for (j, cell) in d[0].iter_mut().enumerate() {
            *cell = j;
        }
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                d[i][j] = (d[i - 1][j - 1] + cost)
                    .min(d[i - 1][j] + 1)
                    .min(d[i][j - 1] + 1);
            }
        }
        d[a.len()][b.len()]
    }

    #[test]
    fn the_bounded_distance_agrees_with_the_full_one_up_to_its_limit() {
        let words = [
            "",
            "a",
            "ab",
            "ba",
            "BucketName",
            "BucketNmae",
            "bucketname",
            "AWS::S3::Bucket",
            "AWS::S3::Buckets",
            "AWS::SQS::Queue",
            "AWS::EC2::Instance",
            "Tags",
            "Tag",
            "Naïve",
            "Naive",
            "kitten",
            "sitting",
        ];
        let mut rows = Rows::default();
        for a in words {
            let chars: Vec<char> = a.chars().collect();
            for b in words {
                let full = reference(a, b);
                for limit in 0..5 {
                    let want = (full <= limit).then_some(full);
                    assert_eq!(
                        rows.within(&chars, b, limit),
                        want,
                        "{a} / {b} within {limit}"
                    );
                }
            }
        }
    }
}
