// Name patterns of `optimizer.params`: `*` matches any run of characters, everything else
// itself. Matched by the two-pointer wildcard algorithm (O(pattern x name) at worst, one
// backtrack point), not a regular expression: `.*` groups backtrack exponentially, and a
// pattern like "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b" took minutes against a 40-character name.

/** Whether `name` matches the glob `pattern` (`*` is the only wildcard). */
export function globMatch(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1; // position in the pattern after the last `*` seen
  let mark = 0; // position in the name where that `*` began matching
  while (n < name.length) {
    if (p < pattern.length && pattern[p] === '*') {
      star = ++p;
      mark = n;
    } else if (p < pattern.length && pattern[p] === name[n]) {
      p++;
      n++;
    } else if (star >= 0) {
      // Let the last `*` take one more character and retry from there.
      p = star;
      n = ++mark;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}
