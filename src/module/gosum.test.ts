import assert from 'node:assert/strict';
import test from 'node:test';
import { ChecksumMismatchError, formatGoSum, GoSum, GoSumSyntaxError, parseGoSum, type GoSumLine } from './gosum.js';

// Written by go 1.19 (`go mod tidy`, then `go get example.com/a@v1.10.0 example.com/a/v2@v2.0.0`) against a
// file:// proxy of zips made by godepot: the order is go's own.
const goWritten = `example.com/Upper v1.0.0 h1:W0o6u4DChhLvTkMbvdjtmefrbN5nEks6nxz2owAnaBg=
example.com/Upper v1.0.0/go.mod h1:uQ6Qx9j7dm81XjRP7UyccZtGIONAciH5sRuo5WEINt4=
example.com/a v1.0.0/go.mod h1:zmAAEKYOJls/YuOGNOp6WockgZUEzT6OLskIog130As=
example.com/a v1.10.0-rc.1 h1:AmA6Nf0Fd1px3KdfTcJamdRcgOl8zkJboXlO6NUy4Gw=
example.com/a v1.10.0-rc.1/go.mod h1:zmAAEKYOJls/YuOGNOp6WockgZUEzT6OLskIog130As=
example.com/a v1.10.0 h1:h3ItFfb1XgLKgBU11Ro4hmpD0c1LMb2xVIdYYW7SvHs=
example.com/a v1.10.0/go.mod h1:zmAAEKYOJls/YuOGNOp6WockgZUEzT6OLskIog130As=
example.com/a/v2 v2.0.0 h1:q6bILEXHhGNBE8gl/SikJe9hVYWEsFV+sNTf/VvpNTE=
example.com/a/v2 v2.0.0/go.mod h1:nqt8OTzEyQfXqiK0Sn0OX8aRF3o2nlYB4RItXYbFAew=
example.com/b v0.1.0 h1:Hc6QKScqfyiRVoNlqmHRHCMTjVOxAxWGxxlhnat9NIY=
example.com/b v0.1.0/go.mod h1:P+KVdYXRnubetXMyVo55YfuIrYFBhxHv2QRliLIaZvo=
example.com/c v0.0.0-20200101000000-abcdefabcdef h1:qZe/UJOVH2Ezpr4VsQZ5crzu2JkEBkLCPRDe7U0TxYk=
example.com/c v0.0.0-20200101000000-abcdefabcdef/go.mod h1:WGlYOnB3uAK6TgyC25Vfpn8Nm8Ej6dfUu8TuoWqMc0I=
`;

test('parse then format reproduces a go.sum go wrote, whatever the input order', () => {
  const lines = parseGoSum(goWritten).lines();
  assert.equal(lines.length, 13);
  assert.equal(formatGoSum(lines), goWritten);
  const scrambled = [...lines].reverse();
  scrambled.push(lines[3]!, lines[0]!);
  assert.equal(formatGoSum(scrambled), goWritten);
  assert.equal(parseGoSum(Buffer.from(goWritten)).format(), goWritten);
});

test('formatGoSum orders versions by semver and /go.mod after its zip line', () => {
  const l = (version: string, hash = 'h1:x'): GoSumLine => ({ path: 'example.com/m', version, hash });
  const out = formatGoSum([l('v1.10.0'), l('v1.2.0/go.mod'), l('v1.2.0'), l('v1.2.0-pre'), l('v0.0.0-20200101000000-abcdefabcdef'), l('v1.2.0', 'h1:a'), l('v1.2.0', 'h2:z')]);
  assert.equal(
    out,
    [
      'example.com/m v0.0.0-20200101000000-abcdefabcdef h1:x',
      'example.com/m v1.2.0-pre h1:x',
      'example.com/m v1.2.0 h1:a',
      'example.com/m v1.2.0 h1:x',
      'example.com/m v1.2.0 h2:z',
      'example.com/m v1.2.0/go.mod h1:x',
      'example.com/m v1.10.0 h1:x',
      '',
    ].join('\n'),
  );
});

test('lookup returns the h1 of the zip and of the go.mod', () => {
  const sum = parseGoSum(goWritten);
  assert.deepEqual(sum.lookup('example.com/b', 'v0.1.0'), {
    h1: 'h1:Hc6QKScqfyiRVoNlqmHRHCMTjVOxAxWGxxlhnat9NIY=',
    goModH1: 'h1:P+KVdYXRnubetXMyVo55YfuIrYFBhxHv2QRliLIaZvo=',
  });
  assert.deepEqual(sum.lookup('example.com/a', 'v1.0.0'), { goModH1: 'h1:zmAAEKYOJls/YuOGNOp6WockgZUEzT6OLskIog130As=' });
  assert.deepEqual(sum.lookup('example.com/nope', 'v1.0.0'), {});
});

test('verify accepts the recorded hash and reports an unrecorded one as absent', () => {
  const sum = parseGoSum(goWritten);
  assert.equal(sum.verifyZip('example.com/b', 'v0.1.0', 'h1:Hc6QKScqfyiRVoNlqmHRHCMTjVOxAxWGxxlhnat9NIY='), true);
  assert.equal(sum.verifyGoMod('example.com/b', 'v0.1.0', 'h1:P+KVdYXRnubetXMyVo55YfuIrYFBhxHv2QRliLIaZvo='), true);
  // Only the go.mod hash of example.com/a v1.0.0 is recorded: its zip is not.
  assert.equal(sum.verifyZip('example.com/a', 'v1.0.0', 'h1:anything'), false);
});

