// The tar layer of a bundle: POSIX ustar headers with every field but the name and size fixed (regular
// file, mode 0644, uid/gid 0, empty user and group names, mtime 0), and a pax extended header carrying
// the name or size when the ustar fields cannot hold it. A name and a size have exactly one encoding,
// so a reader can check a header by encoding it again and comparing bytes.

/** Tar's unit: headers are one block, data is padded to whole blocks. */
export const TAR_BLOCK = 512;
/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE: Readonly<Buffer> = Buffer.alloc(2 * TAR_BLOCK);
const ZERO_BLOCK = Buffer.alloc(TAR_BLOCK);

const NAME_FIELD = 100;
// 11 octal digits, the most a ustar size field holds.
const MAX_USTAR_SIZE = 0o77777777777;
// The name of every pax header entry (Python's tarfile writes the same).
const PAX_NAME = '././@PaxHeader';
const REGULAR = 0x30; // '0'
const PAX = 0x78; // 'x'

function octal(value: number, digits: number): string {
  return value.toString(8).padStart(digits, '0');
}

// One ustar header block; the checksum counts the checksum field as eight spaces.
function ustarHeader(name: Buffer, size: number, typeflag: number): Buffer {
  const h = Buffer.alloc(TAR_BLOCK);
  name.copy(h, 0, 0, Math.min(name.length, NAME_FIELD));
  h.write('0000644\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(`${octal(size, 11)}\0`, 124, 'latin1');
  h.write('00000000000\0', 136, 'latin1');
  h.fill(0x20, 148, 156);
  h[156] = typeflag;
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  h.write('0000000\0', 329, 'latin1');
  h.write('0000000\0', 337, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${octal(sum, 6)}\0 `, 148, 'latin1');
  return h;
}

// A pax record "<length> <key>=<value>\n", where <length> counts the whole record, itself included.
function paxRecord(key: string, value: string): Buffer {
  const body = Buffer.from(` ${key}=${value}\n`, 'utf8');
  let length = body.length + 1;
  while (String(length).length + body.length !== length) length = String(length).length + body.length;
  return Buffer.concat([Buffer.from(String(length), 'latin1'), body]);
}

/** Zero bytes that pad `size` bytes of data to a whole number of blocks. */
export function padding(size: number): Buffer {
  return Buffer.alloc((TAR_BLOCK - (size % TAR_BLOCK)) % TAR_BLOCK);
}

/**
 * The header blocks of a regular file `name` of `size` bytes: a pax header entry when the name is longer
 * than 100 bytes or the size larger than 8 GiB - 1, then the ustar header (holding the name's first 100
 * bytes and, when pax carries the size, 0).
 */
export function encodeHeaders(name: string, size: number): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  const records: Buffer[] = [];
  if (nameBytes.length > NAME_FIELD) records.push(paxRecord('path', name));
  if (size > MAX_USTAR_SIZE) records.push(paxRecord('size', String(size)));
  const ustar = ustarHeader(nameBytes, size > MAX_USTAR_SIZE ? 0 : size, REGULAR);
  if (records.length === 0) return ustar;
  const pax = Buffer.concat(records);
  return Buffer.concat([ustarHeader(Buffer.from(PAX_NAME, 'latin1'), pax.length, PAX), pax, padding(pax.length), ustar]);
}

/** One header block as read: its type, the name (up to the first NUL) and the size field. */
export interface RawHeader {
  typeflag: 'file' | 'pax';
  name: string;
  size: number;
}

/**
 * Decodes a header block loosely, for a reader that will then compare it with encodeHeaders: null for a
 * zero block (the end of the archive), a string saying what is wrong for anything that cannot be one
 * of ours (bad checksum, not ustar, another entry type).
 */
export function decodeHeader(block: Buffer): RawHeader | null | string {
  if (block.equals(ZERO_BLOCK)) return null;
  if (block.toString('latin1', 257, 265) !== 'ustar\u000000') return 'not a POSIX ustar header';
  let sum = 0;
  for (let i = 0; i < TAR_BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  const recorded = block.toString('latin1', 148, 156);
  if (!/^[0-7]{6}\0 $/.test(recorded) || parseInt(recorded.slice(0, 6), 8) !== sum) return 'header checksum mismatch';
  const type = block[156];
  if (type !== REGULAR && type !== PAX) return `entry type ${JSON.stringify(String.fromCharCode(type ?? 0))} (only regular files are allowed)`;
  const sizeField = block.toString('latin1', 124, 136);
  if (!/^[0-7]{11}\0$/.test(sizeField)) return 'malformed size field';
  const end = block.indexOf(0, 0);
  const name = block.toString('utf8', 0, end < 0 || end > NAME_FIELD ? NAME_FIELD : end);
  return { typeflag: type === PAX ? 'pax' : 'file', name, size: parseInt(sizeField.slice(0, 11), 8) };
}

/**
 * The `path` and `size` records of pax header data; a string saying what is wrong for malformed data or
 * any other key (none of ours carries one).
 */
export function decodePax(data: Buffer): { path?: string; size?: number } | string {
  const out: { path?: string; size?: number } = {};
  for (let at = 0; at < data.length; ) {
    const space = data.indexOf(0x20, at);
    const lengthText = space < 0 ? '' : data.toString('latin1', at, space);
    if (!/^[1-9][0-9]{0,8}$/.test(lengthText)) return 'malformed pax record';
    const end = at + Number(lengthText);
    if (end > data.length || data[end - 1] !== 0x0a) return 'malformed pax record';
    const record = data.toString('utf8', space + 1, end - 1);
    const eq = record.indexOf('=');
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    if (eq < 0 || key in out) return 'malformed pax record';
    if (key === 'path') out.path = value;
    else if (key === 'size' && /^[0-9]{1,16}$/.test(value)) out.size = Number(value);
    else return `pax record ${JSON.stringify(key)} is not allowed`;
    at = end;
  }
  return out;
}
