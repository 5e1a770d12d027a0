/** The observer's calls to the cluster: how long to back off after failures, how to name an error, a timeout. */

export function backoff(attempt: number): number {
  return Math.min(1000, 50 * 2 ** Math.min(attempt, 10));
}

export function describe(err: unknown): string {
  const e = err as { message?: string; errors?: unknown[] };
  const inner = Array.isArray(e?.errors) && e.errors.length > 0 ? describe(e.errors[e.errors.length - 1]) : undefined;
  const msg = e?.message ?? String(err);
  return inner && !msg.includes(inner) ? `${msg} (${inner})` : msg;
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
