import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A git smart-HTTP server on loopback for tests that need real git talking to a
 * server: real `git http-backend` (CGI) serves the repositories under `root`, and
 * every request's headers are recorded as git sent them (`rawHeaders` keeps
 * repeated headers, so a test can count Authorization headers). `authorize`
 * decides per request: `true` serves it, a string answers with a git protocol
 * error carrying that text (git prints it as `fatal: remote error: ...`), as a
 * server that echoes what it got would.
 */
export interface GitRequest {
  method: string;
  path: string;
  /** Header name/value pairs in the order received, repeats kept. */
  rawHeaders: [string, string][];
  /** Every value of the Authorization header. */
  authorization: string[];
}

export interface GitHttpServer {
  url: string;
  requests: GitRequest[];
  close(): Promise<void>;
}

const pkt = (s: string) => `${(s.length + 4).toString(16).padStart(4, '0')}${s}`;

export async function startGitHttp(
  root: string,
  authorize: (req: GitRequest) => true | string = () => true,
): Promise<GitHttpServer> {
  const requests: GitRequest[] = [];
  const server: Server = createServer((req, res) => {
    const rawHeaders: [string, string][] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) rawHeaders.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
    const url = new URL(req.url ?? '/', 'http://x');
    const rec: GitRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      rawHeaders,
      authorization: rawHeaders.filter(([k]) => k.toLowerCase() === 'authorization').map(([, v]) => v),
    };
    requests.push(rec);
    if (rec.authorization.length > 1) {
      // GitHub's answer to repeated Authorization headers
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('Duplicate header: "Authorization"\n');
      return;
    }
    const verdict = authorize(rec);
    if (verdict !== true) {
      res.writeHead(200, { 'content-type': 'application/x-git-upload-pack-advertisement', 'cache-control': 'no-cache' });
      res.end(`${pkt('# service=git-upload-pack\n')}0000${pkt(`ERR ${verdict}\n`)}`);
      return;
    }
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: url.pathname,
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: rec.method,
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
        REMOTE_ADDR: '127.0.0.1',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    cgi.stdout.on('data', (c) => out.push(c));
    cgi.stderr.resume();
    req.pipe(cgi.stdin);
    cgi.on('close', () => {
      const all = Buffer.concat(out);
      const sep = all.indexOf('\r\n\r\n');
      if (sep < 0) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('git http-backend wrote no response\n');
        return;
      }
      const head = all.subarray(0, sep).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of head) {
        const i = line.indexOf(':');
        const [k, v] = [line.slice(0, i).trim(), line.slice(i + 1).trim()];
        if (k.toLowerCase() === 'status') status = Number.parseInt(v, 10);
        else if (k) headers[k] = v;
      }
      res.writeHead(status, headers);
      res.end(all.subarray(sep + 4));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
