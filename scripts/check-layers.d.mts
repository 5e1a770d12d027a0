/** Types of scripts/check-layers.mjs, for its unit test. */
export interface LayerViolation {
  rule: 'layer' | 'reports' | 'separate' | 'cycle';
  why: string;
  file: string;
  line: number;
  import: string;
  to: string;
}
export interface KnownViolation {
  from: string;
  to: string;
  why: string;
}
export const ROOTS: string[];
export const RANKS: Record<string, number>;
export const RESULT_MODEL: string[];
export const KNOWN: KnownViolation[];
export function unitOf(file: string): string;
export function checkLayers(
  root: string,
  known?: readonly KnownViolation[],
): { violations: LayerViolation[]; tolerated: LayerViolation[] };
export function format(v: LayerViolation): string;
