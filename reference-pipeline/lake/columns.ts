/** The lake's tables: their columns (DuckDB types) and the hour partitioning of their rows. */
import type { LakeTable } from './commit-log.ts';

export type Cell = string | number | bigint | boolean | null;
export type ColumnType = 'VARCHAR' | 'DOUBLE' | 'BIGINT' | 'INTEGER' | 'BOOLEAN';

export const LAKE_COLUMNS: Record<LakeTable, [string, ColumnType][]> = {
  attributions: [
    ['record_id', 'VARCHAR'],
    ['conversion_id', 'VARCHAR'],
    ['user_id', 'VARCHAR'],
    ['model', 'VARCHAR'],
    ['touch_event_id', 'VARCHAR'],
    ['touch_type', 'VARCHAR'],
    ['channel', 'VARCHAR'],
    ['campaign', 'VARCHAR'],
    ['credit', 'DOUBLE'],
    ['revenue_credit', 'DOUBLE'],
    ['revenue_credit_minor', 'BIGINT'],
    ['currency', 'VARCHAR'],
    ['conversion_time', 'BIGINT'],
    ['touch_time', 'BIGINT'],
    ['kafka_partition', 'INTEGER'],
    ['kafka_offset', 'BIGINT'],
  ],
  events: [
    ['event_id', 'VARCHAR'],
    ['user_id', 'VARCHAR'],
    ['user_seq', 'BIGINT'],
    ['type', 'VARCHAR'],
    ['channel', 'VARCHAR'],
    ['campaign', 'VARCHAR'],
    ['event_time', 'BIGINT'],
    ['sent_at', 'BIGINT'],
    ['revenue', 'DOUBLE'],
    ['currency', 'VARCHAR'],
    ['schema_version', 'INTEGER'],
    ['device', 'VARCHAR'],
    ['consent_analytics', 'BOOLEAN'],
    ['consent_ads', 'BOOLEAN'],
    ['kafka_partition', 'INTEGER'],
    ['kafka_offset', 'BIGINT'],
  ],
};

export function hourOf(ms: number): { date: string; hour: string } {
  const iso = new Date(ms).toISOString();
  return { date: iso.slice(0, 10), hour: iso.slice(11, 13) };
}
