import { formatSize } from '../../bundle/list.js';
import type { StorageSpace } from '../../storage/space.js';
import type { StorageQuota } from '../../store/storage-quota.js';
import type { Metrics } from '../../telemetry/metrics.js';

/** A small plain answer of an operations endpoint; never cached. */
export interface OperationsAnswer {
  status: number;
  contentType: string;
  body: string;
}

const textPlain = 'text/plain; charset=utf-8';

/**
 * `GET /`: what this server is and how a go client uses it (`settings`, the lines `godepot serve` prints
 * at start, with `GOPROXY` as this client reached the server). No module data: it is answered to anyone.
 */
export function home(version: string, settings: readonly string[]): OperationsAnswer {
  const body =
    `godepot ${version}: a Go module proxy.\n\n` +
    `Use it from the go command with:\n\n${settings.map((line) => `  ${line}\n`).join('')}\n` +
    'for one command (GOPROXY=... go build ./...), or for good with go env -w.\n\n' +
    'Operations: /healthz, /readyz, /metrics.\n';
  return { status: 200, contentType: textPlain, body };
}

/** `/healthz`: the process is up and its event loop turns. */
export function healthz(): OperationsAnswer {
  return { status: 200, contentType: textPlain, body: 'ok\n' };
}

/**
 * `/readyz`: 200 while the server listens, is not shutting down and its storage answers `probe`; 503
 * with the reason otherwise (`probe`'s message, which names the storage), so a load balancer stops
 * sending traffic before the process stops serving.
 * A full storage is still ready (what it holds is served) but `degraded:`, naming it; so is one above
 * its quota's warning (storage-warning percent of max-storage), or at the quota.
 */
export async function readyz(state: { listening: boolean; closing: boolean; probe: () => Promise<void>; space?: StorageSpace; quota?: StorageQuota }): Promise<OperationsAnswer> {
  if (state.closing) return { status: 503, contentType: textPlain, body: 'not ready: shutting down\n' };
  if (!state.listening) return { status: 503, contentType: textPlain, body: 'not ready: not listening yet\n' };
  let fullSince: Date | null;
  try {
    await state.probe();
    fullSince = (await state.space?.fullSince()) ?? null;
  } catch (err) {
    return { status: 503, contentType: textPlain, body: `not ready: ${(err as Error).message}\n` };
  }
  if (fullSince !== null) {
    const body = `degraded: storage ${state.space!.root} is full since ${fullSince.toISOString()}: stored modules are served, new ones cannot be stored\n`;
    return { status: 200, contentType: textPlain, body };
  }
  const quota = state.quota?.state();
  if (quota !== undefined && (quota.warning || quota.full)) {
    const where = `storage holds ${formatSize(quota.used)} of max-storage ${formatSize(quota.limit)} (${Math.floor(quota.percent)}%)`;
    const body = quota.full
      ? `degraded: ${where}: stored modules are served, new ones are refused\n`
      : `degraded: ${where}, above storage-warning: new modules are refused at max-storage\n`;
    return { status: 200, contentType: textPlain, body };
  }
  return { status: 200, contentType: textPlain, body: 'ready\n' };
}

/** `/metrics`: the Prometheus text exposition of every godepot metric (of every worker, through `exposition`, in a cluster). */
export async function metricsText(metrics: Metrics, exposition?: () => Promise<string>): Promise<OperationsAnswer> {
  return { status: 200, contentType: metrics.registry.contentType, body: await (exposition?.() ?? metrics.registry.metrics()) };
}
