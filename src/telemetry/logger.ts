import { isatty } from 'node:tty';
import { pino, type DestinationStream, type Logger } from 'pino';
import { isColorSupported, prettyFactory } from 'pino-pretty';

export type { Logger };

/** The log levels a configuration may name. */
export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/** How log lines are written: one JSON object per line, or a line for a person at a terminal. */
export const logFormats = ['json', 'pretty'] as const;
export type LogFormat = (typeof logFormats)[number];

/**
 * Turns pino's JSON lines into lines for a person: `[2025-03-01 14:02:03.123] WARN: msg {"key":value}`,
 * local time, the level as a word, an error's stack below its line. Colours only when `fd` is a
 * terminal that takes them (NO_COLOR and FORCE_COLOR are honoured).
 */
export function prettyLines(fd: number): (line: string) => string {
  return prettyFactory({ colorize: isatty(fd) && isColorSupported, singleLine: true, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l' });
}

/** A logger and the ways to get its last lines out before the process exits. */
export interface LoggerHandle {
  logger: Logger;
  /** Resolves once every line logged so far is written, in order: await it before a planned exit. */
  flush(): Promise<void>;
  /**
   * Writes what is still buffered, synchronously: for exits that cannot wait (a crash). Best effort:
   * a batch whose asynchronous write is still under way may end up after the lines written here.
   */
  flushSync(): void;
}

// Beyond this many bytes waiting for a stdout that does not drain, lines are dropped rather than
// letting a stuck log reader grow the heap without bound.
const maxPendingBytes = 16 * 1024 * 1024;
// Under load, lines are written at most this often (or once this many bytes wait): one write per few
// hundred requests instead of one per handful. A line logged at rest still leaves at once.
const batchMs = 10;
const batchBytes = 64 * 1024;

/**
 * Joins log lines into few writes to sonic-boom, which handles partial writes, EAGAIN and synchronous
 * flushing but costs a syscall and a measure of its whole buffer per write: fed one string per batch
 * instead of one per request, logging every request stays a small part of serving a cached file.
 */
class BatchingDestination implements DestinationStream {
  private lines: string[] = [];
  // Applied as a line is logged: a prettifier costs far more than the JSON line it reads, which is
  // why the JSON format has none and pretty output is for terminals.
  constructor(private readonly format?: (line: string) => string) {}

  private bytes = 0;
  private scheduled = false;
  private lastWrite = 0;
  // minLength 1 still writes at once, but makes sonic-boom's flush() wait for the write under way
  // (with 0 it calls back at once, and an exit right after cuts the last lines short).
  private readonly sonic = pino.destination({ dest: 1, sync: false, minLength: 1, maxLength: maxPendingBytes });

  write(json: string): void {
    const line = this.format === undefined ? json : this.format(json);
    this.lines.push(line);
    this.bytes += line.length;
    if (this.bytes >= batchBytes) {
      this.writePending();
    } else if (!this.scheduled) {
      this.scheduled = true;
      const wait = this.lastWrite + batchMs - Date.now();
      if (wait > 0) setTimeout(this.writePending, wait);
      else setImmediate(this.writePending);
    }
  }

  private readonly writePending = (): void => {
    this.scheduled = false;
    if (this.lines.length === 0) return;
    const data = this.lines.length === 1 ? this.lines[0]! : this.lines.join('');
    this.lines = [];
    this.bytes = 0;
    this.lastWrite = Date.now();
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

// Loggers made by createLogger: plain pino, whose lines rawLineWriter may write itself.
const plainLoggers = new WeakSet<Logger>();

/**
 * A pino logger writing one JSON object per line to `destination` (a stream, for tests) or to stdout
 * through a BatchingDestination, there in `format` (default json). Pretty lines are made in this
 * thread, line by line: no transport worker, and the JSON path is not touched.
 */
export function createLogger(options: { level: LogLevel; format?: LogFormat; destination?: DestinationStream }): LoggerHandle {
  // No pid/hostname on every line: one process per log stream, and each key costs on the hot path.
  const opts = { level: options.level, base: undefined };
  if (options.destination !== undefined) {
    const logger = pino(opts, options.destination);
    plainLoggers.add(logger);
    return { logger, flush: async () => undefined, flushSync: () => undefined };
  }
  const stdout = new BatchingDestination(options.format === 'pretty' ? prettyLines(1) : undefined);
  const logger = pino(opts, stdout);
  plainLoggers.add(logger);
  return {
    logger,
    // sonic-boom calls back once its in-flight write and everything queued behind it are written.
    flush: () => new Promise<void>((resolve) => stdout.flush(() => resolve())),
    flushSync: () => stdout.flushSync(),
  };
}

/** Writes one log line whose fields the caller serialized; see rawLineWriter. */
export type RawLineWriter = (level: 'info' | 'warn', fields: string, msg: string) => void;

const { lsCacheSym, timeSym, chindingsSym, endSym, streamSym } = pino.symbols;

/**
 * For the one line logged per request: a writer producing exactly the line pino would write for
 * `logger` (level, time, bindings, then `fields`, then `msg`) from fields the caller has already
 * serialized as `,"key":value…`. pino's general serializer walks every key and escapes every string
 * character by character, which costs as much as the rest of serving a cached .info. Undefined for
 * loggers not made by createLogger, which may be configured to write lines differently.
 */
export function rawLineWriter(logger: Logger): RawLineWriter | undefined {
  if (!plainLoggers.has(logger)) return undefined;
  const internals = logger as unknown as Record<symbol, unknown>;
  const levelPrefix = internals[lsCacheSym] as Record<number, string>;
  const time = internals[timeSym] as () => string;
  const stream = internals[streamSym] as DestinationStream;
  const end = internals[endSym] as string;
  const values = { info: pino.levels.values.info!, warn: pino.levels.values.warn! };
  return (level, fields, msg) => {
    if (!logger.isLevelEnabled(level)) return;
    const bindings = internals[chindingsSym] as string;
    stream.write(`${levelPrefix[values[level]]}${time()}${bindings}${fields},"msg":${JSON.stringify(msg)}${end}`);
  };
}
