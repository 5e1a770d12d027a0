/**
 * The attributor's changelog format: a user's state as a head and one record per stored touch, so that a batch writes
 * what changed in a state and not the whole state again. A whole state grows with the user's touches (up to
 * `maxTouches`, ~5.5 KB of JSON at 100): written on every event, it made the changelog ten times the input by the end
 * of a ten-million-event run and slowed everything that carries it. A change is now the head (~40 bytes), the touch
 * added, and a tombstone per touch pruned.
 *
 * Keys (changelog partition = the input partition, as before):
 *
 * - `h:<user_id>` → `{"v":2,"s":<last_user_seq|null>,"m":<max_event_time|null>}`, written whenever the state changes;
 * - `t:<user_seq>:<user_id>` → the touch's tuple (model `touchToWire`), written once when the touch is stored, and a
 *   tombstone (null value) when it is pruned.
 *
 * Compaction keeps the last record per key. Restoring folds the records (`StateRestore`) and prunes each user's
 * touches as the model prunes them: the model keeps the newest `maxTouches` above a cutoff of every touch it ever
 * applied, so a touch written by an aborted transaction and never pruned by a committed one cannot survive a
 * restore (model `pruneTouches`).
 */
import {
  AttributionModelError,
  compareTouches,
  pruneTouches,
  type ResolvedAttributionOptions,
  type StoredTouch,
  touchFromWire,
  touchToWire,
  type UserState,
} from '../model/index.ts';

const HEAD = 'h:';
const TOUCH = 't:';
const TOUCH_KEY = /^t:(\d+):(.+)$/s;

/** One changelog record: a key and its value (null: a tombstone). */
export interface ChangelogEntry {
  readonly key: string;
  readonly value: string | null;
}

const headKey = (user: string) => `${HEAD}${user}`;
const touchKey = (user: string, t: StoredTouch) => `${TOUCH}${t.user_seq}:${user}`;

/** The records that take a user's state from `before` to `after`: the head, the touches added, the touches pruned. */
export function stateDelta(user: string, before: UserState, after: UserState): ChangelogEntry[] {
  const out: ChangelogEntry[] = [
    { key: headKey(user), value: JSON.stringify({ v: 2, s: after.last_user_seq, m: after.max_event_time }) },
  ];
  if (before.touches === after.touches) return out;
  const had = new Set(before.touches.map((t) => t.user_seq));
  const has = new Set(after.touches.map((t) => t.user_seq));
  for (const t of after.touches)
    if (!had.has(t.user_seq)) out.push({ key: touchKey(user, t), value: JSON.stringify(touchToWire(t)) });
  for (const t of before.touches) if (!has.has(t.user_seq)) out.push({ key: touchKey(user, t), value: null });
  return out;
}

function invalid(path: string, message: string): never {
  throw new AttributionModelError('MODEL_INVALID_STATE', message, { path });
}

const isSafeOrNull = (x: unknown): x is number | null =>
  x === null || (typeof x === 'number' && Number.isSafeInteger(x));

interface Head {
  s: number | null;
  m: number | null;
}

function parseHead(text: string, key: string): Head {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new AttributionModelError('MODEL_INVALID_STATE', 'not valid JSON', { path: key, cause });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) invalid(key, 'expected an object');
  const r = raw as Record<string, unknown>;
  if (r.v !== 2) invalid(`${key}.v`, `unknown changelog version ${JSON.stringify(r.v)} (this attributor reads 2)`);
  if (!isSafeOrNull(r.s)) invalid(`${key}.s`, 'expected the last user_seq, an integer or null');
  if (!isSafeOrNull(r.m)) invalid(`${key}.m`, 'expected the max event time, an integer or null');
  if ((r.s === null) !== (r.m === null)) invalid(key, 's and m must be both null or both set');
  return { s: r.s, m: r.m };
}

/**
 * Folds changelog records, in log order, into users' states. Throws `AttributionModelError` (`MODEL_INVALID_STATE`)
 * naming the key on a record it cannot read: a corrupt changelog, or one an older attributor wrote (one whole state
 * per user, keyed by the bare user id), must stop the takeover loudly, not restart users from empty state.
 */
export class StateRestore {
  private readonly heads = new Map<string, Head>();
  private readonly touches = new Map<string, Map<number, StoredTouch>>();

  apply(key: string, value: Buffer | null | undefined): void {
    const tombstone = value === null || value === undefined || value.length === 0;
    if (key.startsWith(HEAD)) {
      const user = key.slice(HEAD.length);
      if (tombstone) this.heads.delete(user);
      else this.heads.set(user, parseHead(value.toString(), key));
      return;
    }
    const m = TOUCH_KEY.exec(key);
    if (m === null) {
      invalid(
        key,
        `changelog key ${JSON.stringify(key.slice(0, 80))} is neither a head (h:<user>) nor a touch (t:<user_seq>:<user>): a changelog another program or an older attributor wrote (delete the topic, or name another with STREAMPROOF_CHANGELOG_TOPIC)`,
      );
    }
    const seq = Number(m[1]);
    const user = m[2]!;
    let of = this.touches.get(user);
    if (tombstone) {
      of?.delete(seq);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(value.toString());
    } catch (cause) {
      throw new AttributionModelError('MODEL_INVALID_STATE', 'not valid JSON', { path: key, cause });
    }
    const t = touchFromWire(parsed, key);
    if (t.user_seq !== seq) invalid(`${key}[1]`, `the touch's user_seq ${t.user_seq} is not its key's ${seq}`);
    if (of === undefined) {
      of = new Map();
      this.touches.set(user, of);
    }
    of.set(seq, t);
  }

  /** The restored states: each user's touches sorted and pruned as the model prunes them. */
  states(options: ResolvedAttributionOptions): Map<string, UserState> {
    const out = new Map<string, UserState>();
    for (const [user, of] of this.touches) {
      if (of.size > 0 && !this.heads.has(user))
        invalid(headKey(user), `touches of user ${JSON.stringify(user)} without a head`);
    }
    for (const [user, head] of this.heads) {
      const sorted = [...(this.touches.get(user)?.values() ?? [])].sort(compareTouches);
      for (const t of sorted) {
        if (head.s === null || t.user_seq > head.s)
          invalid(touchKey(user, t), `a touch past the user's last user_seq ${head.s}`);
      }
      const touches = head.m === null ? sorted : pruneTouches(sorted, head.m, options);
      out.set(user, { version: 1, last_user_seq: head.s, max_event_time: head.m, touches });
    }
    return out;
  }
}
