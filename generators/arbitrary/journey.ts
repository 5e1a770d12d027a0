/**
 * `journey()`: one user's touches (impressions and clicks) and then, maybe, a conversion: the unit the attribution
 * model reasons about. The conversion happens at `conversionTime`; the lookback window is
 * [conversionTime - lookbackMs, conversionTime], and every touch lies inside it unless `staleTouches` is on, in which
 * case some touches fall up to another lookback before the window (an attribution model must ignore those).
 * Journeys without a conversion keep the same time frame (`conversionTime` is where it would have been).
 *
 * Events are in emission order (= time order), user_seq from 0, event ids `${producerId}-0`... Shrinking removes
 * touches, drops the conversion, and moves touches towards the conversion.
 */
import fc from 'fast-check';
import {
  CHANNELS,
  CURRENCIES,
  DEVICES,
  EVENT_TYPES,
  type Event,
  eventId,
  MAX_PRODUCER_ID,
  MAX_USERS,
  SCHEMA_VERSIONS,
  type SchemaVersion,
  userId,
} from '../event.ts';
import { campaignName, DEFAULT_START_TIME } from '../model.ts';
import { checkKeys, intOption, oneOfOption } from '../options.ts';

export interface JourneyConstraints {
  /** Users the journey's user is drawn from (ignored when `user` is set). Default 1000. */
  users?: number;
  /** Fixed user index. Default: any of `users`. */
  user?: number;
  /** Producer id of the event ids. Default 0. */
  producerId?: number;
  /** Schema version of the events. Default 3. */
  schemaVersion?: SchemaVersion;
  /** Lookback window, ms. Default 30 days. */
  lookbackMs?: number;
  /** Most touches before the conversion (at least 1 is always there). Default 8. */
  maxTouches?: number;
  /** Campaigns drawn from. Default 50. */
  campaigns?: number;
  /** Allow touches before the lookback window. Default false. */
  staleTouches?: boolean;
  /** Start of the journey's time frame (the earliest possible touch), ms epoch. Default 1_700_000_000_000. */
  startTime?: number;
}

export interface Journey {
  user_id: string;
  lookbackMs: number;
  /** The conversion's event_time (or where it would have been). */
  conversionTime: number;
  /** conversionTime - lookbackMs: touches before this are outside the window. */
  windowStart: number;
  converted: boolean;
  /** Touches in time order, then the conversion if any. */
  events: Event[];
}

const DAY = 86_400_000;

export function journey(constraints: JourneyConstraints = {}): fc.Arbitrary<Journey> {
  const path = 'journey';
  checkKeys(path, constraints, [
    'users',
    'user',
    'producerId',
    'schemaVersion',
    'lookbackMs',
    'maxTouches',
    'campaigns',
    'staleTouches',
    'startTime',
  ]);
  const c = constraints;
  const users = intOption(`${path}.users`, c.users, 1000, 1, MAX_USERS);
  const user = c.user === undefined ? undefined : intOption(`${path}.user`, c.user, 0, 0, MAX_USERS - 1);
  const producerId = intOption(`${path}.producerId`, c.producerId, 0, 0, MAX_PRODUCER_ID);
  const schemaVersion = oneOfOption(`${path}.schemaVersion`, c.schemaVersion, 3 as SchemaVersion, SCHEMA_VERSIONS);
  const lookbackMs = intOption(`${path}.lookbackMs`, c.lookbackMs, 30 * DAY, 1, 3650 * DAY);
  const maxTouches = intOption(`${path}.maxTouches`, c.maxTouches, 8, 1, 10_000);
  const campaigns = intOption(`${path}.campaigns`, c.campaigns, 50, 1, 10_000);
  const stale = oneOfOption(`${path}.staleTouches`, c.staleTouches, false, [true, false]);
  const startTime = intOption(`${path}.startTime`, c.startTime, DEFAULT_START_TIME, 0, 8_000_000_000_000);
  const conversionTime = startTime + (stale ? 2 : 1) * lookbackMs;

  const touch = fc.record({
    // Offset before the conversion; beyond lookbackMs only when stale touches are allowed.
    before: fc.integer({ min: 0, max: (stale ? 2 : 1) * lookbackMs }),
    click: fc.boolean(),
    channel: fc.integer({ min: 0, max: CHANNELS.length - 1 }),
    campaign: fc.integer({ min: 0, max: campaigns - 1 }),
  });
  return fc
    .record({
      user: user === undefined ? fc.integer({ min: 0, max: users - 1 }) : fc.constant(user),
      touches: fc.array(touch, { minLength: 1, maxLength: maxTouches }),
      converted: fc.boolean(),
      revenueCents: fc.integer({ min: 1, max: 10_000_000 }),
      currency: fc.integer({ min: 0, max: CURRENCIES.length - 1 }),
      device: fc.integer({ min: 0, max: DEVICES.length - 1 }),
      consent: fc.record({ analytics: fc.boolean(), ads: fc.boolean() }),
    })
    .map((j) => {
      const uid = userId(j.user);
      // Time order: the farthest touch first. Ties keep generation order (sort is stable).
      const touches = [...j.touches].sort((a, b) => b.before - a.before);
      const events: Event[] = [];
      const add = (
        type: number,
        channel: number,
        campaign: number,
        time: number,
        revenueCents: number,
        currency: number,
      ) => {
        const seq = events.length;
        const base = {
          event_id: eventId(producerId, seq),
          user_id: uid,
          user_seq: seq,
          type: EVENT_TYPES[type]!,
          channel: CHANNELS[channel]!,
          campaign: campaignName(campaign),
          event_time: time,
          sent_at: time,
          revenue: revenueCents < 0 ? null : revenueCents / 100,
          currency: currency < 0 ? null : CURRENCIES[currency]!,
          schema_version: schemaVersion,
        };
        const device = DEVICES[j.device]!;
        events.push(
          schemaVersion === 1
            ? base
            : schemaVersion === 2
              ? { ...base, device }
              : { ...base, device, consent: { ...j.consent } },
        );
      };
      for (const t of touches) add(t.click ? 1 : 0, t.channel, t.campaign, conversionTime - t.before, -1, -1);
      if (j.converted) {
        // The conversion is credited to the channel and campaign of the last touch, as a last-click pixel would.
        const last = touches[touches.length - 1]!;
        add(2, last.channel, last.campaign, conversionTime, j.revenueCents, j.currency);
      }
      return {
        user_id: uid,
        lookbackMs,
        conversionTime,
        windowStart: conversionTime - lookbackMs,
        converted: j.converted,
        events,
      };
    });
}
