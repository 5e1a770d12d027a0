/**
 * Child node processes started on one of our own files (the reference pipeline's components, the checkers bench):
 * from a checkout the file is TypeScript and runs through tsx; from the published package (dist/) it is the compiled
 * JavaScript beside this module and runs as is. Which one is decided by this very module's own extension.
 */
/** True when running the compiled package (dist/*.js), false when running the .ts sources. */
export const compiled = !import.meta.url.endsWith('.ts');

/** `<name>.ts` in a checkout, `<name>.js` in the package. `ts` is the source path. */
export function entryPath(ts: string): string {
  return compiled ? ts.replace(/\.ts$/, '.js') : ts;
}

/**
 * node's arguments to run the entry file `ts` (its source path): tsx's loader only when running sources. `tsx` is
 * how `--import` finds tsx (a bare "tsx" resolves from the child's working directory).
 */
export function nodeArgs(ts: string, tsx = 'tsx'): string[] {
  return compiled ? [entryPath(ts)] : ['--import', tsx, ts];
}
