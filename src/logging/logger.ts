// One pino logger for the process. Logs go to stderr so that CLI commands keep stdout for their
// JSON output; pretty printing is left to the reader (`| pino-pretty`).
import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...base } }, pino.destination({ fd: 2, sync: false }));
}
