/**
 * The contract a scenario names, built before the stack starts where it can be (a model or expectation module that
 * does not load is bad input: exit 64 before anything runs).
 */
import {
  type ContractRun,
  type ContractSetup,
  createAttributionContract,
  createCopyContract,
  createLineageContract,
  createModelContract,
} from '../contracts/index.ts';
import { StreamproofError } from '../util/errors.ts';
import type { Scenario } from './scenario.ts';

/**
 * `STREAMPROOF_JUDGE_OUTPUTS_IN_MEMORY`: how many outputs a model contract (attribution, model) keeps in memory
 * before it judges from bucket files on disk (docs/checkers.md, "Memory of a model contract"). Unset: 1 000 000.
 */
export function outputsInMemory(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const name = 'STREAMPROOF_JUDGE_OUTPUTS_IN_MEMORY';
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new StreamproofError(
      'USAGE',
      `${name}: expected a whole number of outputs (0 or more), got ${JSON.stringify(raw)}`,
    );
  return n;
}

export async function createContract(sc: Scenario, setup: ContractSetup): Promise<ContractRun> {
  switch (sc.sut.contract) {
    case 'attribution':
      return createAttributionContract({ outputsInMemory: outputsInMemory() });
    case 'model':
      return createModelContract({ model: sc.sut.model! }, setup, 'sut.contract', {
        outputsInMemory: outputsInMemory(),
      });
    case 'lineage':
      return createLineageContract(sc.sut.lineage!, setup);
    default:
      return createCopyContract(setup);
  }
}
