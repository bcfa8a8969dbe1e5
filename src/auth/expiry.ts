// When a new token stops working: `--expires` as a duration from now or as a point in time.
import { ConfigError } from '../errors.js';

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^([1-9][0-9]{0,5})([mhd])$/;
// RFC 3339 date-time: the offset is required (a time without one means different instants on different hosts).
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * The instant `text` names, counted from `now`: a duration (`30m`, `12h`, `90d`) or an RFC 3339 date-time
 * with an offset (`2026-01-31T18:00:00Z`). ConfigError for anything else, for a date that does not exist
 * (Feb 30), and for an instant that is not after `now`; its message begins with `label`, where the text came from.
 */
export function parseExpiry(text: string, now: Date, label = '--expires'): Date {
  const duration = DURATION.exec(text);
  if (duration !== null) {
    return new Date(now.getTime() + Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS]);
  }
  const time = RFC3339.exec(text);
  if (time === null) {
    throw new ConfigError(`${label} ${JSON.stringify(text)}: want a duration (30m, 12h, 90d) or an RFC 3339 time (2026-01-31T18:00:00Z)`);
  }
  const [, year, month, day, hour, minute, second] = time.map(Number) as number[];
  const at = new Date(text.toUpperCase());
  // Date would roll Feb 30 over into March and accept hour 24; the fields must survive the round trip.
  const fields = new Date(Date.UTC(year!, month! - 1, day!, hour!, minute!, second!));
  if (
    Number.isNaN(at.getTime()) ||
    fields.getUTCFullYear() !== year ||
    fields.getUTCMonth() !== month! - 1 ||
    fields.getUTCDate() !== day ||
    fields.getUTCHours() !== hour ||
    fields.getUTCMinutes() !== minute ||
    fields.getUTCSeconds() !== second
  ) {
    throw new ConfigError(`${label} ${JSON.stringify(text)}: no such date or time`);
  }
  if (at.getTime() <= now.getTime()) throw new ConfigError(`${label} ${JSON.stringify(text)}: that time has passed`);
  return at;
}
