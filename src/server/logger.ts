/**
 * Structured logs (pino, JSON lines) on stderr: stdout is reserved for the CLI's one `listening on …` line.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

/** `level` defaults to $LOG_LEVEL, else `info`. */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { service: 'platesearch' } }, pino.destination({ fd: 2, sync: false }));
}
