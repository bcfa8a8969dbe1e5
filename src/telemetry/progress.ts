// Progress of a long fetch, on stderr: one line redrawn in place on a terminal, plain lines now and
// then otherwise (a CI log must not fill with carriage returns, nor stay silent for minutes).

/** What a fetch reports as it goes. */
export interface Progress {
  /** The number of modules to fetch is known (or grew). */
  setTotal(modules: number): void;
  /** Bytes arrived for a module still under way. */
  addBytes(bytes: number): void;
  /** One more module is done. */
  moduleDone(): void;
  /** A request failed and is tried again, for `reason`: counted on the progress line, with the last reason. */
  retried(reason: string): void;
  /** Writes `text` (whole lines) where it does not tear the progress line. */
  note(text: string): void;
  /** Writes the final line and stops redrawing. */
  finish(): void;
}

/** A Progress that reports nothing (tests, `--quiet`). */
export const silentProgress: Progress = { setTotal() {}, addBytes() {}, moduleDone() {}, retried() {}, note() {}, finish() {} };

const REDRAW_MS = 100;
const PLAIN_EVERY_MS = 5000;

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/**
 * A Progress writing `label: done/total modules, bytes, rate` to `stream`, followed once requests were
 * retried by `, N retries (last: reason)`: one line however many retries, not a line each.
 */
export function streamProgress(stream: NodeJS.WriteStream, label: string, now: () => number = Date.now): Progress {
  const tty = stream.isTTY === true;
  const started = now();
  let total = 0;
  let done = 0;
  let bytes = 0;
  let retries = 0;
  let lastReason = '';
  let lastDraw = -Infinity;
  let drawn = false;
  let finished = false;

  const line = (): string => {
    const seconds = Math.max((now() - started) / 1000, 0.001);
    const text = `${label}: ${done}/${total} modules, ${formatBytes(bytes)}, ${formatBytes(bytes / seconds)}/s`;
    if (retries === 0) return text;
    const withRetries = `${text}, ${retries} ${retries === 1 ? 'retry' : 'retries'} (last: ${lastReason})`;
    // A line wider than the terminal wraps, and the carriage return then redraws only its last row.
    const width = tty ? stream.columns : undefined;
    return width !== undefined && width > 1 && withRetries.length > width - 1 ? `${withRetries.slice(0, width - 2)}…` : withRetries;
  };
  const draw = (force: boolean): void => {
    if (finished) return;
    const t = now();
    if (!force && t - lastDraw < (tty ? REDRAW_MS : PLAIN_EVERY_MS)) return;
    lastDraw = t;
    drawn = true;
    stream.write(tty ? `\r\x1b[K${line()}` : `${line()}\n`);
  };

  return {
    setTotal(modules) {
      total = modules;
      draw(false);
    },
    addBytes(n) {
      bytes += n;
      draw(false);
    },
    moduleDone() {
      done++;
      draw(false);
    },
    retried(reason) {
      retries++;
      lastReason = reason;
      draw(false);
    },
    note(text) {
      // On a terminal the progress line is taken down, the text written, and the line drawn again below it.
      if (!tty || finished || !drawn) stream.write(text);
      else stream.write(`\r\x1b[K${text}${line()}`);
    },
    finish() {
      if (finished) return;
      stream.write(tty ? `\r\x1b[K${line()}\n` : `${line()}\n`);
      finished = true;
    },
  };
}
