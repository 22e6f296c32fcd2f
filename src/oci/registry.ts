import { Readable } from 'node:stream';
import { UserError } from '../errors.js';
import type { Log } from '../log.js';
import { basicAuth, parseChallenge, type Challenge } from './auth.js';
import { sha256 } from './digest.js';
import { send, NetworkError, type HttpResponse } from './http.js';
import { MANIFEST_ACCEPT } from './media.js';

/**
 * A client for the OCI distribution API: the subset a push needs. Auth follows
 * the registry's 401 challenge (bearer token from its realm, as ghcr.io does, or
 * basic). Every request is retried with backoff on 5xx, 429 and dropped
 * connections; blob uploads resume from the offset the registry reports where
 * the upload session survived, and restart where it did not.
 */
export interface RegistryOptions {
  /** host[:port], e.g. ghcr.io or 127.0.0.1:5000 */
  host: string;
  /** Plain HTTP: only for loopback hosts, and only when asked. */
  plainHttp?: boolean;
  username?: string;
  password?: string;
  /** Called with every token the registry hands out, before it can reach a log. */
  onSecret?: (secret: string) => void;
  log: Log;
  /** Attempts after the first one for a failing request (default 5). */
  retries?: number;
  /** First backoff delay in ms, doubled each retry (default 500). */
  backoffMs?: number;
  /** Idle time before a request counts as dropped (default 120 s). */
  timeoutMs?: number;
  /** Blobs up to this size go in one PUT; larger ones in resumable PATCHes (default 8 MiB). */
  monolithicMax?: number;
  /** Chunk size for blobs read from a stream that cannot be re-read (default 32 MiB). */
  chunkSize?: number;
}

export interface BlobRef {
  digest: string;
  size: number;
}

/** Bytes to upload: re-readable from any offset, or a one-shot stream. */
export type BlobBody = { open(start: number): Readable } | { stream: Readable };

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(:\d+)?$/i;
const HOST_RE = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;
const REPO_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

export function checkRepository(repo: string): string {
  if (!REPO_RE.test(repo) || repo.length > 255) {
    throw new UserError(`'${clip(repo)}' is not a valid repository name`, {
      hint: 'Use lower-case path components of letters, digits and . _ - separated by /, e.g. owner/image',
    });
  }
  return repo;
}

function clip(s: string): string {
  const one = s.replace(/[\r\n]+/g, ' ');
  return one.length > 80 ? `${one.slice(0, 77)}...` : one;
}

class Retryable extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** The registry no longer knows an upload session (it cancels one whose PATCH broke off). */
class SessionLost extends Retryable {}

const sessionGone = (res: HttpResponse) => res.status === 404 || (res.status === 400 && /BLOB_UPLOAD_(INVALID|UNKNOWN)/.test(registryMessage(res)));

/** An upload session the registry dropped while reading a one-shot stream: the caller may replay the stream. */
export class UploadLost extends UserError {
  constructor(host: string, digest: string) {
    super(`the upload of ${digest} to ${host} was lost mid-stream and cannot resume`, { hint: 'Re-run the job; the registry dropped the upload session' });
    this.name = 'UploadLost';
  }
}

/** The registry's own words from an error document, e.g. `DENIED: permission_denied`. */
export function registryMessage(res: HttpResponse): string {
  try {
    const doc = JSON.parse(res.body.toString('utf8')) as { errors?: { code?: string; message?: string }[] };
    const e = doc.errors?.[0];
    if (e) return clip([e.code, e.message].filter(Boolean).join(': '));
  } catch {
    /* not JSON */
  }
  return clip(res.body.toString('utf8').trim().slice(0, 200));
}

export class Registry {
  readonly host: string;
  readonly base: string;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly timeoutMs: number;
  readonly monolithicMax: number;
  readonly chunkSize: number;
  private challenge?: Challenge;
  private readonly tokens = new Map<string, { token: string; expires: number }>();
  /** The basic credentials header, when any were given (masked at once: a registry may echo it). */
  private readonly basic?: string;
  /** Counts retries, so a summary can say how bumpy the push was. */
  retried = 0;

