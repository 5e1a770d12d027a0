/**
 * `contract: { "model": "./my-model.ts" }`: validating the scenario field and loading the module it names. Every
 * problem is bad input (exit 64), found when the contract is created, before the stack starts.
 */
import { MODEL_COMPARES } from '../checkers/model.ts';
import { StreamproofError } from '../util/errors.ts';
import { importDefault } from '../util/import-module.ts';
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
  const { value, abs } = await importDefault(
    spec.model,
    baseDir,
    'MODEL_INVALID',
    at,
    'export default defineModel({...})',
  );
  return checkModelObject(value, at, abs);
}
