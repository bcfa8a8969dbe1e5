// What the commands print for people: aligned columns and local times.

/**
 * `rows` (the first one the header) as lines of columns two spaces apart, each padded to its widest
 * cell; the columns in `right` aligned right (numbers), the last one left unpadded.
 */
export function table(rows: readonly (readonly string[])[], right: ReadonlySet<number> = new Set()): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const cell = (text: string, i: number, last: boolean): string => (right.has(i) ? text.padStart(widths[i]!) : last ? text : text.padEnd(widths[i]!));
  return rows.map((row) => `${row.map((text, i) => cell(text, i, i === row.length - 1)).join('  ')}\n`).join('');
}

/** An RFC 3339 time as `YYYY-MM-DD HH:MM` in this host's time zone. */
export function localTime(iso: string): string {
  const t = new Date(iso);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${t.getFullYear()}-${two(t.getMonth() + 1)}-${two(t.getDate())} ${two(t.getHours())}:${two(t.getMinutes())}`;
}
