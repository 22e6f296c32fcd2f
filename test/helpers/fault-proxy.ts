import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * An HTTP proxy in front of a registry that injects faults: error statuses,
 * connections reset part-way through a request body, and slow responses. The
 * client talks to the proxy as if it were the registry (the Host header is kept,
 * so the registry's upload Locations point back at the proxy).
 */
export interface FaultRule {
  method?: string;
  /** Matched against the request path and query. */
  path?: RegExp;
  /** How many matching requests to hit (default 1; Infinity for all). */
  times?: number;
  /** Answer this status without reaching the registry. */
  status?: number;
  /** Forward this many body bytes, then reset the client's connection. */
  resetAfterBytes?: number;
  /** Wait this long before forwarding. */
  delayMs?: number;
  /** Forward the whole request, let the registry act on it, then reset instead of answering. */
  dropResponse?: boolean;
}

export interface ProxyRecord {
  method: string;
  path: string;
  /** The Authorization header the client sent, if any. */
  authorization?: string;
  status?: number;
  fault?: 'status' | 'reset' | 'delay' | 'drop';
}

export interface FaultProxy {
  host: string;
  records: ProxyRecord[];
  add(rule: FaultRule): void;
  clear(): void;
  stop(): Promise<void>;
}

export interface ProxyOptions {
  /** Rewrites the Location header of every response (e.g. to hand uploads to another origin). */
  rewriteLocation?: (location: string) => string;
  /**
   * Sent upstream in place of the client's Authorization: stands in for a storage
   * host that authorizes requests by the URL it handed out, not by credentials.
   */
  upstreamAuthorization?: string;
}

export async function startFaultProxy(target: string, options: ProxyOptions = {}): Promise<FaultProxy> {
  const [targetHost, targetPort] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const rules: (FaultRule & { left: number })[] = [];
  const records: ProxyRecord[] = [];
  const sockets = new Set<Socket>();

  const take = (req: IncomingMessage) => {
    const rule = rules.find(
      (r) => r.left > 0 && (!r.method || r.method === req.method) && (!r.path || r.path.test(req.url ?? '')),
    );
    if (rule) rule.left--;
    return rule;
  };

  const server: Server = createServer(async (req, res) => {
    const rec: ProxyRecord = { method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization };
    records.push(rec);
    const rule = take(req);
    if (rule?.status) {
      rec.fault = 'status';
      rec.status = rule.status;
      req.resume();
      req.on('end', () => {
        res.writeHead(rule.status!, { 'Content-Type': 'application/json', Connection: 'close' });
        res.end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'injected fault' }] }));
      });
      return;
    }
    if (rule?.delayMs) {
      rec.fault = 'delay';
      await new Promise((r) => setTimeout(r, rule.delayMs));
    }
    const headers = { ...req.headers };
    if (options.upstreamAuthorization) headers.authorization = options.upstreamAuthorization;
    const upstream = request(
      { host: targetHost, port: targetPort, method: req.method, path: req.url, headers },
      (up) => {
        rec.status = up.statusCode;
        if (rule?.dropResponse) {
          rec.fault = 'drop';
          up.resume();
          req.socket.destroy();
          return;
        }
        const out = { ...up.headers };
        if (options.rewriteLocation && typeof out.location === 'string') out.location = options.rewriteLocation(out.location);
        res.writeHead(up.statusCode ?? 502, out);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    if (rule?.resetAfterBytes !== undefined) {
      rec.fault = 'reset';
      let sent = 0;
      const limit = rule.resetAfterBytes;
      req.on('data', (chunk: Buffer) => {
        if (sent >= limit) return;
        const part = chunk.subarray(0, limit - sent);
        sent += part.length;
        upstream.write(part);
        if (sent >= limit) {
          // Let the bytes reach the registry, then drop both sides mid-request.
          setTimeout(() => {
            upstream.destroy();
            req.socket.destroy();
          }, 50);
        }
      });
      return;
    }
    req.pipe(upstream);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    host: `127.0.0.1:${port}`,
    records,
    add: (rule) => rules.push({ ...rule, left: rule.times ?? 1 }),
    clear: () => {
      rules.length = 0;
      records.length = 0;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