  constructor(private readonly opts: RegistryOptions) {
    const host = opts.host.replace(/\/+$/, '');
    if (!HOST_RE.test(host)) {
      throw new UserError(`'${clip(opts.host)}' is not a registry host`, { hint: 'Give host[:port] only, e.g. ghcr.io, without a scheme or path' });
    }
    if (opts.plainHttp && !isLoopback(host)) {
      throw new UserError(`plain HTTP is only allowed for a loopback registry, not ${host}`, {
        hint: 'Remove plain-http, or use a registry on 127.0.0.1, localhost or [::1]',
      });
    }
    this.host = host;
    this.base = `${opts.plainHttp ? 'http' : 'https'}://${host}`;
    this.retries = opts.retries ?? 5;
    this.backoffMs = opts.backoffMs ?? 500;
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.monolithicMax = opts.monolithicMax ?? 8 * 1024 * 1024;
    this.chunkSize = opts.chunkSize ?? 32 * 1024 * 1024;
    if (opts.username || opts.password) {
      this.basic = basicAuth(opts.username ?? '', opts.password ?? '');
      opts.onSecret?.(this.basic.slice('Basic '.length));
    }
  }

  /**
   * Where a Location header (upload session, redirect) points. A registry may hand
   * an upload to another host, but never down from HTTPS to HTTP, and plain HTTP
   * only ever on loopback.
   */
  location(value: string, what: string): URL {
    return resolveLocation(this.base, value, `${this.host} (${what})`);
  }

  /** Credentials go to the registry's own origin only: a storage host it redirects to gets none. */
  private ownOrigin(url: URL): boolean {
    return url.origin === new URL(this.base).origin;
  }

  private scopes(repo: string, from?: string): string[] {
    const s = [`repository:${repo}:pull,push`];
    if (from && from !== repo) s.push(`repository:${from}:pull`);
    return s;
  }

  private async backoff(attempt: number, why: string, retryAfterMs?: number): Promise<void> {
    this.retried++;
    const exp = this.backoffMs * 2 ** Math.min(attempt, 6);
    const ms = Math.min(retryAfterMs ?? exp * (0.5 + Math.random() / 2), 30_000);
    this.opts.log.info(`Retrying in ${(ms / 1000).toFixed(1)} s (attempt ${attempt + 2} of ${this.retries + 1}): ${why}`);
    await new Promise((r) => setTimeout(r, ms));
  }

  private async authorization(scopes: string[]): Promise<Record<string, string>> {
    const c = this.challenge;
    if (!c) return {};
    if (c.scheme === 'basic') return this.basic ? { Authorization: this.basic } : {};
    const key = scopes.join(' ');
    const cached = this.tokens.get(key);
    if (cached && cached.expires > Date.now()) return { Authorization: `Bearer ${cached.token}` };
    return { Authorization: `Bearer ${await this.fetchToken(c, scopes)}` };
  }

