/**
 * The attribution model: the pure reference semantics of the attribution contract, shared by the reference
 * attributor (which folds `applyEvent` per user and keeps `serializeState` in a compacted changelog) and by the
 * harness's checker (which calls `attribute` on the offered events and compares with the observed output by
 * `record_id`). The rules and every choice behind them: docs/attribution-model.md.
 */

export { type AttributionResult, attribute, attributeEach } from './attribute.ts';
export { compareTouches, modelWeights, recordId, type StoredTouch } from './credit.ts';
export { AttributionModelError, MODEL_ERROR_CODES, type ModelErrorCode } from './errors.ts';
export { allocateLargestRemainder, fromMinorUnits, toMinorUnits } from './money.ts';
export {
  type AttributionOptions,
  BUILTIN_CURRENCY_EXPONENTS,
  DEFAULT_OPTIONS,
  type ResolvedAttributionOptions,
  resolveOptions,
} from './options.ts';
export {
  ATTRIBUTION_MODELS,
  type AttributionInput,
  type AttributionModel,
  type AttributionRecord,
  CHANNELS,
  type Channel,
  EVENT_TYPES,
  type EventType,
  REJECTION_REASONS,
  type Rejection,
  type RejectionReason,
  TOUCH_TYPES,
  type Touch,
  type TouchType,
  UNATTRIBUTED_CAMPAIGN,
  UNATTRIBUTED_CHANNEL,
} from './types.ts';
export {
  type ApplyResult,
  applyEvent,
  createUserState,
  deserializeState,
  serializeState,
  type UserState,
  windowTouches,
} from './user-state.ts';
