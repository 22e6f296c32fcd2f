import { createServer, type IncomingMessage, type Server } from 'node:http';

/**
 * A local stand-in for the GitHub Actions cache service, v2 protocol, as
 * @actions/cache (ACTIONS_CACHE_SERVICE_V2=true) calls it:
 *   POST {ACTIONS_RESULTS_URL}/twirp/github.actions.results.api.v1.CacheService/
 *        GetCacheEntryDownloadURL | CreateCacheEntry | FinalizeCacheEntryUpload
 *   and "signed" blob URLs it hands out: GET (download), and the Azure Blob calls the
 *   SDK makes to upload (Put Blob; Put Block + Put Block List for large archives).
 * Entries are immutable and only visible once finalized, as in the real service.
 * It records every request so tests can assert what the action asked for.
 */
export interface CacheEntry {
  key: string;
  version: string;
  blob: string;
  size?: number;
  finalized: boolean;
  created: number;
}

export interface CacheService {
  /** ACTIONS_RESULTS_URL for the runner env. */
  url: string;
  /** Env to hand to a step so @actions/cache uses this service. */
  env: Record<string, string>;
  entries: CacheEntry[];
  blobs: Map<string, Buffer>;
  requests: { method: string; path: string; body?: any }[];
  close(): Promise<void>;
}

const SERVICE = '/twirp/github.actions.results.api.v1.CacheService/';

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startCacheService(): Promise<CacheService> {
  const entries: CacheEntry[] = [];
  const blobs = new Map<string, Buffer>();
  const blocks = new Map<string, Buffer>();
  const requests: CacheService['requests'] = [];
  let base = '';
  let counter = 0;
  let clock = 0;

  const json = (res: any, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const body = await readBody(req);
    if (req.method === 'POST' && url.pathname.startsWith(SERVICE)) {
      if (req.headers.authorization !== 'Bearer test-runtime-token') return json(res, 401, { code: 'unauthenticated', msg: 'bad token' });
      const method = url.pathname.slice(SERVICE.length);
      const data = JSON.parse(body.toString('utf8') || '{}');
      requests.push({ method, path: url.pathname, body: data });
      switch (method) {
        case 'GetCacheEntryDownloadURL': {
          const done = entries.filter((e) => e.finalized && e.version === data.version).sort((a, b) => b.created - a.created);
          const exact = done.find((e) => e.key === data.key);
          const prefix = exact ?? (data.restore_keys ?? []).map((k: string) => done.find((e) => e.key.startsWith(k))).find(Boolean);
          if (!prefix) return json(res, 200, { ok: false });
          return json(res, 200, { ok: true, signed_download_url: `${base}/blob/devstoreaccount1/cache/${prefix.blob}?sig=read`, matched_key: prefix.key });
        }
        case 'CreateCacheEntry': {
          if (entries.some((e) => e.key === data.key && e.version === data.version)) {
            return json(res, 200, { ok: false, message: `cache entry ${data.key} already exists` });
          }
          const blob = `b${++counter}`;
          entries.push({ key: data.key, version: data.version, blob, finalized: false, created: ++clock });
          return json(res, 200, { ok: true, signed_upload_url: `${base}/blob/devstoreaccount1/cache/${blob}?sig=write` });
        }
        case 'FinalizeCacheEntryUpload': {
          const e = entries.find((x) => x.key === data.key && x.version === data.version && !x.finalized);
          if (!e || !blobs.has(e.blob)) return json(res, 200, { ok: false, message: 'no upload to finalize' });
          e.finalized = true;
          e.size = Number(data.size_bytes);
          return json(res, 200, { ok: true, entry_id: String(counter) });
        }
        default:
          return json(res, 404, { code: 'bad_route', msg: method });
      }
    }
    const m = /^\/blob\/devstoreaccount1\/cache\/(b\d+)$/.exec(url.pathname);
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    const blob = m[1];
    const comp = url.searchParams.get('comp');
    requests.push({ method: `${req.method}${comp ? ` ${comp}` : ''}`, path: url.pathname });
    if (req.method === 'GET') {
      const data = blobs.get(blob);
      if (!data) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-length': data.length, 'content-type': 'application/octet-stream' });
      return void res.end(data);
    }
    if (req.method === 'PUT') {
      const headers = { etag: `"0x${counter}"`, 'last-modified': new Date().toUTCString(), 'x-ms-request-id': `r${counter}`, 'x-ms-version': '2024-11-04' };
      if (comp === 'block') {
        blocks.set(`${blob}:${url.searchParams.get('blockid')}`, body);
        return void res.writeHead(201, headers).end();
      }
      if (comp === 'blocklist') {
        const ids = [...body.toString('utf8').matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]+)<\//g)].map((x) => x[1]);
        blobs.set(blob, Buffer.concat(ids.map((id) => blocks.get(`${blob}:${id}`) ?? Buffer.alloc(0))));
        return void res.writeHead(201, headers).end();
      }
      blobs.set(blob, body);
      return void res.writeHead(201, headers).end();
    }
    res.writeHead(405).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url: `${base}/`,
    env: { ACTIONS_CACHE_SERVICE_V2: 'true', ACTIONS_RESULTS_URL: `${base}/`, ACTIONS_RUNTIME_TOKEN: 'test-runtime-token' },
    entries,
    blobs,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