  private async fetchToken(c: Challenge, scopes: string[]): Promise<string> {
    const realm = c.params.realm;
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new UserError(`${this.host} sent a bearer challenge without a usable realm (${clip(String(realm))})`);
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.host))) {
      throw new UserError(`${this.host} asks for credentials at ${url.origin}, which is not HTTPS`, { hint: 'Refusing to send a password in clear text' });
    }
    if (c.params.service) url.searchParams.set('service', c.params.service);
    for (const s of scopes) url.searchParams.append('scope', s);
    const headers: Record<string, string> = { 'User-Agent': 'vig-os-nix-actions-publish' };
    if (this.basic) headers.Authorization = this.basic;
    for (let attempt = 0; ; attempt++) {
      let res: HttpResponse;
      try {
        res = await send('GET', url, headers, undefined, this.timeoutMs);
      } catch (e) {
        if (attempt < this.retries) {
          await this.backoff(attempt, `token request: ${(e as Error).message}`);
          continue;
        }
        throw new UserError(`could not get a token from ${url.origin}: ${(e as Error).message}`);
      }
      if (res.status === 401 || res.status === 403) {
        throw new UserError(`the token service ${url.origin} refused the credentials for ${scopes.join(' ')} (HTTP ${res.status})`, {
          hint: this.credentialsHint(),
        });
      }
      if ((res.status >= 500 || res.status === 429) && attempt < this.retries) {
        await this.backoff(attempt, `token request: HTTP ${res.status}`);
        continue;
      }
      if (res.status !== 200) throw new UserError(`the token service ${url.origin} answered HTTP ${res.status}: ${registryMessage(res)}`);
      let doc: { token?: string; access_token?: string; expires_in?: number };
      try {
        doc = JSON.parse(res.body.toString('utf8'));
      } catch {
        throw new UserError(`the token service ${url.origin} did not answer with JSON`);
      }
      const token = doc.token ?? doc.access_token;
      if (!token) throw new UserError(`the token service ${url.origin} answered without a token`);
      this.opts.onSecret?.(token);
      const life = Math.max(10, (doc.expires_in ?? 60) - 10) * 1000;
      this.tokens.set(scopes.join(' '), { token, expires: Date.now() + life });
      return token;
    }
  }

  private credentialsHint(): string {
    const who = this.opts.username ? `user '${this.opts.username}'` : 'no user name';
    const ghcr = this.host === 'ghcr.io' ? "the job needs 'permissions: packages: write' and the package must grant this repository write access; " : '';
    return `Pushing needs write access to the package (${ghcr}check 'username' (${who}) and 'password')`;
  }

  private denied(res: HttpResponse, what: string): UserError {
    const msg = registryMessage(res);
    const permission = this.host === 'ghcr.io' ? 'packages: write' : 'push access';
    return new UserError(`${this.host} refused to ${what} (HTTP ${res.status}${msg ? `, ${msg}` : ''}): the credentials lack ${permission}`, {
      hint: this.credentialsHint(),
    });
  }

  url(path: string): URL {
    return new URL(path, this.base);
  }

  /**
   * One request with auth and retries. `body` is a factory so a retry can send the
   * bytes again. Returns any non-retryable response for the caller to judge.
   */
  async request(
    method: string,
    target: string | URL,
    o: { scopes: string[]; what: string; headers?: Record<string, string>; body?: Buffer | (() => Readable); once?: boolean },
  ): Promise<HttpResponse> {
    const url = typeof target === 'string' ? this.url(target) : target;
    const own = this.ownOrigin(url);
    let reauthed = false;
    for (let attempt = 0; ; ) {
      const auth = own ? await this.authorization(o.scopes) : {};
      const headers: Record<string, string> = { 'User-Agent': 'vig-os-nix-actions-publish', ...o.headers, ...auth };
      let res: HttpResponse;
      try {
        const body = typeof o.body === 'function' ? o.body() : o.body;
        if (Buffer.isBuffer(body)) headers['Content-Length'] = String(body.length);
        else if (body === undefined && (method === 'PUT' || method === 'POST' || method === 'PATCH')) headers['Content-Length'] = '0';
        res = await send(method, url, headers, body, this.timeoutMs);
      } catch (e) {
        if (!(e instanceof NetworkError)) throw e;
        if (o.once) throw new Retryable(`${o.what}: ${e.message}`);
        if (attempt < this.retries) {
          await this.backoff(attempt++, `${o.what}: ${e.message}`);
          continue;
        }
        throw new UserError(`could not ${o.what} on ${this.host} after ${this.retries + 1} attempts: ${e.message}`, {
          hint: 'The registry or the network kept failing; re-run the job, and check the registry status',
        });
      }
      if (res.status === 401 && !reauthed && own) {
        const c = parseChallenge(res.headers['www-authenticate'] as string | undefined);
        if (c) {
          reauthed = true;
          this.challenge = c;
          this.tokens.delete(o.scopes.join(' '));
          continue; // a 401 means nothing was stored, so the body can be sent again
        }
      }
      if (res.status === 401 || res.status === 403) throw this.denied(res, o.what);
      if (res.status >= 500 || res.status === 429) {
        const ra = Number(res.headers['retry-after']);
        const why = `${o.what}: HTTP ${res.status}${registryMessage(res) ? ` ${registryMessage(res)}` : ''}`;
        if (o.once) throw new Retryable(why, Number.isFinite(ra) && ra > 0 ? ra * 1000 : undefined);
        if (attempt < this.retries) {
          await this.backoff(attempt++, why, Number.isFinite(ra) && ra > 0 ? ra * 1000 : undefined);
          continue;
        }
        throw new UserError(`could not ${o.what} on ${this.host}: HTTP ${res.status} after ${this.retries + 1} attempts`, {
          hint: 'The registry kept failing; re-run the job, and check the registry status',
        });
      }
      return res;
    }
  }

  private unexpected(res: HttpResponse, what: string): UserError {
    const msg = registryMessage(res);
    if (/DIGEST_INVALID/.test(msg)) {
      return new UserError(`${this.host} rejected a blob whose bytes do not match its digest (${what})`, {
        hint: 'The image changed while it was pushed, or a stream script is not deterministic; rebuild and push again',
      });
    }
    return new UserError(`could not ${what} on ${this.host}: HTTP ${res.status}${msg ? ` ${msg}` : ''}`);
  }

  /** Checks the registry answers the v2 API, authenticating once for the repository. */
  async ping(repo: string): Promise<void> {
    const scopes = this.scopes(repo);
    const res = await this.request('GET', '/v2/', { scopes, what: 'reach the registry API' });
    if (res.status !== 200) throw this.unexpected(res, 'reach the registry API');
    // Prime a bearer token for the push scope now, so no upload body is sent twice for auth.
    if (this.challenge?.scheme === 'bearer') await this.authorization(scopes);
  }

  async hasBlob(repo: string, digest: string): Promise<boolean> {
    const res = await this.request('HEAD', `/v2/${repo}/blobs/${digest}`, { scopes: this.scopes(repo), what: `check blob ${digest}` });
    // Some registries answer a blob HEAD with a redirect to their storage: the blob is there.
    if (res.status === 200 || res.status === 307 || res.status === 302) return true;
    if (res.status === 404) return false;
    throw this.unexpected(res, `check blob ${digest}`);
  }

  /** Cross-repository mount: true when the registry linked the blob without an upload. */
  async mountBlob(repo: string, digest: string, from: string): Promise<boolean> {
    const what = `mount ${digest} from ${from}`;
    const path = `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
    const res = await this.request('POST', path, { scopes: this.scopes(repo, from), what });
    if (res.status === 201) return true;
    if (res.status === 202) {
      // The registry opened an ordinary upload instead: close it, the caller uploads.
      const loc = res.headers.location;
      if (loc) await this.request('DELETE', this.location(loc, 'mount'), { scopes: this.scopes(repo), what: 'cancel an upload' }).catch(() => undefined);
      return false;
    }
    throw this.unexpected(res, what);
  }

  private async startUpload(repo: string): Promise<URL> {
    const res = await this.request('POST', `/v2/${repo}/blobs/uploads/`, { scopes: this.scopes(repo), what: 'start a blob upload' });
    if (res.status !== 202 || !res.headers.location) throw this.unexpected(res, 'start a blob upload');
    return this.location(res.headers.location, 'start a blob upload');
  }

  /** Where an interrupted upload stands, or undefined when the session is gone. */
  private async uploadStatus(repo: string, loc: URL): Promise<{ loc: URL; offset: number } | undefined> {
    const res = await this.request('GET', loc, { scopes: this.scopes(repo), what: 'check an upload' });
    if (res.status !== 204 && res.status !== 200) return undefined;
    const range = /^(?:bytes=)?0-(\d+)$/.exec(String(res.headers.range ?? ''));
    // `0-0` is how distribution says "nothing yet" (it cannot tell 0 from 1 byte): count it as nothing.
    const end = range ? Number(range[1]) : 0;
    return { loc: res.headers.location ? this.location(res.headers.location, 'check an upload') : loc, offset: end === 0 ? 0 : end + 1 };
  }

  private async finishUpload(repo: string, loc: URL, blob: BlobRef, body?: () => Readable): Promise<void> {
    const url = new URL(loc);
    url.searchParams.set('digest', blob.digest);
    const what = `upload blob ${blob.digest}`;
    const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream' };
    if (body) headers['Content-Length'] = String(blob.size);
    const res = await this.request('PUT', url, { scopes: this.scopes(repo), what, headers, body, once: body !== undefined });
    if (sessionGone(res) && !/DIGEST_INVALID/.test(registryMessage(res))) throw new SessionLost(`${what}: the registry lost the upload session`);
    if (res.status !== 201) throw this.unexpected(res, what);
    const got = res.headers['docker-content-digest'];
    if (got && got !== blob.digest) throw new UserError(`${this.host} stored ${blob.digest} under ${got}`);
  }

  private async patch(repo: string, loc: URL, start: number, length: number, body: () => Readable): Promise<URL> {
    const what = `upload blob bytes ${start}-${start + length - 1}`;
    const res = await this.request('PATCH', loc, {
      scopes: this.scopes(repo),
      what,
      once: true,
      body,
      headers: {
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(length),
        'Content-Range': `${start}-${start + length - 1}`,
      },
    });
    if (sessionGone(res)) throw new SessionLost(`${what}: the registry lost the upload session`);
    if (res.status !== 202) throw this.unexpected(res, what);
    return res.headers.location ? this.location(res.headers.location, what) : loc;
  }

  /**
   * Uploads one blob. Small ones go in a single PUT; larger ones in a PATCH that is
   * resumed from the registry's reported offset when the connection drops. A
   * one-shot stream is sent in buffered chunks so each chunk can be re-sent.
   */
  async uploadBlob(repo: string, blob: BlobRef, body: BlobBody): Promise<void> {
    if ('stream' in body) {
      if (blob.size <= Math.max(this.monolithicMax, this.chunkSize)) {
        const chunks: Buffer[] = [];
        for await (const c of body.stream) chunks.push(c as Buffer);
        const buf = Buffer.concat(chunks);
        return this.uploadBlob(repo, blob, { open: (s) => Readable.from([buf.subarray(s)]) });
      }
      return this.uploadChunked(repo, blob, body.stream);
    }
    let attempt = 0;
    const retry = async (e: unknown) => {
      if (!(e instanceof Retryable) || attempt >= this.retries) {
        if (e instanceof Retryable) {
          throw new UserError(`could not upload blob ${blob.digest} to ${this.host} after ${this.retries + 1} attempts: ${e.message}`, {
            hint: 'The registry or the network kept failing; re-run the job',
          });
        }
        throw e;
      }
      await this.backoff(attempt++, e.message, e.retryAfterMs);
    };
    for (;;) {
      try {
        let loc = await this.startUpload(repo);
        if (blob.size <= this.monolithicMax) {
          await this.finishUpload(repo, loc, blob, () => body.open(0));
          return;
        }
        let offset = 0;
        while (offset < blob.size) {
          try {
            const start = offset;
            loc = await this.patch(repo, loc, start, blob.size - start, () => body.open(start));
            offset = blob.size;
          } catch (e) {
            await retry(e);
            const st = await this.uploadStatus(repo, loc);
            if (!st || st.offset > blob.size || (st.offset === 0 && offset > 0)) {
              this.opts.log.info(`The registry dropped the upload of ${blob.digest.slice(0, 19)}; starting it again`);
              throw new Retryable(`upload session for ${blob.digest} was lost`);
            }
            this.opts.log.info(`Resuming ${blob.digest.slice(0, 19)} at byte ${st.offset} of ${blob.size}`);
            loc = st.loc;
            offset = st.offset;
          }
        }
        await this.finishUpload(repo, loc, blob);
        return;
      } catch (e) {
        await retry(e);
      }
    }
  }

  private async uploadChunked(repo: string, blob: BlobRef, stream: Readable): Promise<void> {
    let loc = await this.startUpload(repo);
    let offset = 0;
    for await (const chunk of chunks(stream, this.chunkSize)) {
      const chunkStart = offset;
      let sent = 0;
      for (let attempt = 0; sent < chunk.length; ) {
        try {
          const from = sent;
          loc = await this.patch(repo, loc, chunkStart + from, chunk.length - from, () => Readable.from([chunk.subarray(from)]));
          sent = chunk.length;
        } catch (e) {
          if (!(e instanceof Retryable)) throw e;
          if (attempt >= this.retries) {
            throw new UserError(`could not upload blob ${blob.digest} to ${this.host} after ${this.retries + 1} attempts: ${e.message}`, {
              hint: 'The registry or the network kept failing; re-run the job',
            });
          }
          await this.backoff(attempt++, e.message, e.retryAfterMs);
          const st = await this.uploadStatus(repo, loc);
          if (!st && chunkStart === 0) {
            // Nothing before this chunk: a fresh session loses nothing.
            loc = await this.startUpload(repo);
            sent = 0;
            continue;
          }
          if (!st || st.offset < chunkStart || st.offset > chunkStart + chunk.length) {
            // The bytes before this chunk are gone and the stream cannot be re-read here.
            throw new UploadLost(this.host, blob.digest);
          }
          loc = st.loc;
          sent = st.offset - chunkStart;
          this.opts.log.info(`Resuming ${blob.digest.slice(0, 19)} at byte ${st.offset}`);
        }
      }
      offset += chunk.length;
    }
    if (offset !== blob.size) throw new UserError(`blob ${blob.digest} was ${offset} bytes on the second read, ${blob.size} on the first`, {
      hint: 'The image stream is not deterministic; rebuild it',
    });
    try {
      await this.finishUpload(repo, loc, blob);
    } catch (e) {
      // The final PUT carries no bytes; if it is lost, only a new pass over the stream can help.
      if (e instanceof Retryable) throw new UploadLost(this.host, blob.digest);
      throw e;
    }
  }

  async putManifest(repo: string, reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    const digest = sha256(bytes);
    const what = `write manifest ${reference} in ${repo}`;
    const res = await this.request('PUT', `/v2/${repo}/manifests/${reference}`, {
      scopes: this.scopes(repo),
      what,
      headers: { 'Content-Type': mediaType },
      body: bytes,
    });
    if (res.status !== 201) throw this.unexpected(res, what);
    const got = res.headers['docker-content-digest'];
    if (got && got !== digest) throw new UserError(`${this.host} stored manifest ${reference} as ${got}, but its bytes hash to ${digest}`);
    return digest;
  }

  /** A manifest's bytes, media type and digest; undefined when the registry has no such manifest. */
  async getManifest(repo: string, reference: string): Promise<{ bytes: Buffer; mediaType: string; digest: string } | undefined> {
    const what = `read manifest ${reference} of ${repo}`;
    const res = await this.request('GET', `/v2/${repo}/manifests/${reference}`, {
      scopes: [`repository:${repo}:pull`],
      what,
      headers: { Accept: MANIFEST_ACCEPT },
    });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw this.unexpected(res, what);
    return { bytes: res.body, mediaType: String(res.headers['content-type'] ?? '').split(';')[0], digest: sha256(res.body) };
  }

  async getBlob(repo: string, digest: string): Promise<Buffer | undefined> {
    const what = `read blob ${digest} of ${repo}`;
    let res = await this.request('GET', `/v2/${repo}/blobs/${digest}`, { scopes: [`repository:${repo}:pull`], what });
    // Registries may redirect blob reads to storage; follow once without our credentials.
    if ((res.status === 307 || res.status === 302) && res.headers.location) {
      res = await send('GET', this.location(res.headers.location, what), { 'User-Agent': 'vig-os-nix-actions-publish' }, undefined, this.timeoutMs);
    }
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw this.unexpected(res, what);
    if (sha256(res.body) !== digest) throw new UserError(`${this.host} returned blob ${digest} with other content`);
    return res.body;
  }
}

/**
 * Resolves a Location header against the registry's base URL, refusing a
 * downgrade from HTTPS to HTTP and plain HTTP to any host but loopback (where
 * the bytes, and any credentials, would travel in clear text).
 */
export function resolveLocation(base: string, value: string, who: string): URL {
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    throw new UserError(`${who} sent an unusable Location '${clip(value)}'`);
  }
  const from = new URL(base);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UserError(`${who} sent a Location with scheme ${clip(url.protocol)}, refusing to follow it`);
  }
  if (url.protocol === 'http:' && from.protocol === 'https:') {
    throw new UserError(`${who} redirected from HTTPS to plain HTTP (${url.origin}), refusing to follow it`, {
      hint: 'The registry or a proxy in front of it is misconfigured; image bytes must not travel in clear text',
    });
  }
  if (url.protocol === 'http:' && !isLoopback(url.host)) {
    throw new UserError(`${who} sent a plain-HTTP Location on ${url.host}, which is not loopback, refusing to follow it`, {
      hint: 'Plain HTTP is only allowed for loopback registries',
    });
  }
  return url;
}

/** Regroups a stream into buffers of exactly `size` bytes (the last one shorter). */
async function* chunks(stream: Readable, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let have = 0;
  for await (const c of stream) {
    let buf = c as Buffer;
    while (have + buf.length >= size) {
      const take = size - have;
      parts.push(buf.subarray(0, take));
      yield Buffer.concat(parts);
      parts = [];
      have = 0;
      buf = buf.subarray(take);
    }
    if (buf.length) {
      parts.push(buf);
      have += buf.length;
    }
  }
  if (have) yield Buffer.concat(parts);
}
