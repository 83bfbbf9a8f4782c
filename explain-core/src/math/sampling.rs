//! Seeded random streams and coalition sampling primitives.
//!
//! Randomness never comes from a global generator. A 32-byte key is derived with SHA-256 from
//! (seed, model hash, input hash, target, method); draw number `i` uses the ChaCha8 stream
//! `i / STREAM_CHUNK` of that key. A draw is therefore a pure function of the key and its index,
//! whatever the thread count or batch size. Integers and floats are derived from raw `u64`
//! words with fixed arithmetic below, so results do not depend on the `rand` crate's
//! distribution algorithms either.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

/// Draws per ChaCha8 stream.
pub const STREAM_CHUNK: usize = 256;

/// The identity of one explanation's random streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamKey([u8; 32]);

impl StreamKey {
    /// Derives the key for one explanation. `purpose` separates independent uses (e.g. the
    /// method name, or `method/seed-run-3`).
    pub fn derive(
        seed: u64,
        model_sha256: &str,
        input_sha256: &str,
        target: usize,
        purpose: &str,
    ) -> StreamKey {
        let mut h = Sha256::new();
        h.update(b"explain/streams/1\0");
        h.update(seed.to_le_bytes());
        for part in [model_sha256, input_sha256, purpose] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        h.update((target as u64).to_le_bytes());
        StreamKey(h.finalize().into())
    }

    /// The generator for stream `stream` of this key.
    pub fn stream(&self, stream: u64) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::from_seed(self.0);
        rng.set_stream(stream);
        rng
    }

    /// A sequence of generators that moves to the next stream every [`STREAM_CHUNK`] draws.
    pub fn draws(&self) -> Draws {
        Draws {
            key: *self,
            index: 0,
            rng: self.stream(0),
        }
    }
}

/// Generators for consecutive draws (see [`StreamKey::draws`]).
pub struct Draws {
    key: StreamKey,
    index: usize,
    rng: ChaCha8Rng,
}

impl Draws {
    /// The generator for the next draw.
    pub fn next_draw(&mut self) -> &mut ChaCha8Rng {
        if self.index > 0 && self.index.is_multiple_of(STREAM_CHUNK) {
            self.rng = self.key.stream((self.index / STREAM_CHUNK) as u64);
        }
        self.index += 1;
        &mut self.rng
    }
}

