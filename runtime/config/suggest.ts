// "Did you mean" for misspelt names: optimal-string-alignment edit distance
// (Levenshtein plus adjacent transpositions), compared case-insensitively and
// ignoring `_` / `-`, so Envoy-style `connect_timeout` finds `connectTimeout`.

/** Edit distance counting insertions, deletions, substitutions and adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = [];
  for (let i = 0; i < rows; i++) {
    d.push(new Array<number>(cols).fill(0));
    d[i]![0] = i;
  }
  for (let j = 0; j < cols; j++) d[0]![j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

const fold = (s: string): string => s.toLowerCase().replace(/[_-]/g, '');

/**
 * The candidate closest to `input`, or undefined when none is close enough
 * (at most 1 edit for inputs up to 3 characters, 2 up to 6, else 3).
 * Ties go to the earlier candidate.
 */
export function suggest(input: string, candidates: Iterable<string>): string | undefined {
  const folded = fold(input);
  const limit = folded.length <= 3 ? 1 : folded.length <= 6 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    if (candidate === input) continue;
    const distance = editDistance(folded, fold(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
