/**
 * kit's one glob dialect, for cluster names (`clusters`, `waves`, `--clusters`, `--waves`) and
 * for manifest paths (`manifests`, `--manifests`). Documented once, in docs/manifests-format.md
 * ("Globs"); the table test in shared/__tests__/text/glob.test.ts pins it.
 *
 * It is Node's `path.matchesGlob` (the POSIX flavour: `/` separates folders):
 * - `*` any run of characters within one folder (never `/`), `?` one character but `/`;
 * - `**` as a whole path segment: zero or more folders (`services/**` followed by `/*.yaml`
 *   matches `services/a.yaml` and `services/x/y/a.yaml`);
 * - `[ab]`, `[a-z]`, `[!ab]` (or `[^ab]`) one character of (not of) the set;
 * - `{a,b}` either alternative, `{1..3}` a numeric range;
 * - a name starting with `.` is matched only by a pattern segment starting with `.`
 *   (`*` and `**` skip dot-files and dot-folders such as `.github/`);
 * - everything else is literal, including `.`, `-`, `+`, `(`, `)`; there is no escape
 *   character (`\` is a separator, as on Windows), and a pattern never negates (`!a` is
 *   literal).
 * Node matches case-insensitively on macOS and Windows and case-sensitively elsewhere (the
 * actions' Linux runners): cluster names are lowercase, so only paths can tell the difference.
 */
import { posix } from 'node:path'

/** Whether `name` (a cluster name or a `/`-separated relative path) matches `glob`. */
export function matchesGlob(name: string, glob: string): boolean {
  return posix.matchesGlob(name, glob)
}

/** Whether `name` matches any of the globs. */
export function matchesAnyGlob(name: string, globs: readonly string[]): boolean {
  return globs.some((g) => posix.matchesGlob(name, g))
}
