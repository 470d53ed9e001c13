// "Did you mean ...?" suggestions for unknown names (edit distance).

function distance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

/** A hint naming the closest candidate, or listing the candidates when none is close. */
export function suggest(name: string, candidates: Iterable<string>, what = 'names'): string {
  const list = [...candidates];
  let best: string | undefined,
    bestD = Infinity;
  // Ties go to the candidate sharing the longest prefix ("s" -> "s1" rather than "x").
  const prefix = (c: string) => {
    let i = 0;
    while (i < c.length && i < name.length && c[i]!.toLowerCase() === name[i]!.toLowerCase()) i++;
    return i;
  };
  for (const c of list) {
    const d = distance(name.toLowerCase(), c.toLowerCase()) - prefix(c) / 100;
    if (d < bestD) [best, bestD] = [c, d];
  }
  if (best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3))) return `did you mean "${best}"?`;
  if (list.length === 0) return `there are no ${what} here`;
  return `known ${what}: ${list.slice(0, 12).join(', ')}${list.length > 12 ? ', ...' : ''}`;
}

/**
 * For names read from a data file (not a graph): the closest candidate when one is close, never
 * the list — the file may be anything, and its content is not echoed (docs/format.md).
 */
export function suggestFrom(name: string, candidates: Iterable<string>, what = 'columns'): string {
  const s = suggest(name, candidates, what);
  if (!s.startsWith('did you mean')) return `no ${what} of the file is close to "${cut(name)}"`;
  return `did you mean "${cut(s.slice('did you mean "'.length, -2))}"?`;
}

const cut = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}…` : s);