test('a mismatch reads exactly as go 1.19 printed it', () => {
  const sum = parseGoSum(goWritten.replace('example.com/a v1.10.0 h1:h3It', 'example.com/a v1.10.0 h1:XXXX'));
  assert.throws(
    () => sum.verifyZip('example.com/a', 'v1.10.0', 'h1:h3ItFfb1XgLKgBU11Ro4hmpD0c1LMb2xVIdYYW7SvHs='),
    (err: unknown) => {
      assert.ok(err instanceof ChecksumMismatchError);
      assert.equal(err.code, 'CHECKSUM_MISMATCH');
      assert.equal(err.recorded, 'h1:XXXXFfb1XgLKgBU11Ro4hmpD0c1LMb2xVIdYYW7SvHs=');
      assert.equal(
        err.message,
        'verifying example.com/a@v1.10.0: checksum mismatch\n' +
          '\tdownloaded: h1:h3ItFfb1XgLKgBU11Ro4hmpD0c1LMb2xVIdYYW7SvHs=\n' +
          '\tgo.sum:     h1:XXXXFfb1XgLKgBU11Ro4hmpD0c1LMb2xVIdYYW7SvHs=\n' +
          '\n' +
          'SECURITY ERROR\n' +
          'This download does NOT match an earlier download recorded in go.sum.\n' +
          'The bits may have been replaced on the origin server, or an attacker may\n' +
          'have intercepted the download attempt.\n' +
          '\n' +
          "For more information, see 'go help module-auth'.\n",
      );
      return true;
    },
  );
  const goMod = parseGoSum('example.com/b v0.1.0/go.mod h1:YYYY\n');
  assert.throws(() => goMod.verifyGoMod('example.com/b', 'v0.1.0', 'h1:P+KV'), (err: unknown) => {
    assert.ok(err instanceof ChecksumMismatchError);
    assert.match(err.message, /^verifying example\.com\/b@v0\.1\.0\/go\.mod: checksum mismatch\n\tdownloaded: h1:P\+KV\n\tgo\.sum:     h1:YYYY\n/);
    return true;
  });
});

test('hashes of unknown kinds are kept but never checked, as go does', () => {
  const sum = parseGoSum('example.com/b v0.1.0 h2:abc\nexample.com/b v0.1.0 h1:good\n');
  assert.equal(sum.verifyZip('example.com/b', 'v0.1.0', 'h1:good'), true);
  assert.equal(parseGoSum('example.com/b v0.1.0 h2:abc\n').verifyZip('example.com/b', 'v0.1.0', 'h1:new'), false);
  assert.equal(sum.format(), 'example.com/b v0.1.0 h1:good\nexample.com/b v0.1.0 h2:abc\n');
});

test('an h1 line that differs comes first and wins, even when a later one matches', () => {
  const sum = parseGoSum('example.com/b v0.1.0 h1:old\nexample.com/b v0.1.0 h1:new\n');
  assert.throws(() => sum.verifyZip('example.com/b', 'v0.1.0', 'h1:new'), ChecksumMismatchError);
  assert.equal(sum.verifyZip('example.com/b', 'v0.1.0', 'h1:old'), true);
});

test('parseGoSum skips blank lines, splits on go whitespace and drops the old empty-go.mod hash', () => {
  const sum = parseGoSum(
    '\n  \t\r\nexample.com/m\u00a0v1.0.0\u0085h1:x\r\nexample.com/n v1.0.0/go.mod h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=\n',
  );
  assert.deepEqual(sum.lines(), [{ path: 'example.com/m', version: 'v1.0.0', hash: 'h1:x' }]);
  // U+FEFF is space to JavaScript's \s but not to go.
  assert.throws(() => parseGoSum('a\ufeffb c\n'), GoSumSyntaxError);
});

test('a malformed line is a GoSumSyntaxError with go’s text and the line number', () => {
  assert.throws(
    () => parseGoSum('example.com/m v1.0.0 h1:x\n\nthis line is malformed\n', 'sub/go.sum'),
    (err: unknown) => {
      assert.ok(err instanceof GoSumSyntaxError);
      assert.equal(err.code, 'GOSUM_SYNTAX');
      assert.equal(err.line, 3);
      assert.equal(err.message, 'malformed go.sum:\nsub/go.sum:3: wrong number of fields 4');
      return true;
    },
  );
  assert.throws(() => parseGoSum('a b'), /go\.sum:1: wrong number of fields 2$/);
});

test('GoSum.add keeps duplicates in file order and format drops them', () => {
  const sum = new GoSum();
  sum.add({ path: 'b', version: 'v1.0.0', hash: 'h1:1' });
  sum.add({ path: 'a', version: 'v1.0.0', hash: 'h1:2' });
  sum.add({ path: 'b', version: 'v1.0.0', hash: 'h1:1' });
  assert.equal(sum.lines().length, 3);
  assert.equal(sum.format(), 'a v1.0.0 h1:2\nb v1.0.0 h1:1\n');
});

test('fuzz: random lines parse or fail with GoSumSyntaxError, and formatting is a fixed point', () => {
  let seed = 20240611;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const pieces = ['example.com/m', 'v1.0.0', 'v1.0.0/go.mod', 'h1:abc=', 'h2:z', ' ', '\t', '\n', '\r\n', '\u00a0', '\u3000', 'x', '', '#', 'v2', '\ufeff', '\ud800'];
  for (let i = 0; i < 500; i++) {
    let text = '';
    const n = random(30);
    for (let j = 0; j < n; j++) text += pieces[random(pieces.length)];
    let sum: GoSum;
    try {
      sum = parseGoSum(text);
    } catch (err) {
      assert.ok(err instanceof GoSumSyntaxError, `unexpected ${String(err)} for ${JSON.stringify(text)}`);
      continue;
    }
    const formatted = sum.format();
    assert.equal(parseGoSum(formatted).format(), formatted);
  }
});
