/**
 * Imports a user's module (a scenario, a model, an expectation). A `.ts`/`.mts` file goes through tsx's loader
 * (scoped to this import): the compiled package runs on plain Node, which will not strip types under node_modules.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ErrorCode, StreamproofError } from './errors.ts';

export async function importModule(abs: string): Promise<{ default?: unknown }> {
  const url = pathToFileURL(abs).href;
  if (!/\.m?ts$/.test(abs)) return import(url);
  const { tsImport } = await import('tsx/esm/api');
  return tsImport(url, import.meta.url);
}

/**
 * The default export of a user's module (`file` relative to `baseDir`, or absolute). A missing file, a failing
 * import or no default export throws StreamproofError `code` at `path` (bad input: found before anything runs).
 */
export async function importDefault(
  file: string,
  baseDir: string,
  code: ErrorCode,
  path: string,
  hint: string,
): Promise<{ value: unknown; abs: string }> {
  const abs = isAbsolute(file) ? file : resolve(baseDir, file);
  const fail = (message: string, cause?: unknown) =>
    StreamproofError.at(code, `${abs}: ${message}`, { path, ...(cause === undefined ? {} : { cause }) });
  if (!existsSync(abs) || !statSync(abs).isFile()) throw fail('no such file');
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(abs);
  } catch (err) {
    throw fail(`import failed: ${(err as Error)?.message ?? String(err)}`, err);
  }
  let value = mod.default;
  // A .ts file outside a `"type": "module"` package loads as CommonJS: its default export is one level down.
  if (value !== null && typeof value === 'object' && (value as { __esModule?: unknown }).__esModule === true) {
    value = (value as { default?: unknown }).default;
  }
  if (value === undefined) throw fail(`no default export (${hint})`);
  return { value, abs };
}
