import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { crc32, deflateRawSync } from 'node:zlib';

/** One entry of a hand-made zip; every field can lie, which is the point. */
export interface RawEntry {
  name: string | Buffer;
  data?: string | Buffer;
  deflate?: boolean;
  /** The uncompressed size to declare, when it should lie. */
  declaredSize?: number;
  crc?: number;
  /** Unix mode for the external attributes, e.g. 0o120777 for a symbolic link. */
  mode?: number;
}

/**
 * Writes a zip with exactly these entries, names byte for byte and no directory entries: what go's
 * zip_test.go builds with archive/zip, and the malicious zips no honest writer (yazl included) produces.
 * `directoryOrder` lists the entries' indexes in the order the central directory gives them.
 */
export async function writeRawZip(path: string, entries: RawEntry[], options: { directoryOrder?: number[] } = {}): Promise<void> {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const data = Buffer.from(e.data ?? '');
    const body = e.deflate === true ? deflateRawSync(data) : data;
    const crc = e.crc ?? crc32(data);
    const size = e.declaredSize ?? data.length;
    const method = e.deflate === true ? 8 : 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x800, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0x21, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(0x0314, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(0x800, 8);
    cd.writeUInt16LE(method, 10);
    cd.writeUInt16LE(0x21, 14);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(body.length, 20);
    cd.writeUInt32LE(size, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(((e.mode ?? 0o100644) << 16) >>> 0, 38);
    cd.writeUInt32LE(offset, 42);
    parts.push(local, name, body);
    central.push(cd, name);
    offset += local.length + name.length + body.length;
  }
  // The central directory may list the entries in another order than the file holds them.
  const order = options.directoryOrder ?? entries.map((_, i) => i);
  const directory = Buffer.concat(order.flatMap((i) => central.slice(2 * i, 2 * i + 2)));
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  await writeFile(path, Buffer.concat([...parts, directory, end]));
}

/**
 * How a zip of many entries records their count: as go's archive/zip writes it (a zip64 end record once
 * there are 65535 entries or more, the plain one saying "see zip64"), or in the plain end record alone,
 * truncated to 16 bits, as some writers do and go's reader accepts.
 */
export type EndRecordStyle = 'go' | 'truncated';

const LOCAL_SIZE = 30;
const CENTRAL_SIZE = 46;
const ONE_BYTE_CRCS = Array.from({ length: 256 }, (_, b) => crc32(Buffer.from([b])));

/** The name of file `i` of manyFileZip: `d<dir>/f<i>` zero-padded, so names sort as their numbers do. */
export function manyFileName(i: number): string {
  return `d${String(Math.floor(i / 1024)).padStart(4, '0')}/f${String(i).padStart(7, '0')}`;
}

/**
 * A stored zip of `count` one-byte files `${prefix}${manyFileName(i)}`, file i holding the byte i % 256:
 * a legal module zip (with no go.mod) of as many entries as wanted, written quickly. A million entries
 * make about 150 MB.
 */
export function manyFileZip(prefix: string, count: number, style: EndRecordStyle = 'go'): Buffer {
  const prefixBytes = Buffer.from(prefix, 'latin1');
  const nameLength = prefixBytes.length + manyFileName(0).length;
  if (manyFileName(count - 1).length + prefixBytes.length !== nameLength) throw new Error('too many files for fixed-width names');
  const localTotal = count * (LOCAL_SIZE + nameLength + 1);
  const centralTotal = count * (CENTRAL_SIZE + nameLength);
  const zip64 = style === 'go' && count >= 0xffff;
  const zip = Buffer.alloc(localTotal + centralTotal + (zip64 ? 56 + 20 : 0) + 22);
  let local = 0;
  let central = localTotal;
  for (let i = 0; i < count; i++) {
    const byte = i & 0xff;
    const crc = ONE_BYTE_CRCS[byte]!;
    const name = manyFileName(i);
    zip.writeUInt32LE(0x04034b50, local);
    zip.writeUInt16LE(10, local + 4);
    zip.writeUInt32LE(crc, local + 14);
    zip.writeUInt32LE(1, local + 18);
    zip.writeUInt32LE(1, local + 22);
    zip.writeUInt16LE(nameLength, local + 26);
    prefixBytes.copy(zip, local + LOCAL_SIZE);
    zip.write(name, local + LOCAL_SIZE + prefixBytes.length, 'latin1');
    zip[local + LOCAL_SIZE + nameLength] = byte;
    zip.writeUInt32LE(0x02014b50, central);
    zip.writeUInt16LE(0x0314, central + 4);
    zip.writeUInt16LE(10, central + 6);
    zip.writeUInt32LE(crc, central + 16);
    zip.writeUInt32LE(1, central + 20);
    zip.writeUInt32LE(1, central + 24);
    zip.writeUInt16LE(nameLength, central + 28);
    zip.writeUInt32LE((0o100644 << 16) >>> 0, central + 38);
    zip.writeUInt32LE(local, central + 42);
    prefixBytes.copy(zip, central + CENTRAL_SIZE);
    zip.write(name, central + CENTRAL_SIZE + prefixBytes.length, 'latin1');
    local += LOCAL_SIZE + nameLength + 1;
    central += CENTRAL_SIZE + nameLength;
  }
  let end = central;
  if (zip64) {
    zip.writeUInt32LE(0x06064b50, end);
    zip.writeBigUInt64LE(44n, end + 4);
    zip.writeUInt16LE(45, end + 12);
    zip.writeUInt16LE(45, end + 14);
    zip.writeBigUInt64LE(BigInt(count), end + 24);
    zip.writeBigUInt64LE(BigInt(count), end + 32);
    zip.writeBigUInt64LE(BigInt(centralTotal), end + 40);
    zip.writeBigUInt64LE(BigInt(localTotal), end + 48);
    zip.writeUInt32LE(0x07064b50, end + 56);
    zip.writeBigUInt64LE(BigInt(central), end + 56 + 8);
    zip.writeUInt32LE(1, end + 56 + 16);
    end += 56 + 20;
  }
  zip.writeUInt32LE(0x06054b50, end);
  zip.writeUInt16LE(zip64 ? 0xffff : count & 0xffff, end + 8);
  zip.writeUInt16LE(zip64 ? 0xffff : count & 0xffff, end + 10);
  zip.writeUInt32LE(zip64 ? 0xffffffff : centralTotal, end + 12);
  zip.writeUInt32LE(zip64 ? 0xffffffff : localTotal, end + 16);
  return zip;
}

/**
 * The h1: go computes for manyFileZip(prefix, count), worked out from the names and bytes alone (go's
 * dirhash: SHA-256 over "<hex SHA-256>  <name>\n" lines in name order, which is file order here).
 */
export function manyFileZipH1(prefix: string, count: number): string {
  const digests = Array.from({ length: 256 }, (_, b) => createHash('sha256').update(Buffer.from([b])).digest('hex'));
  const summary = createHash('sha256');
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    lines.push(`${digests[i & 0xff]!}  ${prefix}${manyFileName(i)}\n`);
    if (lines.length === 8192) summary.update(lines.splice(0).join(''));
  }
  summary.update(lines.join(''));
  return 'h1:' + summary.digest('base64');
}

/** Flips a byte of the first entry's data in the zip `file`, as a bad disk sector would; returns the damaged bytes. */
export async function flipZipDataByte(file: string): Promise<Buffer> {
  const zip = await readFile(file);
  // The data follows the 30-byte local header, the name and the extra field.
  zip[30 + zip.readUInt16LE(26) + zip.readUInt16LE(28) + 1]! ^= 0x55;
  await writeFile(file, zip);
  return zip;
}
