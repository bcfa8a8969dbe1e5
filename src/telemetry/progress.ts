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
  /** Writes the final line and stops redrawing. */
  finish(): void;
}

/** A Progress that reports nothing (tests, `--quiet`). */
export const silentProgress: Progress = { setTotal() {}, addBytes() {}, moduleDone() {}, finish() {} };

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

/** A Progress writing `label: done/total modules, bytes, rate` to `stream`. */
export function streamProgress(stream: NodeJS.WriteStream, label: string, now: () => number = Date.now): Progress {
  const tty = stream.isTTY === true;
  const started = now();
  let total = 0;
  let done = 0;
  let bytes = 0;
  let lastDraw = -Infinity;
  let finished = false;

  const line = (): string => {
    const seconds = Math.max((now() - started) / 1000, 0.001);
    return `${label}: ${done}/${total} modules, ${formatBytes(bytes)}, ${formatBytes(bytes / seconds)}/s`;
  };
  const draw = (force: boolean): void => {
    if (finished) return;
    const t = now();
    if (!force && t - lastDraw < (tty ? REDRAW_MS : PLAIN_EVERY_MS)) return;
    lastDraw = t;
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
    finish() {
      if (finished) return;
      stream.write(tty ? `\r\x1b[K${line()}\n` : `${line()}\n`);
      finished = true;
    },
  };
}
