// Go prints at most 8 lines of 81 bytes of an error body (cmd/go/internal/web).
const MAX_DETAIL_LINES = 8;
const MAX_DETAIL_BYTES = MAX_DETAIL_LINES * 81;

/**
 * The detail go would print from an error response body: only plain UTF-8 text without control
 * characters, up to the first blank line, at most 8 lines of 81 bytes. Empty when there is none.
 */
export function errorDetail(contentType: string | undefined, body: Buffer): string {
  const [mediaType = '', ...params] = (contentType ?? '').split(';').map((p) => p.trim().toLowerCase());
  if (mediaType !== 'text/plain') return '';
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '') ?? '';
  if (!['', 'us-ascii', 'utf-8'].includes(charset)) return '';
  const text = new TextDecoder('utf-8', { fatal: false }).decode(body);
  if (text.includes('\uFFFD') || /[^\P{C}\s]/u.test(text)) return '';
  let detail = '';
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') break;
    if (i > 0) detail += '\n\t';
    if (i >= MAX_DETAIL_LINES) return detail + '[Truncated: too many lines.]';
    if (Buffer.byteLength(detail) + Buffer.byteLength(line) > MAX_DETAIL_BYTES) return detail + '[Truncated: too long.]';
    detail += line;
  }
  return detail;
}
