/** A broker of a 3-broker stack is killed under a long-lived producer: how long until acks resume. */
import { performance } from 'node:perf_hooks';
import { Producer as PProducer } from '@platformatic/kafka';
import { Partitioners } from 'kafkajs';
import { closeNow } from '../../harness/kafka/clients.ts';
import type { StartedStack } from '../../harness/stack/stack.ts';
import { kafkajsClient } from './kafkajs.ts';
import type { FailoverResult } from './measurements.ts';
import type { ClientName } from './options.ts';
import { record } from './records.ts';
import { errText, withTimeout } from './tools.ts';

export async function failover(
  client: ClientName,
  stack: StartedStack,
  topic: string,
  broker: number,
): Promise<FailoverResult> {
  let send: (from: number) => Promise<void>;
  let close: () => Promise<void>;
  if (client === 'kafkajs') {
    const p = kafkajsClient(stack.bootstrap, 'bench-kafkajs-failover').producer({
      idempotent: true,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await p.connect();
    send = async (from) => {
      await p.send({ topic, acks: -1, messages: Array.from({ length: 100 }, (_, j) => record(from + j)) });
    };
    close = () => p.disconnect();
  } else {
    const p = new PProducer({
      clientId: 'bench-platformatic-failover',
      bootstrapBrokers: [stack.bootstrap],
      idempotent: true,
    });
    send = async (from) => {
      await p.send({ messages: Array.from({ length: 100 }, (_, j) => ({ topic, ...record(from + j) })) });
    };
    close = () => closeNow(p);
  }
  let stop = false;
  let killedAt = Number.POSITIVE_INFINITY;
  let recoveredAt = Number.NaN;
  let lastAck = performance.now();
  let maxGap = 0;
  let errors = 0;
  let firstError = '';
  let acked = 0;
  const loop = async () => {
    let i = 0;
    while (!stop) {
      const issued = performance.now();
      try {
        await send(i);
        const now = performance.now();
        maxGap = Math.max(maxGap, now - lastAck);
        lastAck = now;
        acked += 100;
        if (issued > killedAt && Number.isNaN(recoveredAt)) recoveredAt = now;
      } catch (err) {
        errors++;
        firstError ||= errText(err);
        await new Promise((r) => setTimeout(r, 100));
      }
      i += 100;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const running = loop();
  try {
    await new Promise((r) => setTimeout(r, 3_000));
    killedAt = performance.now();
    await stack.broker(broker).kill();
    const until = Date.now() + 45_000;
    while (Number.isNaN(recoveredAt) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 2_000));
  } finally {
    stop = true;
    await withTimeout(running, 60_000, `${client} failover loop`).catch(() => {});
    await close().catch(() => {});
    await stack.broker(broker).start();
  }
  return {
    killedBroker: broker,
    recoverySeconds: (recoveredAt - killedAt) / 1000,
    maxAckGapSeconds: maxGap / 1000,
    errors,
    firstError,
    acked,
  };
}
