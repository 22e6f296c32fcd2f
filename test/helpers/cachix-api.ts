import { createServer, type Server } from 'node:http';

/**
 * A stand-in for the Cachix HTTP API (app.cachix.org): answers
 * `GET /api/v1/cache/<name>` from a table and records every request, so tests can
 * check what the action asked and with which credentials. Only the cache-info call
 * this action makes is served; anything else is a 404 and recorded.
 */
export interface CachixCacheFixture {
  uri: string;
  publicSigningKeys: string[];
  isPublic: boolean;
  /** For a private cache: the token that may read it (others get 404, as Cachix answers). */
  token?: string;
}

export interface CachixApi {
  url: string;
  requests: { method: string; path: string; authorization?: string }[];
  caches: Record<string, CachixCacheFixture>;
  stop(): Promise<void>;
}

export async function startCachixApi(caches: Record<string, CachixCacheFixture>): Promise<CachixApi> {
  const api: CachixApi = { url: '', requests: [], caches, stop: async () => {} };
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    api.requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization });
    const m = /^\/api\/v1\/cache\/([^/]+)$/.exec(path);
    const cache = m ? api.caches[decodeURIComponent(m[1])] : undefined;
    const allowed = cache && (cache.isPublic || req.headers.authorization === `Bearer ${cache.token}`);
    if (req.method !== 'GET' || !cache || !allowed) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'Not found' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        name: decodeURIComponent(m![1]),
        uri: cache.uri,
        publicSigningKeys: cache.publicSigningKeys,
        isPublic: cache.isPublic,
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  api.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  api.stop = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return api;
}
