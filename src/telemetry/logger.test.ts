import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { createLogger, rawLineWriter } from './logger.js';

function capture(level: 'debug' | 'info' | 'warn'): { lines: string[]; handle: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, handle: createLogger({ level, destination: { write: (line: string) => void lines.push(line) } }) };
}

test('rawLineWriter writes the very line pino writes for the same fields', () => {
  const { lines, handle } = capture('info');
  const write = rawLineWriter(handle.logger)!;
  const fields = { reqId: 'ab12-1', module: 'example.com/"quoted"\\m', status: 200, ms: 0.125, aborted: true };
  handle.logger.info(fields, 'request');
  write('info', ',"reqId":"ab12-1","module":"example.com/\\"quoted\\"\\\\m","status":200,"ms":0.125,"aborted":true', 'request');
  handle.logger.warn(fields, 'request');
  write('warn', ',"reqId":"ab12-1","module":"example.com/\\"quoted\\"\\\\m","status":200,"ms":0.125,"aborted":true', 'request');
  assert.equal(lines.length, 4);
  const strip = (line: string): string => line.replace(/"time":\d+/, '"time":0');
  assert.equal(strip(lines[1]!), strip(lines[0]!));
  assert.equal(strip(lines[3]!), strip(lines[2]!));
  assert.deepEqual(JSON.parse(lines[1]!), { ...JSON.parse(lines[0]!), time: JSON.parse(lines[1]!).time });
  assert.ok(lines[1]!.endsWith('}\n'));
});

test('rawLineWriter honours the level, and declines loggers it did not make', () => {
  const { lines, handle } = capture('warn');
  const write = rawLineWriter(handle.logger)!;
  write('info', ',"a":1', 'request');
  write('warn', ',"a":2', 'request');
  assert.equal(lines.length, 1);
  assert.equal(JSON.parse(lines[0]!).a, 2);
  assert.equal(rawLineWriter(pino({ level: 'info' })), undefined);
  assert.equal(rawLineWriter(handle.logger.child({ component: 'x' })), undefined);
});

test('stdout logging loses no line, in order, whether the process ends by itself or by process.exit after flush', async () => {
  const logger = fileURLToPath(new URL('./logger.js', import.meta.url));
  const script = (exit: boolean): string => `
    const { createLogger, rawLineWriter } = await import(${JSON.stringify(logger)});
    const { logger, flush } = createLogger({ level: 'info' });
    const write = rawLineWriter(logger);
    for (let i = 0; i < 20000; i++) {
      if (i % 2) logger.info({ i }, 'line'); else write('info', ',"i":' + i, 'line');
      if (i % 5000 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    ${exit ? 'await flush(); process.exit(3);' : ''}
  `;
  for (const exit of [false, true]) {
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script(exit)], { maxBuffer: 64 << 20 }).catch(
      (err: { code?: number; stdout: string }) => {
        assert.equal(err.code, 3);
        return { stdout: err.stdout };
      },
    );
    const numbers = stdout.trimEnd().split('\n').map((line) => (JSON.parse(line) as { i: number }).i);
    assert.equal(numbers.length, 20000, exit ? 'process.exit' : 'natural end');
    assert.ok(numbers.every((n, i) => n === i));
  }
});

test('pretty: a line to read per entry, local time and the level as a word, the request lines too', async () => {
  const logger = fileURLToPath(new URL('./logger.js', import.meta.url));
  const script = `
    const { createLogger, rawLineWriter } = await import(${JSON.stringify(logger)});
    const { logger, flush } = createLogger({ level: 'info', format: 'pretty' });
    logger.info({ storage: '/srv/godepot' }, 'listening');
    rawLineWriter(logger)('warn', ',"route":"zip","status":502', 'request');
    logger.error({ err: new Error('boom') }, 'server error');
    await flush();
  `;
  // Far from UTC, so that a time written in UTC would show.
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, TZ: 'Asia/Kolkata' } });
  const lines = stdout.split('\n');
  const time = /^\[(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3})\] /;
  assert.match(lines[0]!, new RegExp(`${time.source}INFO: listening {"storage":"/srv/godepot"}$`));
  assert.match(lines[1]!, new RegExp(`${time.source}WARN: request {"route":"zip","status":502}$`));
  assert.match(lines[2]!, new RegExp(`${time.source}ERROR: server error`));
  assert.ok(lines.slice(3).some((line) => /Error: boom/.test(line)), 'the error and its stack below the line');
  const [, day, clock] = time.exec(lines[0]!)!;
  const written = Date.parse(`${day}T${clock}+05:30`);
  assert.ok(Math.abs(Date.now() - written) < 60_000, `${lines[0]} is the local time of Asia/Kolkata`);
});
