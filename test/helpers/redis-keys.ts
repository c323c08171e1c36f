// Redis for the BullMQ tests: whether the shared test Redis answers, and removing a test's keys.
import { Redis } from 'ioredis';

export const TEST_QUEUE_URL = process.env.FACEEMBED_TEST_QUEUE_URL ?? 'redis://127.0.0.1:6379/5';

const connect = async (url: string): Promise<Redis> => {
  const redis = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  await redis.connect();
  return redis;
};

/** A reason to skip when the test Redis does not answer, else false. */
export async function redisSkip(url = TEST_QUEUE_URL): Promise<string | false> {
  try {
    const redis = await connect(url);
    await redis.ping();
    redis.disconnect();
    return false;
  } catch {
    return `Redis not reachable at ${url} (FACEEMBED_TEST_QUEUE_URL): BullMQ test skipped`;
  }
}

/** Deletes every key under `prefix:`; returns how many went. */
export async function dropKeys(prefix: string, url = TEST_QUEUE_URL): Promise<number> {
  const redis = await connect(url);
  try {
    let removed = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) removed += await redis.del(...keys);
    } while (cursor !== '0');
    return removed;
  } finally {
    redis.disconnect();
  }
}
