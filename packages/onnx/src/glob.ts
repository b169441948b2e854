/**
 * Glob patterns over node names (`*` any run of characters, `?` one character, anything else
 * itself), for the prune config's `ignore` and `layers` keys (@deprune/pipeline) and the profiler's and
 * bench's `--layers` (@deprune/profiler). One matcher for all of them: a pattern compiled to a regular expression
 * (`*` -> `.*`) backtracks exponentially on patterns with many stars (20 stars then `X` took
 * 16 s against a long name), and patterns come from users' config files and flags.
 */

/**
 * Whether `name` matches `pattern` as a whole. Greedy left to right; on a mismatch only the
 * last `*` is retried one character further on (a match for an earlier star can never help
 * once a later star has matched, since that star can absorb whatever the earlier one would
 * have). At most O(name.length x pattern.length) steps, and no recursion.
 */
export function matchesGlob(name: string, pattern: string): boolean {
  let at = 0; // position in name
  let next = 0; // position in pattern
  let star = -1; // pattern position of the last '*' seen
  let starAt = 0; // name position that star's run currently ends at
  while (at < name.length) {
    const token = pattern[next];
    if (next < pattern.length && token === '*') {
      star = next++;
      starAt = at;
    } else if (next < pattern.length && (token === '?' || token === name[at])) {
      next++;
      at++;
    } else if (star >= 0) {
      next = star + 1;
      at = ++starAt;
    } else {
      return false;
    }
  }
  while (pattern[next] === '*') next++;
  return next === pattern.length;
}

/** Whether a node name matches a name or glob pattern (a pattern without `*` or `?` must equal it). */
export function matchesPattern(name: string, pattern: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return name === pattern;
  return matchesGlob(name, pattern);
}
