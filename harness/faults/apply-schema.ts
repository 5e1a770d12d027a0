/**
 * `schema-upgrade` (docs/schema-upgrade.md): a live schema upgrade of the input events. The fault only asks the
 * context's `schema` hook (the runner sets it once the load runs: harness/runner/schema-upgrade.ts) to register the
 * new schema, record the registry's verdict and switch the producers, and turns the answer into an ActiveFault that
 * has ended at once (its heal does nothing: an upgrade is not undone). A refusal by the registry is an outcome, not
 * an error: the fault is recorded with the refusal and its reasons, and the load goes on with the old version. A
 * registry that cannot be asked, or a load that cannot switch, is a failed apply (`FAULT_APPLY_FAILED`).
 */
import { messageOf, StreamproofError } from '../util/errors.ts';
import type { ActiveFault } from './apply.ts';
import type { FaultContext } from './context.ts';
import type { SchemaUpgradeFault } from './spec.ts';

export type SchemaVersion = 1 | 2 | 3;

/** What one upgrade did, as the history, result.json and the reports carry it. */
export interface SchemaUpgradeOutcome {
  /** The version the producers wrote before, and the one asked for. */
  readonly from: SchemaVersion;
  readonly to: SchemaVersion;
  /** The registry subject (`<input topic>-value`). */
  readonly subject: string;
  /** The file registered instead of version `to`'s schema, as the scenario wrote it. */
  readonly schemaFile?: string;
  /** The subject's compatibility level when it was asked (undefined when the registry did not say). */
  readonly level?: string;
  /** The compatibility endpoint's verdict, asked before registering (against the latest version). */
  readonly compatible: boolean;
  /** The registry's reasons: its verbose compatibility messages, and its refusal message when it refused. */
  readonly messages: readonly string[];
  /** The id the registry gave the schema; undefined when it refused it. */
  readonly schemaId?: number;
  /** True when the producers write version `to` from now on; false when the registry refused (they keep `from`). */
  readonly switched: boolean;
  /** When the producers switched (epoch ms), or when the refusal was known. */
  readonly at: number;
}

/** The runner's hook: reaches the registry and the load. */
export interface SchemaUpgrader {
  upgrade(
    to: SchemaVersion,
    opts: { schema?: string; compatibility?: SchemaUpgradeFault['compatibility'] },
  ): Promise<SchemaUpgradeOutcome>;
}

/** One line for reports and logs, e.g. `v2 -> v3: schema id 7, compatible (BACKWARD)`. */
export function describeUpgrade(o: SchemaUpgradeOutcome): string {
  const what = `v${o.from} -> ${o.schemaFile ? `${o.schemaFile} (as v${o.to})` : `v${o.to}`}`;
  const level = o.level ? ` under ${o.level}` : '';
  const why = o.messages.length > 0 ? `: ${o.messages.slice(0, 3).join('; ')}` : '';
  if (!o.switched) return `${what} refused by the registry${level} (the load kept v${o.from})${why}`;
  return `${what}: schema id ${o.schemaId}, ${o.compatible ? 'compatible' : 'INCOMPATIBLE'}${level}${o.compatible ? '' : why}`;
}

export async function applySchemaUpgrade(
  spec: SchemaUpgradeFault,
  ctx: FaultContext,
  faultId: string,
): Promise<ActiveFault> {
  if (!ctx.schema) {
    throw StreamproofError.at(
      'FAULT_APPLY_FAILED',
      'schema-upgrade: this run offers no schema hook (an Avro load from this process, with the registry, is needed)',
      { faultId },
    );
  }
  let outcome: SchemaUpgradeOutcome;
  try {
    outcome = await ctx.schema.upgrade(spec.to, {
      ...(spec.schema === undefined ? {} : { schema: spec.schema }),
      ...(spec.compatibility === undefined ? {} : { compatibility: spec.compatibility }),
    });
  } catch (err) {
    throw StreamproofError.at('FAULT_APPLY_FAILED', `schema-upgrade to v${spec.to} failed: ${messageOf(err)}`, {
      faultId,
      cause: err,
    });
  }
  return {
    spec,
    targets: [outcome.subject],
    toxics: [],
    healed: true,
    heal: () => Promise.resolve(),
    ended: Promise.resolve(),
    detail: { summary: describeUpgrade(outcome), schemaUpgrade: outcome },
  };
}
