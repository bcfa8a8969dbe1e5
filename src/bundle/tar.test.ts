import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TAR_BLOCK, decodeHeader, decodePax, encodeHeaders, padding } from './tar.js';

describe('tar headers', () => {
  it('writes one ustar block for a short name, with every field fixed but name and size', () => {
    const h = encodeHeaders('example.com/m/@v/v1.0.0.mod', 1234);
    assert.equal(h.length, TAR_BLOCK);
    assert.deepEqual(decodeHeader(h), { typeflag: 'file', name: 'example.com/m/@v/v1.0.0.mod', size: 1234 });
    assert.equal(h.toString('latin1', 100, 108), '0000644\0');
    assert.equal(h.toString('latin1', 108, 124), '0000000\u00000000000\0');
    assert.equal(h.toString('latin1', 124, 136), '00000002322\0');
    assert.equal(h.toString('latin1', 136, 148), '00000000000\0');
    assert.equal(h.toString('latin1', 257, 265), 'ustar\u000000');
    assert.ok(h.subarray(265, 329).every((b) => b === 0), 'empty user and group names');
  });

  it('carries names over 100 bytes in a pax record, for every record length around the digit boundaries', () => {
    for (let length = 80; length <= 1100; length += 1) {
      const name = `example.com/${'a'.repeat(length - 'example.com/'.length)}`;
      const h = encodeHeaders(name, 5);
      if (length <= 100) {
        assert.equal(h.length, TAR_BLOCK);
        continue;
      }
      const pax = decodeHeader(h.subarray(0, TAR_BLOCK));
      assert.ok(pax !== null && typeof pax !== 'string' && pax.typeflag === 'pax');
      const data = h.subarray(TAR_BLOCK, TAR_BLOCK + pax.size);
      assert.deepEqual(decodePax(data), { path: name }, `length ${length}`);
      const file = decodeHeader(h.subarray(h.length - TAR_BLOCK));
      assert.ok(file !== null && typeof file !== 'string');
      assert.equal(file.size, 5);
      assert.equal(file.name, name.slice(0, 100));
      assert.equal(h.length, TAR_BLOCK + pax.size + padding(pax.size).length + TAR_BLOCK);
    }
  });

  it('carries a size over 8 GiB - 1 in a pax record', () => {
    const h = encodeHeaders('big.zip', 2 ** 33 + 5);
    const pax = decodeHeader(h.subarray(0, TAR_BLOCK));
    assert.ok(pax !== null && typeof pax !== 'string');
    assert.deepEqual(decodePax(h.subarray(TAR_BLOCK, TAR_BLOCK + pax.size)), { size: 2 ** 33 + 5 });
    assert.deepEqual(decodeHeader(h.subarray(h.length - TAR_BLOCK)), { typeflag: 'file', name: 'big.zip', size: 0 });
  });

  it('refuses headers that cannot be ours', () => {
    const good = encodeHeaders('a.mod', 1);
    const withByte = (at: number, value: number): Buffer => {
      const b = Buffer.from(good);
      b[at] = value;
      return b;
    };
    assert.equal(decodeHeader(Buffer.alloc(TAR_BLOCK)), null);
    assert.match(String(decodeHeader(withByte(0, 0x62))), /checksum mismatch/);
    assert.match(String(decodeHeader(withByte(257, 0x58))), /not a POSIX ustar header/);
    // A symbolic link with a correct checksum.
    const link = withByte(156, 0x32);
    link.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of link) sum += b;
    link.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    assert.match(String(decodeHeader(link)), /only regular files/);
  });

  it('refuses malformed pax data and keys of no bundle', () => {
    assert.match(String(decodePax(Buffer.from('13 path=abc\n'))), /malformed/);
    assert.match(String(decodePax(Buffer.from('11 path=abc'))), /malformed/);
    assert.match(String(decodePax(Buffer.from('13 uname=abc\n'))), /not allowed/);
    assert.match(String(decodePax(Buffer.from('12 path=abc\n12 path=abd\n'))), /malformed/);
  });
});
