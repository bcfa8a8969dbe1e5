/** One file of a txtar archive; `data` keeps the exact bytes (some vectors hold invalid UTF-8). */
export interface TxtarFile {
  name: string;
  data: Buffer;
}

/** A parsed txtar archive: the comment before the first marker, then the files in order (names may repeat). */
export interface Txtar {
  comment: Buffer;
  files: TxtarFile[];
}

const NL = 0x0a;

function markerName(line: Buffer): string | null {
  if (line.length < 6) return null;
  if (line.subarray(0, 3).toString('latin1') !== '-- ') return null;
  if (line.subarray(line.length - 3).toString('latin1') !== ' --') return null;
  return line.subarray(3, line.length - 3).toString('utf8').trim();
}

function withFinalNewline(data: Buffer): Buffer {
  return data.length > 0 && data[data.length - 1] !== NL ? Buffer.concat([data, Buffer.from('\n')]) : data;
}

/** Parses txtar as golang.org/x/tools/txtar does; the format has no syntax errors. */
export function parseTxtar(data: Buffer): Txtar {
  const markers: { name: string; start: number; dataStart: number }[] = [];
  let lineStart = 0;
  while (lineStart < data.length) {
    let end = data.indexOf(NL, lineStart);
    const next = end === -1 ? data.length : end + 1;
    if (end === -1) end = data.length;
    const name = markerName(data.subarray(lineStart, end));
    if (name !== null) markers.push({ name, start: lineStart, dataStart: next });
    lineStart = next;
  }
  if (markers.length === 0) return { comment: withFinalNewline(data), files: [] };
  const files = markers.map((m, i) => ({
    name: m.name,
    data: data.subarray(m.dataStart, i + 1 < markers.length ? markers[i + 1]!.start : data.length),
  }));
  const last = files[files.length - 1]!;
  last.data = withFinalNewline(last.data);
  return { comment: data.subarray(0, markers[0]!.start), files };
}
