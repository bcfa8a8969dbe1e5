import assert from 'node:assert/strict';
import { test } from 'node:test';
import { upstreamRetryMessage } from '../http/upstream-client.js';
import { consoleLogger } from './console-log.js';

function run(format: 'json' | 'pretty'): { written: string[]; retries: string[] } {
  const written: string[] = [];
  const retries: string[] = [];
  const { logger } = consoleLogger({ format, write: (text) => void written.push(text), retried: (reason) => void retries.push(reason) });
  logger.info('not shown: a command logs warnings and worse');
  logger.warn({ origin: 'http://127.0.0.1:1', path: 'x/@v/list', attempt: 1, err: 'reading http://127.0.0.1:1/x/@v/list: 503\n\tserver response: busy' }, upstreamRetryMessage);
  logger.warn({ origin: 'http://127.0.0.1:1' }, 'upstream considered down');
  return { written, retries };
}

test('pretty by default: a line to read per warning; a retry becomes its first line, told to the progress', () => {
  const { written, retries } = run('pretty');
  assert.deepEqual(retries, ['reading http://127.0.0.1:1/x/@v/list: 503']);
  assert.equal(written.length, 1);
  assert.match(written[0]!, /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] WARN: upstream considered down \{"origin":"http:\/\/127\.0\.0\.1:1"\}\n$/);
});

test('json when asked: the log lines as pino writes them, retries still counted rather than written', () => {
  const { written, retries } = run('json');
  assert.equal(retries.length, 1);
  assert.equal(written.length, 1);
  assert.deepEqual({ ...JSON.parse(written[0]!), time: 0 }, { level: 40, time: 0, origin: 'http://127.0.0.1:1', msg: 'upstream considered down' });
});
