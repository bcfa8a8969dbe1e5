// The failures of the audit log. An audit log that cannot be appended to safely is reported, never worked
// around by chaining onto bytes nobody can vouch for.
import { GodepotError } from '../errors.js';

/**
 * The audit log cannot be written or read as one: its last line is not a line godepot wrote, its lock
 * could not be taken in time, or it was closed. The message names the file (and the line, when one is to blame).
 */
export class AuditLogError extends GodepotError {
  readonly code = 'AUDIT_LOG';
}
