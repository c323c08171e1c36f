// One run() call as the pool tracks it. Like piscina's TaskInfo.done(), it settles exactly once:
// the first resolve/reject wins, and settling clears its timer and its abort listener.
import type { ErrorType, FaceembedError } from '../../errors.js';

export type JobOutcome = 'ok' | ErrorType;

export interface Deferred<T> {
  readonly promise: Promise<T>;
  readonly settled: boolean;
  /** Both are no-ops once settled. */
  resolve(value: T): void;
  reject(err: unknown): void;
}

/** Promise.withResolvers() (Node 22) plus a settled flag. */
export function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => {};
  let reject: (err: unknown) => void = () => {};
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const d = {
    promise,
    settled: false,
    resolve: (value: T) => {
      if (d.settled) return;
      d.settled = true;
      resolve(value);
    },
    reject: (err: unknown) => {
      if (d.settled) return;
      d.settled = true;
      reject(err);
    },
  };
  return d;
}

export class PoolJob<Req, Res> {
  readonly queuedAt = performance.now();
  /** When the first attempt started. */
  startedAt: number | undefined;
  /** Dispatches so far; a crash is retried only while this is 1. */
  attempts = 0;
  private readonly outcome = deferred<Res>();
  private timer: NodeJS.Timeout | undefined;
  private settled = false;
  private readonly abortListener: (() => void) | undefined;

  constructor(
    readonly id: number,
    readonly task: Req,
    readonly fields: Record<string, unknown>,
    private readonly signal: AbortSignal | undefined,
    onAbort: (job: PoolJob<Req, Res>) => void,
    private readonly onSettled: (job: PoolJob<Req, Res>, outcome: JobOutcome) => void,
  ) {
    if (signal) {
      this.abortListener = () => onAbort(this);
      signal.addEventListener('abort', this.abortListener, { once: true });
    }
  }

  get promise(): Promise<Res> {
    return this.outcome.promise;
  }

  get isSettled(): boolean {
    return this.settled;
  }

  get abortReason(): unknown {
    return this.signal?.reason;
  }

  /** Arms the per-attempt timeout (replacing any earlier one). */
  startTimer(ms: number, onTimeout: () => void): void {
    this.stopTimer();
    this.timer = setTimeout(onTimeout, ms);
  }

  stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  resolve(output: Res): void {
    if (this.finish('ok')) this.outcome.resolve(output);
  }

  reject(err: FaceembedError): void {
    if (this.finish(err.type)) this.outcome.reject(err);
  }

  private finish(outcome: JobOutcome): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.stopTimer();
    if (this.abortListener) this.signal?.removeEventListener('abort', this.abortListener);
    this.onSettled(this, outcome);
    return true;
  }
}
