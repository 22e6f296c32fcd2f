import { UserError } from '../errors.js';
import { checkPublicKey, checkStoreUrl } from './validate.js';

/**
 * The one call this action makes to the Cachix HTTP API: the cache's description,
 * `GET <api>/api/v1/cache/<name>`, which `cachix use` reads too. Kept thin so tests
 * can stand a recording server in for app.cachix.org (CACHIX_API_URL).
 */
export const DEFAULT_CACHIX_API = 'https://app.cachix.org';

export interface CachixCache {
  name: string;
  /** The binary cache URL, e.g. https://<name>.cachix.org */
  uri: string;
  publicSigningKeys: string[];
  isPublic: boolean;
}

export async function fetchCachixCache(
  name: string,
  options: { apiUrl?: string; authToken?: string; timeoutMs?: number } = {},
): Promise<CachixCache> {
  const base = (options.apiUrl || DEFAULT_CACHIX_API).replace(/\/+$/, '');
  const url = `${base}/api/v1/cache/${encodeURIComponent(name)}`;
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'vig-os/nix-actions cachix' };
  if (options.authToken) headers.authorization = `Bearer ${options.authToken}`;
  let response: Response;
  try {
    response = await fetch(url, { headers, signal: AbortSignal.timeout(options.timeoutMs ?? 30000) });
  } catch (e) {
    const why = networkReason(e);
    throw new UserError(`Could not reach the Cachix API at ${base} to look up cache '${name}' (${why})`, {
      hint: 'Check the network, or use substituter + public-key to configure the cache without the API',
    });
  }
  if (response.status === 401 || response.status === 403 || response.status === 404) {
    // Cachix answers 404 for a private cache when the token is missing or lacks access.
    throw new UserError(
      `Cachix cache '${name}' was not found, or is private and ${options.authToken ? 'the auth-token has no access to it' : 'no auth-token was given'} (HTTP ${response.status})`,
      { hint: options.authToken ? 'Check the cache name and the token' : 'Check the cache name; for a private cache pass auth-token' },
    );
  }
  if (!response.ok) {
    throw new UserError(`The Cachix API answered HTTP ${response.status} for cache '${name}'`, {
      hint: 'Retry later; https://status.cachix.org shows outages',
    });
  }
  let body: any;
  try {
    body = await response.json();
  } catch {
    throw new UserError(`The Cachix API answered for cache '${name}' with something that is not JSON`);
  }
  return parseCachixCache(name, body);
}

/** A short reason for a failed fetch: the system error code (ECONNREFUSED, ENOTFOUND...) when there is one. */
export function networkReason(e: unknown): string {
  const err = e as any;
  if (err?.name === 'TimeoutError') return 'timed out';
  const cause = err?.cause;
  return String(cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? err?.message ?? err);
}

/** Checks the API's answer as strictly as an input: it goes into nix.conf. */
export function parseCachixCache(name: string, body: any): CachixCache {
  const keys = body?.publicSigningKeys;
  if (typeof body?.uri !== 'string' || !Array.isArray(keys) || typeof body?.isPublic !== 'boolean') {
    throw new UserError(`The Cachix API's description of cache '${name}' lacks uri, publicSigningKeys or isPublic`);
  }
  const where = `Cachix API (cache ${name})`;
  return {
    name,
    uri: checkStoreUrl(where, body.uri, ['https:', 'http:']),
    publicSigningKeys: keys.map((k: unknown) => checkPublicKey(where, String(k))),
    isPublic: body.isPublic,
  };
}
