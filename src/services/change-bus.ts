// The change bus port (issue 15, item 4): several `faceembed serve` instances on one database
// tell each other that enrolment faces changed, so each can refresh its search index within a
// second. Adapters: PostgreSQL LISTEN/NOTIFY, Redis pub/sub (when the queue URL is set), and a
// local one for a single process (SQLite). Events carry ids only; receivers re-read the database.

export interface FacesChanged {
  type: 'enrolment-faces-changed';
  /** The person whose gallery changed, when known. */
  personId?: number;
  faceCropIds?: number[];
  /** The process that published it (host:pid); it is not delivered back there twice. */
  origin: string;
}

export type ChangeEvent = FacesChanged;
export type ChangeListener = (event: ChangeEvent) => void;

/** Face crop ids per event: keeps a payload well under PostgreSQL's 8000-byte NOTIFY limit. */
export const MAX_IDS_PER_EVENT = 500;

export interface ChangeBus {
  readonly name: 'local' | 'postgres' | 'redis';
  /** This process (host:pid), as its events carry it. */
  readonly origin: string;
  /** Delivered to this process's listeners at once, and to every other process's. */
  publish(event: Omit<ChangeEvent, 'origin'>): Promise<void>;
  /** Returns the unsubscribe function. */
  subscribe(listener: ChangeListener): () => void;
  close(): Promise<void>;
}

/** Listener bookkeeping and the "own events once" rule shared by every adapter. */
export abstract class BaseChangeBus implements ChangeBus {
  abstract readonly name: ChangeBus['name'];
  private readonly listeners = new Set<ChangeListener>();

  constructor(readonly origin: string) {}

  async publish(event: Omit<ChangeEvent, 'origin'>): Promise<void> {
    const full = { ...event, origin: this.origin } as ChangeEvent;
    this.deliver(full);
    await this.send(JSON.stringify(full));
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  abstract close(): Promise<void>;

  /** Sends to the other processes. */
  protected abstract send(payload: string): Promise<void>;

  /** A message from the wire: others' events only (ours were delivered when published). */
  protected received(payload: string): void {
    let event: ChangeEvent;
    try {
      event = JSON.parse(payload) as ChangeEvent;
    } catch {
      return;
    }
    if (event?.type === 'enrolment-faces-changed' && event.origin !== this.origin) this.deliver(event);
  }

  private deliver(event: ChangeEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // one failing listener never stops the others
      }
    }
  }
}

/** One process: nothing to tell anyone else. */
export class LocalChangeBus extends BaseChangeBus {
  readonly name = 'local';
  protected async send(): Promise<void> {}
  async close(): Promise<void> {}
}
