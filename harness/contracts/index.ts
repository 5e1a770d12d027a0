/**
 * Contracts (contract.ts): how a pipeline's outputs relate to its inputs. `createContract` builds the one a scenario
 * names; each is judged by its own checkers beside the common ones (order, schema, latency, SLOs).
 */

export {
  type AttributionValue,
  attributionModel,
  createAttributionContract,
  decodeAttribution,
} from './attribution.ts';
export type {
  ContractFinish,
  ContractRun,
  ContractSetup,
  InputRecord,
  OutputRecord,
  Sighting,
} from './contract.ts';
export { copyDecoder, createCopyContract } from './copy.ts';
export { createDlqCollector, type DlqCollector, type DlqSpec, referenceDlq, validateDlq } from './dlq.ts';
export { decodeInputEvent, inputReader } from './input.ts';
export { createLineageContract, lineageContract } from './lineage.ts';
export { type LineageSpec, validateLineage } from './lineage-spec.ts';
export { createModelContract, createModelContractFrom, defaultDecode, type ModelContractOptions } from './model.ts';
export { defineModel, type PipelineModel } from './model-api.ts';
export { checkModelObject, loadModel, type ModelContractSpec, validateModelContract } from './model-load.ts';
