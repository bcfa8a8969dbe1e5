// /admin/storage/…: `storage ls`, `du` and `rm` over HTTP, for admins (the gate decides that before).
// A pattern-scoped admin (admin:PATTERN) sees and removes only the modules its pattern covers. A
// removal is on the audit record before it is answered, as `storage rm` on a folder does.
import type { Audit } from '../../audit/audit.js';
import { NotFoundError } from '../../errors.js';
import { matchPrefixPatterns } from '../../module/patterns.js';
import type { StoreAdministration } from '../../store/store-admin.js';
import type { Admitted } from '../gate.js';
import type { OperationsAnswer } from './operations.js';

/** A storage route as request.ts parsed it. */
export type StorageAction =
  | { action: 'versions'; pattern: string | null }
  | { action: 'usage'; by: 'module' | 'origin'; pattern: string | null }
  | { action: 'remove'; modulePath: string; version: string };

/**
 * The storage routes of one server: `versions` → 200 `{"versions":[StoredVersionSummary…]}`, `usage`
 * → 200 StoreUsage, both of the module paths `sees` accepts (and `pattern` matches); `remove` → 200
 * Removal. NotFoundError when the server offers no storage administration or the version is not stored.
 */
export function storageRoute(
  administration: StoreAdministration | undefined,
  audit: Audit,
): (target: StorageAction, admitted: Admitted, sees: (modulePath: string) => boolean) => Promise<OperationsAnswer> {
  return async (target, admitted, sees) => {
    if (administration === undefined) throw new NotFoundError('storage administration is not enabled on this server');
    if (target.action === 'remove') {
      const removal = await administration.remove(target.modulePath, target.version, { actor: admitted.principal.name, from: admitted.address }, audit);
      return answer(removal);
    }
    const { pattern } = target;
    const include = (modulePath: string): boolean => sees(modulePath) && (pattern === null || matchPrefixPatterns(pattern, modulePath));
    if (target.action === 'versions') return answer({ versions: await administration.versions(include) });
    return answer(await administration.usage(target.by, include));
  };
}

function answer(body: unknown): OperationsAnswer {
  return { status: 200, contentType: 'application/json', body: `${JSON.stringify(body)}\n` };
}
