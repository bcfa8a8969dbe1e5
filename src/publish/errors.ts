// Why a module version is not published. Each is thrown by the checks both sides of `godepot publish`
// make (the client before it uploads, the server before it stores) and answered once, in
// server/errors.ts; the client prints the message.
import { GodepotError } from '../errors.js';

/** The module version cannot be published as given: a version invalid for the path, a zip that breaks go's rules, a go.mod naming another module. */
export class PublishRefusedError extends GodepotError {
  readonly code = 'PUBLISH_REFUSED';
}

/** An uploaded zip longer than a module zip may be (go's 500 MiB); it was cut off while it arrived. */
export class PublishTooLargeError extends GodepotError {
  readonly code = 'PUBLISH_TOO_LARGE';
}

/** The version is published already with other content (or recorded so in the checksum database): published versions never change. */
export class PublishConflictError extends GodepotError {
  readonly code = 'PUBLISH_CONFLICT';
}
