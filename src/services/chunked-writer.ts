// Rows computed one by one, written a chunk at a time: a chunk goes out when it holds maxRows or
// when its oldest row has waited maxDelayMs, whichever comes first. A server that dies loses at
// most ~maxDelayMs of computed work, and a slow batch still writes in few statements.

export interface ChunkedWriterOptions {
  maxRows: number;
  maxDelayMs: number;
}

export class ChunkedWriter<T> {
  private rows: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly writing = new Set<Promise<void>>();

  constructor(
    private readonly write: (rows: T[]) => Promise<void>,
    private readonly opts: ChunkedWriterOptions,
  ) {}

  /** Resolves once the row is handed on: at once, or (when it fills a chunk) after that chunk is written. */
  async add(row: T): Promise<void> {
    this.rows.push(row);
    if (this.rows.length >= this.opts.maxRows) return this.flush();
    this.timer ??= setTimeout(() => void this.flush().catch(() => {}), this.opts.maxDelayMs);
  }

  /** Writes what is waiting, and waits for every write in flight; rejects with the first write's error. */
  async close(): Promise<void> {
    await this.flush();
    await Promise.all([...this.writing]);
  }

  private flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const chunk = this.rows.splice(0);
    if (chunk.length === 0) return Promise.resolve();
    const done = this.write(chunk);
    this.writing.add(done);
    // Kept until close() so that a failed timed write is not lost; removed once it succeeded.
    done.then(() => this.writing.delete(done)).catch(() => {});
    return done;
  }
}
