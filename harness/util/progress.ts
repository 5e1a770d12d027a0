/**
 * Long work (provisioning, stack start, load) reports progress as small events. The CLI renders them for people on
 * stderr, or as JSON lines with --json; libraries and tests pass `silent`.
 */
export interface ProgressEvent {
  phase: string;
  message: string;
  /** Fraction done in [0, 1] when known. */
  fraction?: number;
  [key: string]: unknown;
}

export type Progress = (event: ProgressEvent) => void;

export const silent: Progress = () => {};

export function textProgress(stream: NodeJS.WritableStream = process.stderr): Progress {
  return (e) => {
    const pct = e.fraction === undefined ? '' : ` ${Math.round(e.fraction * 100)}%`;
    stream.write(`[${e.phase}]${pct} ${e.message}\n`);
  };
}

export function jsonProgress(stream: NodeJS.WritableStream = process.stderr): Progress {
  return (e) => {
    stream.write(`${JSON.stringify({ type: 'progress', time: new Date().toISOString(), ...e })}\n`);
  };
}
