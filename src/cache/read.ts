import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.js';
import type { Log } from '../log.js';
import type { Nix } from '../nix/index.js';
import { fetchCachixCache, networkReason } from './cachix-api.js';
import { checkCacheName, checkPublicKey, checkStoreUrl } from './validate.js';
import {
  chooseConfTarget,
  currentUser,
  isTrusted,
  readNixConfig,
  storeKind,
  verifyCacheConfig,
  writeCacheConfig,
  type CacheSettings,
  type WriteResult,
} from './nixconf.js';

/** The read side: which caches to substitute from, configured where Nix reads them, verified. */

export interface ReadRequest {
  name?: string;
  extraPullNames: string[];
  substituter?: string;
  publicKey?: string;
  authToken?: string;
  /** Cachix API base URL (CACHIX_API_URL in tests). */
  cachixApiUrl?: string;
}

export interface ConfiguredCache {
  /** Cachix name, or the URL for a generic cache. */
  label: string;
  url: string;
  keys: string[];
  private: boolean;
  /** Reachability of the cache when it was configured: 'ok' or why not. */
  reachable: string;
}

export interface ReadResult {
  caches: ConfiguredCache[];
  settings: CacheSettings;
  written?: WriteResult;
}

/** Validates the read-side inputs; throws InputError before anything is fetched or written. */
export function checkReadRequest(req: ReadRequest): void {
  if (req.name) checkCacheName('name', req.name);
  for (const n of req.extraPullNames) checkCacheName('extra-pull-names', n);
  if (req.substituter) checkStoreUrl('substituter', req.substituter);
  if (req.publicKey && !req.substituter) {
    throw new InputError('public-key', 'was given without substituter; give the URL of the cache it belongs to');
  }
  if (req.substituter && !req.publicKey) {
    throw new InputError('public-key', `is required with substituter: Nix only substitutes paths signed by a trusted key (the cache's public key, <name>:<base64>)`);
  }
  for (const k of splitKeys(req.publicKey)) checkPublicKey('public-key', k);
  if (req.authToken !== undefined && /\s/.test(req.authToken)) {
    throw new InputError('auth-token', 'contains spaces or newlines; paste the token alone');
  }
}

export const splitKeys = (keys?: string): string[] => (keys ?? '').split(/[\s,]+/).filter(Boolean);

/** Looks the caches up (Cachix API) and returns the settings, without writing anything. */
export async function resolveCaches(req: ReadRequest, log: Log): Promise<{ caches: ConfiguredCache[]; settings: CacheSettings }> {
  checkReadRequest(req);
  const caches: ConfiguredCache[] = [];
  const netrc: CacheSettings['netrc'] = [];
  const names = [...new Set([req.name, ...req.extraPullNames].filter((n): n is string => Boolean(n)))];
  for (const name of names) {
    const info = await fetchCachixCache(name, { apiUrl: req.cachixApiUrl, authToken: req.authToken });
    log.debug(`Cachix cache ${name}: ${info.uri}, ${info.isPublic ? 'public' : 'private'}`);
    caches.push({ label: name, url: info.uri, keys: info.publicSigningKeys, private: !info.isPublic, reachable: '' });
    if (!info.isPublic) netrc.push({ machine: new URL(info.uri).hostname, password: req.authToken ?? '' });
  }
  if (req.substituter) {
    caches.push({ label: req.substituter, url: req.substituter, keys: splitKeys(req.publicKey), private: false, reachable: '' });
  }
  for (const c of caches) c.reachable = await probe(c.url, netrc.find((n) => n.machine === hostOf(c.url))?.password);
  return {
    caches,
    settings: {
      substituters: caches.map((c) => c.url),
      publicKeys: [...new Set(caches.flatMap((c) => c.keys))],
      netrc,
    },
  };
}

const hostOf = (url: string) => {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
};

/**
 * Asks an HTTP(S) or file cache for its nix-cache-info. An unreachable cache is not
 * fatal (Nix falls back to building) but the user is told.
 */
export async function probe(url: string, token?: string, timeoutMs = 10000): Promise<string> {
  const u = new URL(url);
  if (u.protocol === 'file:') {
    return existsSync(join(fileURLToPath(u), 'nix-cache-info')) ? 'ok' : `no nix-cache-info in ${fileURLToPath(u)}`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'not checked';
  try {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const r = await fetch(`${url.replace(/\/+$/, '')}/nix-cache-info`, { headers, signal: AbortSignal.timeout(timeoutMs) });
    await r.body?.cancel();
    return r.ok ? 'ok' : `HTTP ${r.status} for nix-cache-info`;
  } catch (e) {
    return (e as Error).name === 'TimeoutError' ? `no answer in ${timeoutMs / 1000} s` : networkReason(e);
  }
}

/** Resolves, writes where the running Nix reads, and verifies by reading back through Nix. */
export async function configureRead(nix: Nix, req: ReadRequest, env: NodeJS.ProcessEnv, log: Log): Promise<ReadResult> {
  const { caches, settings } = await resolveCaches(req, log);
  for (const c of caches) {
    if (c.reachable !== 'ok' && c.reachable !== 'not checked') {
      log.warning(`Binary cache ${c.url} is not reachable (${c.reachable}); Nix will build what it cannot substitute`);
    }
  }
  if (caches.length === 0) return { caches, settings };
  const current = await readNixConfig(nix);
  const kind = await storeKind(nix);
  const { user, groups } = await currentUser();
  const target = chooseConfTarget({ env, kind, trusted: kind === 'local' || isTrusted(current, user, groups) });
  log.info(`Writing cache settings to ${target.file}: ${target.reason}`);
  const written = await writeCacheConfig(settings, target, current);
  await verifyCacheConfig(nix, settings, written);
  return { caches, settings, written };
}
