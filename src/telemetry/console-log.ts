import { pino } from 'pino';
import { upstreamRetryMessage } from '../http/upstream-client.js';
import { prettyLines, type LogFormat, type LoggerHandle } from './logger.js';

/** Where a command's log goes (see consoleLogger). */
export interface ConsoleLogOptions {
  format: LogFormat;
  /** Writes whole lines to stderr without tearing a progress line (Progress.note). */
  write(text: string): void;
  /** Told of each retried upstream request and why (Progress.retried); the request is not logged. */
  retried(reason: string): void;
}

/**
 * The warn-level log of a command that prints its own results (bundle create, mirror): each line on
 * stderr as `format` says, pretty unless JSON was asked for, so raw JSON never lands among the command's
 * output by default; a retried request becomes a count on the progress line, not a line each.
 */
export function consoleLogger(options: ConsoleLogOptions): LoggerHandle {
  const pretty = options.format === 'pretty' ? prettyLines(2) : undefined;
  const destination = {
    write(line: string): void {
      // A command logs a few lines a minute at warn level: parsing each again costs nothing.
      const entry = JSON.parse(line) as { msg?: unknown; err?: unknown };
      if (entry.msg === upstreamRetryMessage) {
        options.retried(String(entry.err ?? 'unknown failure').split('\n', 1)[0]!);
        return;
      }
      options.write(pretty === undefined ? line : pretty(line));
    },
  };
  const logger = pino({ level: 'warn', base: undefined }, destination);
  return { logger, flush: async () => undefined, flushSync: () => undefined };
}
