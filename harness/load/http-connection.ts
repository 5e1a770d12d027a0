/**
 * One HTTP load lane's connection: an autocannon instance with one keep-alive connection, whose requests our
 * scheduler gates.
 *
 * Why autocannon is gated: its own pacing is closed-loop per connection (the next request goes when the previous
 * response arrives) and `overallRate` / `connectionRate` are per-second quotas released in bursts at each second's
 * start, so neither gives intended send times (docs/load.md, "HTTP load", has the measurement). We keep its
 * connection (raw keep-alive socket, http-parser-js, its timeout and reconnect handling) and let the pacing engine
 * decide when each request leaves: `setupClient` replaces the client's internal `_doRequest` (pinned autocannon
 * 9.0.0; the connection checks it exists) by a gate that tells the lane it is idle, and the lane writes a request
 * with the public `setBody` and the original `_doRequest` when one is due.
 */
import autocannon from 'autocannon';

export interface HttpResponse {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** What a lane's connection tells its transport (http-transport.ts). */
export interface ConnectionEvents {
  /** The connection can take a request (first connect, after a response, after a reconnect). */
  idle(): void;
  response(r: HttpResponse): void;
  /** The request in flight got no response (timeout, connection error or close). */
  noResponse(message: string): void;
}

/** One keep-alive connection: `send` writes one request; the events above report what happened. */
export interface HttpConnection {
  send(body: Buffer): void;
  close(): Promise<void>;
}

interface GatedClient {
  _doRequest: () => void;
  setBody(body: Buffer): void;
  on(event: string, fn: (...args: unknown[]) => void): void;
}

/** One lane's connection: an autocannon instance with one connection whose request writes our scheduler gates. */
export function autocannonConnection(
  url: URL,
  o: { token?: string | undefined; timeoutMs: number },
  events: ConnectionEvents,
): HttpConnection {
  let client: GatedClient | undefined;
  let write: (() => void) | undefined;
  const headers: Record<string, string> = { 'content-type': 'application/x-ndjson' };
  if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
  let finished: () => void = () => {};
  const ended = new Promise<void>((resolve) => {
    finished = resolve;
  });
  let initError: Error | undefined;
  const instance = autocannon(
    {
      url: url.origin,
      connections: 1,
      pipelining: 1,
      // Stopped by close(); the duration only bounds a connection nobody closes.
      duration: 24 * 3600,
      timeout: o.timeoutMs / 1000,
      sampleInt: 100,
      requests: [
        {
          method: 'POST',
          path: `${url.pathname}${url.search}`,
          headers,
          onResponse: (status: number, body: string, _ctx: unknown, h: Record<string, string | string[]>) =>
            events.response({ status, body, headers: lowerKeys(h) }),
        },
      ],
      setupClient: (c: unknown) => {
        const gc = c as GatedClient;
        if (typeof gc._doRequest !== 'function')
          throw new Error('autocannon has no Client._doRequest: the HTTP load was written for autocannon 9.0.0');
        client = gc;
        const original = gc._doRequest;
        write = () => original.call(gc);
        // autocannon calls _doRequest on connect and after every response: there the connection is ready.
        gc._doRequest = () => events.idle();
        gc.on('connError', (e) => events.noResponse(`connection error: ${(e as Error)?.message ?? e}`));
      },
    } as autocannon.Options,
    (err) => {
      if (err) initError = err;
      finished();
    },
  );
  // Bad options are reported synchronously, through the callback.
  if (initError) throw new Error(`autocannon: ${initError.message}`);
  // A request whose connection dies: autocannon reconnects (and calls the gate), and emits `timeout` afterwards.
  instance.on('reqError', () => {});
  return {
    send(body) {
      if (!client || !write) throw new Error('the connection is not set up');
      client.setBody(body);
      write();
    },
    async close() {
      instance.stop();
      await ended;
    },
  };
}

function lowerKeys(h: Record<string, string | string[]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h ?? {})) out[k.toLowerCase()] = v;
  return out;
}
