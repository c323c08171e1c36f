// Durations as every answer and log line reports them: milliseconds to two decimals.

export const roundMs = (ms: number): number => Math.round(ms * 100) / 100;

/** Milliseconds since a performance.now() reading, rounded. */
export const msSince = (started: number): number => roundMs(performance.now() - started);
