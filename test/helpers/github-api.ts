import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the GitHub REST API on loopback: records every request (method,
 * path, headers, parsed JSON body) and answers from handlers the test programs.
 * Unhandled requests get a 404 like GitHub's, so a test notices a wrong URL.
 * Keep it general: any action that talks to the API can reuse it.
 */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
  rawBody: string;
}

export interface Reply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (req: RecordedRequest, match: RegExpExecArray) => Reply | Promise<Reply>;

export interface FakeGitHub {
  url: string;
  requests: RecordedRequest[];
  /** Answers requests whose `METHOD path` matches (path includes the query string). */
  on(method: string, path: RegExp, handler: Handler | Reply): void;
  close(): Promise<void>;
}

export async function startFakeGitHub(): Promise<FakeGitHub> {
  const routes: { method: string; path: RegExp; handler: Handler }[] = [];
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: any;
      try {
        body = rawBody ? JSON.parse(rawBody) : undefined;
      } catch {
        body = rawBody;
      }
      const rec: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, rawBody };
      requests.push(rec);
      // Last registered route wins, so a test can override a default.
      for (let i = routes.length - 1; i >= 0; i--) {
        const r = routes[i];
        const m = r.path.exec(rec.path);
        if (r.method !== rec.method || !m) continue;
        try {
          const reply = await r.handler(rec, m);
          res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
          res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
        } catch (e) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ message: String(e) }));
        }
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Not Found', documentation_url: 'https://docs.github.com/rest' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    on(method, path, handler) {
      routes.push({ method, path, handler: typeof handler === 'function' ? handler : () => handler });
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * Programs issue-comment endpoints with an in-memory store, so create-then-update
 * can be observed across runs: GET list (paginated), POST create, PATCH update.
 */
export function serveIssueComments(api: FakeGitHub, seed: { id: number; body: string; issue: number }[] = []) {
  const comments = [...seed];
  let next = 1000;
  api.on('GET', /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments(\?.*)?$/, (_req, m) => {
    const q = new URLSearchParams(m[3]?.slice(1) ?? '');
    const per = Number(q.get('per_page') ?? 30);
    const page = Number(q.get('page') ?? 1);
    const all = comments.filter((c) => c.issue === Number(m[2]));
    return { body: all.slice((page - 1) * per, page * per).map((c) => ({ id: c.id, body: c.body, html_url: `https://github.com/${m[1]}/pull/${c.issue}#issuecomment-${c.id}` })) };
  });
  api.on('POST', /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/, (req, m) => {
    const c = { id: next++, body: String(req.body?.body), issue: Number(m[2]) };
    comments.push(c);
    return { status: 201, body: { id: c.id, body: c.body, html_url: `https://github.com/${m[1]}/pull/${c.issue}#issuecomment-${c.id}` } };
  });
  api.on('PATCH', /^\/repos\/([^/]+\/[^/]+)\/issues\/comments\/(\d+)$/, (req, m) => {
    const c = comments.find((x) => x.id === Number(m[2]));
    if (!c) return { status: 404, body: { message: 'Not Found' } };
    c.body = String(req.body?.body);
    return { body: { id: c.id, body: c.body, html_url: `https://github.com/${m[1]}/pull/${c.issue}#issuecomment-${c.id}` } };
  });
  return comments;
}
