import { randomBytes } from 'node:crypto';
import type { Log } from '../log.js';

/**
 * Runs `fn` with workflow commands turned off. A build log is untrusted text: a
 * derivation that prints `::add-mask::`, `::error::` or `::stop-commands::` must
 * not steer the runner. The runner ignores every `::command::` between
 * `::stop-commands::<token>` and `::<token>::`, and the token is unguessable.
 */
export async function withCommandsStopped<T>(log: Log, fn: () => Promise<T>): Promise<T> {
  const token = randomBytes(16).toString('hex');
  log.info(`::stop-commands::${token}`);
  try {
    return await fn();
  } finally {
    log.info(`::${token}::`);
  }
}

/**
 * Quotes untrusted program output for places that are printed outside
 * withCommandsStopped (an error's detail): the runner trims leading blanks before
 * looking for `::`, so each line gets a visible prefix instead.
 */
export function quoteLog(text: string): string {
  return text
    .split('\n')
    .map((l) => `| ${l}`)
    .join('\n');
}
