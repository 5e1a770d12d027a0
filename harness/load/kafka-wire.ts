/**
 * One broker connection of the fast sender: Kafka's request framing (size, header v1) and responses matched to their
 * requests by correlation id. No retries, no metadata: a closed connection rejects every request pending on it.
 */
import { Socket } from 'node:net';

interface Pending {
  resolve(body: Buffer): void;
  reject(error: Error): void;
}

/** One broker connection: request/response framing by correlation id. */
export class Wire {
  readonly socket: Socket;
  readonly ready: Promise<void>;
  #pending = new Map<number, Pending>();
  #next = 1;
  #chunks: Buffer[] = [];
  #have = 0;
  #closed: Error | undefined;
  #clientId: Buffer;

  constructor(host: string, port: number, clientId: string, connectTimeoutMs: number) {
    this.#clientId = Buffer.from(clientId, 'utf8');
    this.socket = new Socket();
    this.socket.setNoDelay(true);
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`Connection to ${host}:${port} timed out.`));
        this.close(new Error('connect timeout'));
      }, connectTimeoutMs);
      this.socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.once('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`Connection to ${host}:${port} failed: ${e.message}`));
      });
    });
    this.ready.catch(() => {});
    this.socket.on('data', (d: Buffer) => this.#onData(d));
    this.socket.on('error', (e) => this.close(e));
    this.socket.on('close', () => this.close(new Error('connection closed')));
    this.socket.connect(port, host);
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Header v1 (non-flexible). `body(buf, offset)` writes `bodySize` bytes. */
  request(apiKey: number, version: number, bodySize: number, body: (b: Buffer, o: number) => void): Promise<Buffer> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = this.#next++ & 0x7fffffff;
    const headerSize = 2 + 2 + 4 + 2 + this.#clientId.length;
    const b = Buffer.allocUnsafe(4 + headerSize + bodySize);
    b.writeInt32BE(headerSize + bodySize, 0);
    b.writeInt16BE(apiKey, 4);
    b.writeInt16BE(version, 6);
    b.writeInt32BE(id, 8);
    b.writeInt16BE(this.#clientId.length, 12);
    this.#clientId.copy(b, 14);
    body(b, 4 + headerSize);
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.socket.write(b);
    });
  }

  #onData(d: Buffer): void {
    this.#chunks.push(d);
    this.#have += d.length;
    for (;;) {
      if (this.#have < 4) return;
      let head = this.#chunks[0]!;
      if (head.length < 4) {
        head = Buffer.concat(this.#chunks);
        this.#chunks = [head];
      }
      const size = head.readInt32BE(0);
      if (this.#have < 4 + size) return;
      const all = this.#chunks.length === 1 ? head : Buffer.concat(this.#chunks);
      const frame = all.subarray(4, 4 + size);
      const rest = all.subarray(4 + size);
      this.#chunks = rest.length > 0 ? [rest] : [];
      this.#have = rest.length;
      const id = frame.readInt32BE(0);
      const p = this.#pending.get(id);
      if (p !== undefined) {
        this.#pending.delete(id);
        p.resolve(frame.subarray(4));
      }
    }
  }

  close(error: Error = new Error('connection closed by the producer')): void {
    if (this.#closed) return;
    this.#closed = error;
    this.socket.destroy();
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }
}
