import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * True when an Authorization header is `Bearer <token>`. Compared in constant time, so the answer's
 * timing says nothing about how much of a guess was right.
 */
export function bearsToken(header: string | undefined, token: string): boolean {
  return header !== undefined && timingSafeEqual(digest(header), digest(`Bearer ${token}`));
}
