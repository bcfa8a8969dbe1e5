// Who acts from a command line, as the audit log records it.
import { userInfo } from 'node:os';

/** The operator at this host's command line, by the name the system knows them by: actor `cli:<user>`, from `cli`. */
export function cliOperator(env: Readonly<Record<string, string | undefined>>): { actor: string; from: string } {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    // A uid without a passwd entry (some containers).
    user = env.USER ?? String(process.getuid?.() ?? 'unknown');
  }
  return { actor: `cli:${user}`, from: 'cli' };
}
