/**
 * Imports a user's module (a scenario, a model, an expectation). A `.ts`/`.mts` file goes through tsx's loader
 * (scoped to this import): the compiled package runs on plain Node, which will not strip types under node_modules.
 */
import { pathToFileURL } from 'node:url';

export async function importModule(abs: string): Promise<{ default?: unknown }> {
  const url = pathToFileURL(abs).href;
  if (!/\.m?ts$/.test(abs)) return import(url);
  const { tsImport } = await import('tsx/esm/api');
  return tsImport(url, import.meta.url);
}
