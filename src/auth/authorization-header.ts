// Reading a token out of an Authorization header: `Bearer <token>`, or `Basic base64(user:token)` as
// go sends credentials from .netrc or GOAUTH (any user name; the password is the token). Strict, and
// bounded before any work, so that a huge or odd header costs no more than a good one; errors never
// quote the header.
import { CredentialsRefusedError } from './errors.js';

// A Basic header of a 64-character token and a user name of up to ~200 characters fits.
const MAX_HEADER_LENGTH = 384;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const malformed = (): CredentialsRefusedError =>
  new CredentialsRefusedError('the Authorization header is not "Bearer <token>" nor "Basic <base64 of user:token>"');

/** The token `authorization` carries; CredentialsRefusedError for anything but a well-formed Bearer or Basic header. */
export function tokenOfAuthorization(authorization: string): string {
  if (authorization.length > MAX_HEADER_LENGTH) throw malformed();
  const space = authorization.indexOf(' ');
  if (space === -1) throw malformed();
  // Schemes are case-insensitive (RFC 9110 11.1); one space separates the credentials.
  const scheme = authorization.slice(0, space).toLowerCase();
  const credentials = authorization.slice(space + 1);
  if (credentials === '' || credentials.includes(' ')) throw malformed();
  if (scheme === 'bearer') return credentials;
  if (scheme !== 'basic') throw malformed();
  if (credentials.length % 4 !== 0 || !BASE64.test(credentials)) throw malformed();
  const decoded = Buffer.from(credentials, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) throw malformed();
  return decoded.slice(colon + 1);
}
