import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** The log levels a configuration may name. */
export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/** A logger and the way to get its last lines out before the process exits. */
export interface LoggerHandle {
  logger: Logger;
  /** Writes whatever is still buffered, synchronously: call it before process.exit. */
  flushSync(): void;
}

// Beyond this many bytes waiting for a stdout that does not drain, lines are dropped rather than
// letting a stuck log reader grow the heap without bound.
const maxPendingBytes = 16 * 1024 * 1024;

/**
 * Joins the lines logged during one turn of the event loop into one write to sonic-boom. sonic-boom
 * handles partial writes, EAGAIN and synchronous flushing, but measures its whole pending buffer on
 * every write; fed one string per turn instead of one per request, a request line costs about a third
 * less, and a line still leaves within the turn it was logged in.
 */
class BatchingDestination implements DestinationStream {
  private lines: string[] = [];
  private scheduled = false;
  private readonly sonic = pino.destination({ dest: 1, sync: false, maxLength: maxPendingBytes });

  write(line: string): void {
    this.lines.push(line);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.writePending);
    }
  }

  private readonly writePending = (): void => {
    this.scheduled = false;
    if (this.lines.length === 0) return;
    const data = this.lines.length === 1 ? this.lines[0]! : this.lines.join('');
    this.lines = [];
    this.sonic.write(data);
  };

  /** pino's logger.flush(): hands everything to sonic-boom, calls back once it is written. */
  flush(callback?: (err?: Error) => void): void {
    this.writePending();
    this.sonic.flush(callback ?? (() => undefined));
  }

  flushSync(): void {
    this.writePending();
    // It throws when stdout cannot take the bytes now (a full pipe, a closed reader); at exit, losing the
    // tail of the log is better than crashing the shutdown.
    try {
      this.sonic.flushSync();
    } catch {
      return;
    }
  }
}

/**
 * A pino logger writing one JSON object per line to `destination` (a stream, for tests) or to stdout
 * through a BatchingDestination, so that logging every request stays a small part of serving it.
 */
export function createLogger(options: { level: LogLevel; destination?: DestinationStream }): LoggerHandle {
  // No pid/hostname on every line: one process per log stream, and each key costs on the hot path.
  const opts = { level: options.level, base: undefined };
  if (options.destination !== undefined) {
    return { logger: pino(opts, options.destination), flushSync: () => undefined };
  }
  const stdout = new BatchingDestination();
  return { logger: pino(opts, stdout), flushSync: () => stdout.flushSync() };
}
