// Change bus over Redis pub/sub (used when FACEEMBED_QUEUE_URL is set): a subscriber connection
// and a publisher connection; ioredis reconnects both and re-subscribes by itself.
import { Redis } from 'ioredis';
import { BaseChangeBus } from '../services/change-bus.js';
import { redisOptions } from './bullmq-job-engine.js';

export class RedisChangeBus extends BaseChangeBus {
  readonly name = 'redis';
  private readonly sub: Redis;
  private readonly pub: Redis;

  private constructor(
    url: string,
    private readonly channel: string,
    origin: string,
  ) {
    super(origin);
    const options = redisOptions(url);
    this.sub = new Redis({ ...options, lazyConnect: true });
    this.pub = new Redis({ ...options, lazyConnect: true });
    for (const c of [this.sub, this.pub]) c.on('error', () => undefined);
    this.sub.on('message', (ch: string, message: string) => {
      if (ch === this.channel) this.received(message);
    });
  }

  /** Resolves once subscribed. `prefix` keeps installations on one Redis apart (FACEEMBED_QUEUE_PREFIX). */
  static async open(url: string, prefix: string, origin: string): Promise<RedisChangeBus> {
    const bus = new RedisChangeBus(url, `${prefix}:changes`, origin);
    await bus.sub.connect();
    await bus.pub.connect();
    await bus.sub.subscribe(bus.channel);
    return bus;
  }

  protected async send(payload: string): Promise<void> {
    await this.pub.publish(this.channel, payload);
  }

  async close(): Promise<void> {
    this.sub.disconnect();
    this.pub.disconnect();
  }
}
