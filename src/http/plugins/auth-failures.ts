// Wrong API keys counted per client address (docs/api.md "Keys and roles"): past `max` in one
// window the address gets 429 until the window ends, whatever key it sends, so a guesser
// learns nothing more from the answers. The table is bounded: expired windows are dropped, and
// when it is full the oldest window goes first (a flood of addresses cannot grow memory).

export interface FailureLimits {
  max: number;
  windowS: number;
}

interface Window {
  startedAt: number;
  failures: number;
}

const MAX_ADDRESSES = 10_000;

export class AuthFailures {
  /** Insertion order is window start order: a new window is always re-inserted at the end. */
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly limits: FailureLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until the address may try again; 0 when it is not blocked. */
  blockedFor(address: string): number {
    const w = this.current(address);
    if (!w || w.failures < this.limits.max) return 0;
    return Math.max(1, Math.ceil((w.startedAt + this.limits.windowS * 1000 - this.now()) / 1000));
  }

  /** One more wrong key from the address. */
  fail(address: string): void {
    const w = this.current(address);
    if (w) {
      w.failures += 1;
      return;
    }
    this.prune();
    this.windows.set(address, { startedAt: this.now(), failures: 1 });
  }

  private current(address: string): Window | undefined {
    const w = this.windows.get(address);
    if (w && this.now() - w.startedAt >= this.limits.windowS * 1000) {
      this.windows.delete(address);
      return undefined;
    }
    return w;
  }

  private prune(): void {
    if (this.windows.size < MAX_ADDRESSES) return;
    const cutoff = this.now() - this.limits.windowS * 1000;
    for (const [address, w] of this.windows) if (w.startedAt <= cutoff) this.windows.delete(address);
    while (this.windows.size >= MAX_ADDRESSES) this.windows.delete(this.windows.keys().next().value!);
  }
}
