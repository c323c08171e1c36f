// Change bus over PostgreSQL LISTEN/NOTIFY: one dedicated connection listens (re-established
// after a drop); NOTIFY goes through any connection. Payloads are small JSON (ids only), well
// under PostgreSQL's 8000-byte limit.
import pg from 'pg';
import type { Logger } from 'pino';
import { BaseChangeBus } from '../services/change-bus.js';

export const CHANNEL = 'faceembed_changes';
const RECONNECT_MS = 500;

export class PgChangeBus extends BaseChangeBus {
  readonly name = 'postgres';
  private listener: pg.Client | undefined;
  private readonly notifier: pg.Pool;
  private closed = false;

  private constructor(
    private readonly url: string,
    origin: string,
    private readonly log: Logger,
  ) {
    super(origin);
    this.notifier = new pg.Pool({ connectionString: url, max: 1 });
    this.notifier.on('error', () => undefined);
  }

  /** Resolves once the LISTEN is in place. */
  static async open(url: string, origin: string, log: Logger): Promise<PgChangeBus> {
    const bus = new PgChangeBus(url, origin, log);
    await bus.listen();
    return bus;
  }

  protected async send(payload: string): Promise<void> {
    await this.notifier.query('select pg_notify($1, $2)', [CHANNEL, payload]);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.listener?.end().catch(() => undefined);
    await this.notifier.end();
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (m) => {
      if (m.channel === CHANNEL && m.payload) this.received(m.payload);
    });
    client.on('error', (err) => {
      this.log.warn({ err: err.message }, 'change bus connection lost; reconnecting');
      this.retry();
    });
    await client.connect();
    await client.query(`listen ${CHANNEL}`);
    this.listener = client;
  }

  private retry(): void {
    if (this.closed) return;
    setTimeout(() => {
      if (this.closed) return;
      this.listen().catch(() => this.retry());
    }, RECONNECT_MS).unref();
  }
}
