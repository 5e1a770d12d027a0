/** Public API of the generators: the event contract, schemas and wire formats, arbitraries, the bulk generator. */
export * from './arbitrary/badEvent.ts';
export * from './arbitrary/event.ts';
export * from './arbitrary/journey.ts';
export * from './arbitrary/schemaEvolution.ts';
export * from './arbitrary/traffic.ts';
export * from './bulk.ts';
export * from './compatibility.ts';
export * from './event.ts';
export { DEFAULT_START_TIME, type TrafficModelOptions } from './model.ts';
export * from './options.ts';
export { Sfc32 } from './prng.ts';
export * from './schedule.ts';
export * from './schemas.ts';
