/** One JSON line per log event on stderr: `{"t":..., "c": component, "msg": ..., ...fields}`. */

export type Logger = (msg: string, fields?: Record<string, unknown>) => void;

export function logger(component: string, instance: string): Logger {
  return (msg, fields = {}) => {
    const line = { t: new Date().toISOString(), c: component, i: instance, msg, ...fields };
    process.stderr.write(`${JSON.stringify(line, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
  };
}

export function errorFields(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { error: String(err) };
  const cause = (err as Error & { cause?: unknown }).cause;
  const errors = (err as Error & { errors?: unknown[] }).errors;
  return {
    error: err.message,
    ...(cause instanceof Error ? { cause: cause.message } : {}),
    ...(Array.isArray(errors) ? { errors: errors.slice(0, 5).map((e) => (e as Error)?.message ?? String(e)) } : {}),
  };
}
