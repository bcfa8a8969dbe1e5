// The shorthand tokens `serve --import-token` and `--publish-token` name on the command line, from before
// the token file existed: each stands for a token with one role on the whole server, by the name of its
// setting. They are checked before the token file, in constant time; the file's tokens otherwise.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { TokenVerifier } from './access-control.js';
import { TokenPrincipal } from './principal.js';
import type { Role } from './access.js';

/** A token given as a setting: the secret itself, and the role it grants on every module and the server. */
export interface StaticToken {
  /** The setting's name (`import-token`), which logs and the audit record show. */
  name: string;
  token: string;
  role: Role;
}

// Digests are compared, not the texts: equal lengths for timingSafeEqual, and no time told by a prefix.
const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** True when `presented` is `secret`, compared in constant time. */
export function sameSecret(presented: string, secret: string): boolean {
  return timingSafeEqual(digest(presented), digest(secret));
}

/** A TokenVerifier that knows `tokens` besides those `others` verifies. */
export function withStaticTokens(others: TokenVerifier, tokens: readonly StaticToken[]): TokenVerifier {
  if (tokens.length === 0) return others;
  const known = tokens.map((t) => ({ digest: digest(t.token), principal: new TokenPrincipal(t.name, [{ role: t.role, pattern: undefined }], null) }));
  return {
    verify(token: string): TokenPrincipal {
      const presented = digest(token);
      for (const k of known) if (timingSafeEqual(presented, k.digest)) return k.principal;
      return others.verify(token);
    },
    get generation() {
      return others.generation;
    },
  };
}
