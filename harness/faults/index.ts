/**
 * Faults (Jepsen's nemesis): Toxiproxy toxics and partitions, process kill / pause / restart, each with its heal,
 * and the schedule that applies and heals them during a run. See docs/faults.md.
 */
export { type ActiveFault, applyFault, healAll, toxicAttributes } from './apply.ts';
export { type SutKafka, sutKafka } from './apply-group.ts';
export { describeUpgrade, type SchemaUpgradeOutcome, type SchemaUpgrader } from './apply-schema.ts';
export {
  brokerProcess,
  everyProcess,
  type FaultContext,
  type ProcessTarget,
  stackFaultContext,
  type ToxicBody,
  type ToxiproxyClient,
  type ToxiproxyProxy,
} from './context.ts';
export {
  type FaultEventRecord,
  type PlannedFault,
  planFaults,
  runSchedule,
  type ScheduleError,
  type ScheduleOptions,
  type ScheduleResult,
} from './schedule.ts';
export * from './spec.ts';
export { type FaultLimits, validateFault, validateFaults } from './validate.ts';
