// What a module version must be to be published, checked the same way by `godepot publish` before it
// uploads and by the server before it stores: go's rules for the version and the zip, and a go.mod that
// names the module it is published as, so that go, which reads the module path from the go.mod it
// downloads, never finds a module under a name it does not declare.
import { GodepotError, InvalidContentError } from '../errors.js';
import { inspectZip, type InspectedZip } from '../depot/verify.js';
import { parseGoModLax } from '../module/gomod.js';
import { isPseudoVersion } from '../module/version.js';
import { ZipError } from '../module/ziperror.js';
import { checkCanonical } from '../protocol/request.js';
import { PublishRefusedError } from './errors.js';

/**
 * Throws PublishRefusedError unless `version` may be published as `modulePath`: a canonical version
 * valid for the path (its major version suffix, go's `+incompatible` rules) and not a pseudo-version,
 * which names a commit of a repository rather than a release.
 */
export function checkPublishable(modulePath: string, version: string): void {
  try {
    checkCanonical(modulePath, version);
  } catch (err) {
    if (!(err instanceof GodepotError)) throw err;
    throw new PublishRefusedError(`${modulePath}@${version} cannot be published: ${err.message}`, { cause: err });
  }
  if (isPseudoVersion(version)) {
    throw new PublishRefusedError(`${modulePath}@${version} cannot be published: a pseudo-version names a commit, not a release; publish a tagged version`);
  }
}

/**
 * Checks the module zip in `zipFile` as the depot checks a fetched one (inspectZip: go's zip rules, every
 * entry's data) and its go.mod (or the one go makes up when it has none): it must parse and declare
 * `modulePath`. Returns the zip's `h1:` and that go.mod. Throws PublishRefusedError saying what is wrong.
 */
export async function inspectPublishedZip(modulePath: string, version: string, zipFile: string): Promise<InspectedZip> {
  let inspected: InspectedZip;
  try {
    inspected = await inspectZip(modulePath, version, zipFile);
  } catch (err) {
    if (!(err instanceof InvalidContentError)) throw err;
    // The depot's message speaks of a zip from an origin; the zip rule it broke is what matters here.
    const reason = err.cause instanceof ZipError ? err.cause.message : err.message;
    throw new PublishRefusedError(`${modulePath}@${version}: not a valid module zip: ${reason}`, { cause: err });
  }
  let declared: string | undefined;
  try {
    declared = parseGoModLax('go.mod', inspected.goMod).module?.mod.path;
  } catch (err) {
    if (!(err instanceof GodepotError)) throw err;
    throw new PublishRefusedError(`${modulePath}@${version}: its go.mod does not parse: ${err.message}`, { cause: err });
  }
  if (declared !== modulePath) {
    const says = declared === undefined ? 'has no module line' : `declares module ${JSON.stringify(declared)}`;
    throw new PublishRefusedError(`${modulePath}@${version}: its go.mod ${says}, not ${JSON.stringify(modulePath)}`);
  }
  return inspected;
}
