/**
 * A model for a keyed count: the number of `click` events per user. Use it with
 * `"sut": { "contract": { "model": "./clicks-per-user.ts" } }` (the path is relative to the scenario file).
 *
 * Output format the pipeline must write: one record per update, key = the user id (a UTF-8 string, e.g. "u0000042"),
 * value = the user's click count so far, either as a JSON number or as a UTF-8 decimal string ("42"): both parse as
 * the JSON number 42 (the default decode). Compared with `last` (the default): after the drain, each user's last
 * output must be the user's number of clicks in the input that landed; intermediate updates may be merged or
 * repeated (a Kafka Streams record cache, an at-least-once replay of an older count) as long as the last one is right.
 * A user without clicks must have no output.
 *
 * Copy this file into your project: the import below is a type, erased when Node loads the module.
 */
import type { PipelineModel } from 'streamproof';

const clicksPerUser: PipelineModel<undefined, number> = {
  final(events) {
    const counts = new Map<string, number>();
    for (const e of events) if (e.type === 'click') counts.set(e.user_id, (counts.get(e.user_id) ?? 0) + 1);
    return counts;
  },
};

export default clicksPerUser;
