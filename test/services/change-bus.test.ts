// The change bus between two processes' worth of connections: an event published on one side
// reaches the other within a second, both ways, over PostgreSQL LISTEN/NOTIFY and Redis pub/sub;
// the publisher's own listeners get it exactly once. Skips an adapter whose server is absent.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import pino from 'pino';
import { RedisChangeBus } from '../../src/queue/redis-change-bus.js';
import { PgChangeBus } from '../../src/queue/pg-change-bus.js';
import { LocalChangeBus, type ChangeBus, type ChangeEvent } from '../../src/services/change-bus.js';
import { PG_URL } from '../repositories/db-targets.js';

const REDIS_URL = process.env.FACEEMBED_TEST_QUEUE_URL ?? 'redis://127.0.0.1:6379/5';
const silent = pino({ level: 'silent' });

function redisSkip(): string | false {
  try {
    execFileSync('redis-cli', ['-u', REDIS_URL, 'ping'], { stdio: 'pipe', timeout: 5000 });
    return false;
  } catch {
    return `Redis not reachable at ${REDIS_URL}`;
  }
}

const next = (bus: ChangeBus, timeoutMs: number): Promise<{ event: ChangeEvent; ms: number }> => {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms`)), timeoutMs);
    const off = bus.subscribe((event) => {
      clearTimeout(timer);
      off();
      resolve({ event, ms: performance.now() - started });
    });
  });
};

const adapters: { name: string; skip: string | false; open: (origin: string) => Promise<ChangeBus> }[] = [
  {
    name: 'postgres',
    skip: PG_URL ? false : 'FACEEMBED_TEST_DATABASE_URL is not set',
    open: (origin) => PgChangeBus.open(PG_URL!, origin, silent),
  },
  {
    name: 'redis',
    skip: redisSkip(),
    open: (origin) => RedisChangeBus.open(REDIS_URL, `fe-test-bus-${process.pid}`, origin),
  },
];

for (const adapter of adapters) {
  describe(`change bus (${adapter.name})`, { skip: adapter.skip }, () => {
    test('an event crosses within 1 s both ways; the publisher hears its own once', async () => {
      const a = await adapter.open('server-a');
      const b = await adapter.open('server-b');
      try {
        const own: ChangeEvent[] = [];
        a.subscribe((e) => own.push(e));
        const atB = next(b, 1000);
        await a.publish({ type: 'enrolment-faces-changed', personId: 7, faceCropIds: [1, 2] });
        const got = await atB;
        assert.deepEqual(got.event, {
          type: 'enrolment-faces-changed',
          personId: 7,
          faceCropIds: [1, 2],
          origin: 'server-a',
        });
        const atA = next(a, 1000);
        await b.publish({ type: 'enrolment-faces-changed', personId: 8 });
        assert.equal((await atA).event.origin, 'server-b');
        await new Promise((r) => setTimeout(r, 100)); // an echo of a's own event would arrive by now
        assert.deepEqual(
          own.map((e) => [e.origin, e.personId]),
          [
            ['server-a', 7],
            ['server-b', 8],
          ],
        );
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
}

test('the local bus delivers to its own listeners only', async () => {
  const bus = new LocalChangeBus('solo');
  const seen: ChangeEvent[] = [];
  const off = bus.subscribe((e) => seen.push(e));
  await bus.publish({ type: 'enrolment-faces-changed', personId: 1 });
  off();
  await bus.publish({ type: 'enrolment-faces-changed', personId: 2 });
  assert.deepEqual(
    seen.map((e) => e.personId),
    [1],
  );
});
