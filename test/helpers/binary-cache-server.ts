import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, sep } from 'node:path';

/**
 * A Nix binary cache over HTTP on loopback: a static file server over a directory
 * (the same directory `nix copy --to file://<dir>` writes), with PUT for pushes, as
 * Nix's HttpBinaryCacheStore speaks it. Optional auth (what a netrc entry sends),
 * and a fault switch to make uploads fail.
 *
 * It runs inside the test process: call Nix through async APIs (src/process/run.ts,
 * runBundle), never execFileSync, or the server cannot answer.
 */
export interface BinaryCacheServer {
  url: string;
  dir: string;
  requests: { method: string; path: string; authorized: boolean }[];
  /** When set, PUT answers this status (simulates a failing push). */
  failPuts?: number;
  /** When true, PUT requests are read and never answered (a stalled upload). */
  hangPuts?: boolean;
  stop(): Promise<void>;
}

export async function startBinaryCache(options: { dir?: string; token?: string } = {}): Promise<BinaryCacheServer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'nix-actions-binary-cache-'));
  const state: BinaryCacheServer = { url: '', dir, requests: [], stop: async () => {} };
  const authorized = (req: IncomingMessage): boolean => {
    if (!options.token) return true;
    const h = req.headers.authorization ?? '';
    if (h === `Bearer ${options.token}`) return true;
    if (h.startsWith('Basic ')) {
      const decoded = Buffer.from(h.slice(6), 'base64').toString('utf8');
      return decoded.slice(decoded.indexOf(':') + 1) === options.token;
    }
    return false;
  };
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const ok = authorized(req);
    state.requests.push({ method: req.method ?? '', path, authorized: ok });
    const file = normalize(join(dir, path));
    if (!file.startsWith(dir + sep) && file !== dir) {
      res.writeHead(400).end();
      return;
    }
    if (!ok) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="cache"' }).end();
      return;
    }
    if (req.method === 'PUT') {
      if (state.hangPuts) {
        req.resume();
        return;
      }
      if (state.failPuts) {
        req.resume();
        req.on('end', () => res.writeHead(state.failPuts!).end('upload refused'));
        return;
      }
      mkdirSync(dirname(file), { recursive: true });
      const out = createWriteStream(file);
      req.pipe(out);
      out.on('finish', () => res.writeHead(201).end());
      out.on('error', () => res.writeHead(500).end());
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (!existsSync(file) || !statSync(file).isFile()) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-length': statSync(file).size });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).pipe(res);
      return;
    }
    res.writeHead(405).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  state.url = `http://127.0.0.1:${port}`;
  state.stop = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return state;
}
