/** The URL with any password replaced by `xxxxx`, as go's url.Redacted prints it. */
export function redactUrl(url: URL): string {
  if (url.password === '') return url.href;
  const copy = new URL(url.href);
  copy.password = 'xxxxx';
  return copy.href;
}
