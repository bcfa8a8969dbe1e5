// The certificate `godepot serve --tls-cert --tls-key` serves, read from its two files and read again
// when they change, so that a renewed certificate (certbot, a Kubernetes secret, a cron job) is served
// without a restart. A pair that does not load keeps the one in use: a renewal caught half-written, or
// a bad file, must never take the server down or leave it without a certificate.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GodepotError } from '../errors.js';
import type { Logger } from '../telemetry/logger.js';

/** Where the served certificate lives: its chain (the server's certificate first) and its private key, PEM. */
export interface CertificateFiles {
  certFile: string;
  keyFile: string;
}

/** A certificate chain and its private key, PEM, as Node's TLS takes them. */
export interface CertificatePair {
  cert: Buffer;
  key: Buffer;
}

/** A pair as read from its files and checked to belong together, with what log lines tell of it. */
export interface LoadedCertificate extends CertificatePair {
  subject: string;
  serialNumber: string;
  validTo: string;
  /** The files' identity (device, inode, size, mtime) taken before they were read: a change shows as a different value. */
  readonly stamp: string;
}

/** The certificate files cannot be served; `setting` names the file at fault. */
export class CertificateError extends GodepotError {
  readonly code = 'CERTIFICATE';
  constructor(
    /** The setting whose file is at fault. */
    readonly setting: 'tls-cert' | 'tls-key',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** Reads and checks the pair; throws CertificateError for a file that cannot be read, is not PEM, or a key that is not the certificate's. */
export async function loadCertificate(files: CertificateFiles): Promise<LoadedCertificate> {
  const { certFile, keyFile } = files;
  // Taken first: should a file change while it is read, the next look sees a stamp that differs and reads it again.
  const stamp = await stampOf(files);
  const cert = await readFile(certFile).catch((err: unknown) => {
    throw new CertificateError('tls-cert', `cannot read ${certFile}: ${(err as Error).message}`, { cause: err });
  });
  const key = await readFile(keyFile).catch((err: unknown) => {
    throw new CertificateError('tls-key', `cannot read ${keyFile}: ${(err as Error).message}`, { cause: err });
  });
  const blocks = cert.toString('latin1').match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new CertificateError('tls-cert', `no PEM certificate in ${certFile}`);
  const chain = blocks.map((pem, i) => {
    try {
      return new X509Certificate(pem);
    } catch (err) {
      throw new CertificateError('tls-cert', `certificate ${i + 1} in ${certFile} is not valid: ${(err as Error).message}`, { cause: err });
    }
  });
  const leaf = chain[0]!;
  const subject = leaf.subject.replace(/\n/g, ', ');
  let privateKey;
  try {
    privateKey = createPrivateKey({ key, format: 'pem' });
  } catch (err) {
    throw new CertificateError('tls-key', `${keyFile} is not an unencrypted PEM private key: ${(err as Error).message}`, { cause: err });
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new CertificateError('tls-key', `${keyFile} is not the private key of the certificate in ${certFile} (${subject})`);
  }
  return { cert, key, subject, serialNumber: leaf.serialNumber, validTo: leaf.validTo, stamp };
}

async function stampOf(files: CertificateFiles): Promise<string> {
  const one = async (file: string): Promise<string> => {
    try {
      // stat follows symbolic links: a link swapped to a new target changes the stamp.
      const s = await stat(file, { bigint: true });
      return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}`;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code ?? 'unreadable';
    }
  };
  return `${await one(files.certFile)} ${await one(files.keyFile)}`;
}

/** What a CertificateWatcher watches, and what it does with a new pair. */
export interface CertificateWatcherOptions {
  files: CertificateFiles;
  /** The pair in service, as loadCertificate read it. */
  loaded: LoadedCertificate;
  /** Puts a new pair in service for new connections; should it throw, the old one stays. */
  apply(certificate: CertificatePair): void;
  logger: Logger;
  /** How often the files are looked at whatever fs.watch says, for file systems it hears nothing from (NFS, some mounts). Default 10 s. */
  pollMs?: number;
  /** How long changes are let settle before the files are read: a certificate and its key are written one after the other. Default 250 ms. */
  settleMs?: number;
}

/**
 * Serves the certificate files anew when they change: fs.watch on their folders, a look every pollMs
 * in case it misses something, or reload() (SIGHUP). Every event in a folder only makes the files be
 * stat'ed; they are read when their stamp differs from the last one seen, and a pair is read once
 * however often it is seen, so a bad pair is logged once, not at every look.
 */
export class CertificateWatcher {
  private readonly options: CertificateWatcherOptions;
  private stamp: string;
  private queue: Promise<void> = Promise.resolve();
  private settle: NodeJS.Timeout | undefined;
  private readonly poll: NodeJS.Timeout;
  private readonly watchers: FSWatcher[] = [];

  constructor(options: CertificateWatcherOptions) {
    this.options = options;
    this.stamp = options.loaded.stamp;
    const { certFile, keyFile } = options.files;
    // The folders, not the files: renewals replace files (a rename, a swapped symbolic link such as a
    // Kubernetes secret's ..data), and a watch on a file follows the inode that is gone.
    for (const dir of new Set([dirname(certFile), dirname(keyFile)])) {
      try {
        const watcher = watch(dir, { persistent: false }, () => this.changed());
        // A folder that goes away, or a watch limit reached: the periodic look still sees changes.
        watcher.on('error', (err) => {
          options.logger.warn({ err, dir }, 'certificate folder no longer watched; its files are still looked at periodically');
          watcher.close();
        });
        this.watchers.push(watcher);
      } catch (err) {
        options.logger.warn({ err, dir }, 'certificate folder cannot be watched; its files are looked at periodically');
      }
    }
    this.poll = setInterval(() => void this.check('changed', false), options.pollMs ?? 10_000).unref();
  }

  /** Reads the files again, changed or not, and serves them if they load; resolves with whether they were put in service. */
  reload(reason: string): Promise<boolean> {
    return this.check(reason, true);
  }

  /** Stops watching. */
  close(): void {
    clearInterval(this.poll);
    clearTimeout(this.settle);
    for (const watcher of this.watchers) watcher.close();
  }

  private changed(): void {
    clearTimeout(this.settle);
    this.settle = setTimeout(() => void this.check('changed', false), this.options.settleMs ?? 250).unref();
  }

  // One look at a time, in order: two reads of the same change must not race to apply.
  private check(reason: string, force: boolean): Promise<boolean> {
    const result = this.queue.then(() => this.look(reason, force));
    this.queue = result.then(() => undefined);
    return result;
  }

  private async look(reason: string, force: boolean): Promise<boolean> {
    const { files, logger } = this.options;
    const stamp = await stampOf(files);
    if (!force && stamp === this.stamp) return false;
    // Kept even when the files fail to load: the same bad files are not read and logged again at every look.
    this.stamp = stamp;
    let certificate: LoadedCertificate;
    try {
      certificate = await loadCertificate(files);
      this.options.apply(certificate);
    } catch (err) {
      logger.error({ reason, ...files, error: (err as Error).message }, 'certificate not reloaded: still serving the previous one');
      return false;
    }
    const { subject, serialNumber, validTo } = certificate;
    logger.info({ reason, ...files, subject, serialNumber, validTo }, 'certificate reloaded');
    return true;
  }
}
