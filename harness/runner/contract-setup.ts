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
import type { Scenario } from './scenario.ts';

export async function createContract(sc: Scenario, setup: ContractSetup): Promise<ContractRun> {
  switch (sc.sut.contract) {
    case 'attribution':
      return createAttributionContract();
    case 'model':
      return createModelContract({ model: sc.sut.model! }, setup);
    case 'lineage':
      return createLineageContract(sc.sut.lineage!, setup);
    default:
      return createCopyContract(setup);
  }
}
