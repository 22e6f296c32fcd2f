import { createHash } from 'node:crypto';
import { createWriteStream, rmSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserError } from '../errors.js';

/**
 * Downloads a URL to a file while hashing it, so verification costs no second read.
 * Uses Node's fetch (set NODE_USE_ENV_PROXY=1 on Node 24 for HTTPS_PROXY). Returns the
 * hex SHA-256 and size; the caller decides whether the file may be used.
 */
export async function downloadTo(url: string, file: string, options: { timeoutMs?: number } = {}): Promise<{ sha256: string; size: number }> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(options.timeoutMs ?? 600_000) });
  } catch (e) {
    throw new UserError(`Could not download ${url}: ${causeText(e)}`, {
      hint: 'Check the runner can reach the host, or use installer-url with a mirror',
    });
  }
  if (!response.ok || !response.body) {
    throw new UserError(`Could not download ${url}: HTTP ${response.status}`, {
      hint: response.status === 404 ? 'Check nix-version (is it a released version?) or installer-url' : 'Retry, or use a mirror with installer-url',
    });
  }
  const hash = createHash('sha256');
  let size = 0;
  const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    size += chunk.length;
  });
  try {
    await pipeline(body, createWriteStream(file, { mode: 0o600 }));
  } catch (e) {
    rmSync(file, { force: true });
    throw new UserError(`Download of ${url} was interrupted: ${causeText(e)}`, { hint: 'Retry the job' });
  }
  return { sha256: hash.digest('hex'), size };
}

export async function fetchText(url: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(60_000) });
  } catch (e) {
    throw new UserError(`Could not fetch ${url}: ${causeText(e)}`);
  }
  if (!response.ok) throw new UserError(`Could not fetch ${url}: HTTP ${response.status}`);
  return response.text();
}

function causeText(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${e.message} (${cause.message})` : e.message;
  }
  return String(e);
}
