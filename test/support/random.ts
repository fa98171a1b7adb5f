// Test support, shared by every package's tests and the hardening suite (import it by relative
// path; it is not a package): a seeded `Random` for deterministic jitter. The benchmarks keep their
// own copy in benchmarks/lib/util.mjs (plain JavaScript, run without a TypeScript loader).

/**
 * mulberry32: a tiny seeded PRNG returning numbers in [0, 1), so jitter in tests is random-looking
 * yet the same on every run.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
