/**
 * `contract: { "model": "./my-model.ts" }`: validating the scenario field and loading the module it names. Every
 * problem is bad input (exit 64), found when the contract is created, before the stack starts.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MODEL_COMPARES } from '../checkers/model.ts';
import { StreamproofError } from '../util/errors.ts';
import type { PipelineModel } from './model-api.ts';

export interface ModelContractSpec {
  /** The module's path, relative to the scenario file's directory (or absolute). */
  readonly model: string;
}

function bad(code: 'INVALID_SCENARIO' | 'MODEL_INVALID', path: string, message: string, cause?: unknown) {
  return StreamproofError.at(code, message, { path, ...(cause === undefined ? {} : { cause }) });
}

/** Pure: `{ model: "<path>" }`, nothing else. `path` names the field in messages (`scenario.sut.contract`). */
export function validateModelContract(raw: unknown, path = 'sut.contract'): ModelContractSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw bad('INVALID_SCENARIO', path, `expected { "model": "./my-model.ts" }, got ${JSON.stringify(raw)}`);
  }
  for (const k of Object.keys(raw)) {
    if (k !== 'model') throw bad('INVALID_SCENARIO', `${path}.${k}`, 'unknown field (known: model)');
  }
  const m = (raw as { model?: unknown }).model;
  if (typeof m !== 'string' || m.length === 0) {
    throw bad('INVALID_SCENARIO', `${path}.model`, `expected the path of a model module, got ${JSON.stringify(m)}`);
  }
  return { model: m };
}

/** A `.ts`/`.mts` module goes through tsx's loader, as scenario modules do (plain Node will not strip under node_modules). */
async function importModule(abs: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(abs).href;
  if (!/\.m?ts$/.test(abs)) return import(url);
  const { tsImport } = await import('tsx/esm/api');
  return tsImport(url, import.meta.url);
}

const FUNCTIONS = ['decode', 'init', 'step', 'final', 'equals'] as const;

/** Checks a model object: exactly one of step / final, functions where functions go, a known `compare`. */
export function checkModelObject(m: unknown, path: string, file: string): PipelineModel {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) {
    throw bad(
      'MODEL_INVALID',
      path,
      `${file}: the default export is not a model object (export default defineModel({ final(events) { ... } }))`,
    );
  }
  const o = m as Record<string, unknown>;
  for (const f of FUNCTIONS) {
    if (o[f] !== undefined && typeof o[f] !== 'function')
      throw bad('MODEL_INVALID', path, `${file}: ${f} must be a function`);
  }
  if ((o.step === undefined) === (o.final === undefined)) {
    throw bad('MODEL_INVALID', path, `${file}: a model has exactly one of step (with init) or final`);
  }
  if (o.compare !== undefined && !MODEL_COMPARES.includes(o.compare as never)) {
    throw bad('MODEL_INVALID', path, `${file}: compare must be one of ${MODEL_COMPARES.join(', ')}`);
  }
  if (o.compare === 'sequence' && o.step === undefined) {
    throw bad('MODEL_INVALID', path, `${file}: compare "sequence" needs step (final gives one value per key)`);
  }
  return o as PipelineModel;
}

/** Loads the module `spec.model` names (relative to `baseDir`) and checks its default export. */
export async function loadModel(
  spec: ModelContractSpec,
  baseDir: string,
  path = 'sut.contract',
): Promise<PipelineModel> {
  const at = `${path}.model`;
  const abs = isAbsolute(spec.model) ? spec.model : resolve(baseDir, spec.model);
  if (!existsSync(abs) || !statSync(abs).isFile()) throw bad('MODEL_INVALID', at, `${abs}: no such file`);
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(abs);
  } catch (err) {
    throw bad('MODEL_INVALID', at, `${abs}: import failed: ${(err as Error)?.message ?? String(err)}`, err);
  }
  let m = mod.default;
  // A .ts file outside a `"type": "module"` package loads as CommonJS: its default export is one level down.
  if (m !== null && typeof m === 'object' && (m as { __esModule?: unknown }).__esModule === true) {
    m = (m as { default?: unknown }).default;
  }
  if (m === undefined) throw bad('MODEL_INVALID', at, `${abs}: no default export (export default defineModel({...}))`);
  return checkModelObject(m, at, abs);
}