/// A uniform float in `[0, 1)` with 53 random bits.
pub fn unit_f64(rng: &mut impl Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A uniform integer in `0..n` (`n > 0`), by rejection so it is exactly uniform.
pub fn below(rng: &mut impl Rng, n: u64) -> u64 {
    debug_assert!(n > 0);
    let zone = u64::MAX - (u64::MAX % n) - 1;
    loop {
        let v = rng.next_u64();
        if v <= zone {
            return v % n;
        }
    }
}

/// A uniformly random subset of `size` of `0..m`, written as a 0/1 coalition into `z`.
/// Uses a partial Fisher–Yates shuffle over `scratch` (resized to `m`).
pub fn random_subset(rng: &mut impl Rng, size: usize, z: &mut [bool], scratch: &mut Vec<u32>) {
    let m = z.len();
    scratch.clear();
    scratch.extend(0..m as u32);
    z.fill(false);
    for i in 0..size {
        let j = i + below(rng, (m - i) as u64) as usize;
        scratch.swap(i, j);
        z[scratch[i] as usize] = true;
    }
}

/// A uniformly random permutation of `0..m` into `perm`.
pub fn random_permutation(rng: &mut impl Rng, perm: &mut Vec<u32>, m: usize) {
    perm.clear();
    perm.extend(0..m as u32);
    for i in (1..m).rev() {
        let j = below(rng, (i + 1) as u64) as usize;
        perm.swap(i, j);
    }
}

/// `n choose k` as an exact integer, or `None` when it exceeds `u64::MAX`.
pub fn binom_u64(n: usize, k: usize) -> Option<u64> {
    if k > n {
        return Some(0);
    }
    let k = k.min(n - k);
    let mut r: u128 = 1;
    for i in 0..k {
        // r = C(n, i) ≤ C(n, k) here, so r · (n − i) fits in u128 whenever C(n, k) fits in u64.
        r = r * (n - i) as u128 / (i + 1) as u128;
        if r > u64::MAX as u128 {
            return None;
        }
    }
    Some(r as u64)
}

/// Writes the subset of size `size` of `0..z.len()` with lexicographic rank `rank` (rank 0 is
/// `{0, …, size − 1}`) into `z` as a 0/1 coalition. `rank < C(z.len(), size)`, which must fit
/// in a `u64`.
pub fn unrank_subset(mut rank: u64, size: usize, z: &mut [bool]) {
    let n = z.len();
    z.fill(false);
    let mut k = size;
    for i in 0..n {
        if k == 0 {
            break;
        }
        if n - i == k {
            z[i..].fill(true);
            break;
        }
        // Subsets whose smallest remaining element is i.
        let c = binom_u64(n - i - 1, k - 1).expect("fits: at most C(n, size)");
        if rank < c {
            z[i] = true;
            k -= 1;
        } else {
            rank -= c;
        }
    }
}

/// Calls `f` with `k` distinct subsets of size `size` of `0..n`, drawn uniformly without
/// replacement from the stream `draws`, in lexicographic order of their ranks.
///
/// When `C(n, size)` fits in a `u64`, Floyd's algorithm picks `k` distinct ranks with exactly
/// one bounded integer per rank (`k ≤ C(n, size)`), and each is unranked. Beyond that
/// (`C(n, size) > 1.8·10¹⁹`, so `k` is a vanishing share), uniform subsets are drawn and
/// repeats rejected.
pub fn distinct_subsets(
    draws: &mut Draws,
    n: usize,
    size: usize,
    k: usize,
    mut f: impl FnMut(&[bool]),
) {
    let mut z = vec![false; n];
    match binom_u64(n, size) {
        Some(total) => {
            assert!(k as u64 <= total, "{k} distinct subsets of {total}");
            let mut ranks = std::collections::BTreeSet::new();
            for j in total - k as u64..total {
                let t = below(draws.next_draw(), j + 1);
                if !ranks.insert(t) {
                    ranks.insert(j);
                }
            }
            for &r in &ranks {
                unrank_subset(r, size, &mut z);
                f(&z);
            }
        }
        None => {
            let mut seen = std::collections::BTreeSet::new();
            let mut scratch = Vec::new();
            let mut picked = Vec::with_capacity(k);
            while picked.len() < k {
                random_subset(draws.next_draw(), size, &mut z, &mut scratch);
                if seen.insert(z.clone()) {
                    picked.push(z.clone());
                }
            }
            picked.iter().for_each(|z| f(z));
        }
    }
}

/// Index of the bucket a uniform draw falls in, for probabilities given as a cumulative sum
/// ending at (about) 1.
pub fn pick_cumulative(rng: &mut impl Rng, cumulative: &[f64]) -> usize {
    let u = unit_f64(rng) * cumulative.last().copied().unwrap_or(1.0);
    cumulative
        .iter()
        .position(|&c| u < c)
        .unwrap_or(cumulative.len() - 1)
}

/// A growable list of coalitions over `m` features, stored flat.
#[derive(Debug, Clone, Default)]
pub struct Coalitions {
    pub m: usize,
    bits: Vec<bool>,
}

impl Coalitions {
    pub fn new(m: usize) -> Coalitions {
        Coalitions {
            m,
            bits: Vec::new(),
        }
    }

    pub fn push(&mut self, z: &[bool]) {
        debug_assert_eq!(z.len(), self.m);
        self.bits.extend_from_slice(z);
    }

    pub fn len(&self) -> usize {
        self.bits.len().checked_div(self.m).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }

    pub fn get(&self, i: usize) -> &[bool] {
        &self.bits[i * self.m..(i + 1) * self.m]
    }

    pub fn iter(&self) -> impl Iterator<Item = &[bool]> {
        self.bits.chunks_exact(self.m.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_a_function_of_key_and_index() {
        let key = StreamKey::derive(7, "m", "x", 1, "kernel");
        let mut a = key.draws();
        let first: Vec<u64> = (0..600).map(|_| a.next_draw().next_u64()).collect();
        // Draw 256 is the first draw of stream 1.
        let mut s1 = key.stream(1);
        assert_eq!(first[256], s1.next_u64());
        let mut b = key.draws();
        let again: Vec<u64> = (0..600).map(|_| b.next_draw().next_u64()).collect();
        assert_eq!(first, again);
        assert_ne!(key, StreamKey::derive(8, "m", "x", 1, "kernel"));
    }

    #[test]
    fn subsets_and_permutations_are_uniform_enough() {
        let mut rng = StreamKey::derive(1, "", "", 0, "t").stream(0);
        let mut counts = [0usize; 5];
        let mut z = [false; 5];
        let mut scratch = Vec::new();
        for _ in 0..10_000 {
            random_subset(&mut rng, 2, &mut z, &mut scratch);
            assert_eq!(z.iter().filter(|b| **b).count(), 2);
            for (c, b) in counts.iter_mut().zip(z) {
                *c += b as usize;
            }
        }
        // Each element is in a 2-of-5 subset with probability 0.4: 4000 ± 5 sd (~250).
        assert!(
            counts.iter().all(|&c| (3750..4250).contains(&c)),
            "{counts:?}"
        );
        let mut perm = Vec::new();
        random_permutation(&mut rng, &mut perm, 6);
        let mut sorted = perm.clone();
        sorted.sort();
        assert_eq!(sorted, (0..6).collect::<Vec<u32>>());
    }

    #[test]
    fn unranking_walks_the_subsets_in_lexicographic_order() {
        assert_eq!(binom_u64(10, 3), Some(120));
        assert_eq!(binom_u64(64, 32), Some(1_832_624_140_942_590_534));
        assert_eq!(binom_u64(70, 35), None);
        assert_eq!(binom_u64(3, 5), Some(0));
        let mut z = [false; 6];
        let mut all = Vec::new();
        for r in 0..binom_u64(6, 3).unwrap() {
            unrank_subset(r, 3, &mut z);
            assert_eq!(z.iter().filter(|b| **b).count(), 3);
            // As a sorted list of members, so that lexicographic order is comparable.
            all.push((0..6).filter(|&i| z[i]).collect::<Vec<usize>>());
        }
        assert_eq!(all[0], vec![0, 1, 2]);
        assert_eq!(all[19], vec![3, 4, 5]);
        assert!(all.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn distinct_subsets_are_distinct_uniform_and_reproducible() {
        let key = StreamKey::derive(3, "", "", 0, "t");
        for (n, size, k) in [
            (10, 4, 210),
            (10, 4, 150),
            (12, 1, 5),
            (80, 40, 50),
            (7, 0, 1),
        ] {
            let mut got: Vec<Vec<bool>> = Vec::new();
            distinct_subsets(&mut key.draws(), n, size, k, |z| got.push(z.to_vec()));
            assert_eq!(got.len(), k);
            assert!(got.iter().all(|z| z.iter().filter(|b| **b).count() == size));
            let mut sorted = got.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), k, "n {n} size {size} k {k}: repeats");
            let mut again = Vec::new();
            distinct_subsets(&mut key.draws(), n, size, k, |z| again.push(z.to_vec()));
            assert_eq!(got, again);
        }
        // Each element is in a 2-of-6 subset with probability 1/3: drawing 5 of the 15
        // subsets 3000 times puts each element in 5000 ± 5 sd (~100) of them.
        let mut counts = [0usize; 6];
        let mut draws = key.draws();
        for _ in 0..3000 {
            distinct_subsets(&mut draws, 6, 2, 5, |z| {
                for (c, b) in counts.iter_mut().zip(z) {
                    *c += *b as usize;
                }
            });
        }
        assert!(
            counts.iter().all(|&c| (4500..5500).contains(&c)),
            "{counts:?}"
        );
    }
}
