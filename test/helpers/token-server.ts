import { execFileSync } from 'node:child_process';
import { createPrivateKey, createSign, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from './tools.js';

/**
 * A small token service for the registry's bearer flow (what ghcr.io does): the
 * registry (started with `tokenAuth`) answers 401 with a Bearer challenge naming
 * this realm; the client fetches a JWT here with basic credentials; the registry
 * checks the JWT's signature against the certificate it was given. The key and
 * self-signed certificate are made with openssl for each server.
 *
 * Users get at most the actions listed for them; unknown users or wrong
 * passwords get 401. Every token request is recorded.
 */
export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  /** PEM bundle for the registry's `rootcertbundle`. */
  certFile: string;
  requests: { user?: string; scopes: string[]; status: number }[];
  /** Every token handed out (to check none reaches a log). */
  issued: string[];
  stop(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export async function startTokenServer(users: Record<string, { password: string; actions: string[] }>): Promise<TokenServer> {
  requireTool('openssl', 'openssl');
  const dir = mkdtempSync(join(tmpdir(), 'nix-actions-token-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=nix-actions test token issuer'],
    { stdio: 'pipe' },
  );
  const key = createPrivateKey(readFileSync(keyFile));
  const certDer = new X509Certificate(readFileSync(certFile)).raw.toString('base64');
  const service = 'nix-actions-test-registry';
  const issuer = 'nix-actions-test-issuer';
  const requests: TokenServer['requests'] = [];
  const issued: string[] = [];

  const sign = (sub: string, access: { type: string; name: string; actions: string[] }[]) => {
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [certDer] }));
    const claims = b64url(
      JSON.stringify({ iss: issuer, sub, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access }),
    );
    const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(key);
    return `${header}.${claims}.${b64url(signature)}`;
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const scopes = url.searchParams.getAll('scope');
    const auth = req.headers.authorization ?? '';
    let user: string | undefined;
    let allowed: string[] = [];
    if (auth.startsWith('Basic ')) {
      const [u, ...p] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
      const known = users[u];
      if (!known || known.password !== p.join(':')) {
        requests.push({ user: u, scopes, status: 401 });
        res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ details: 'bad credentials' }));
        return;
      }
      user = u;
      allowed = known.actions;
    }
    if (url.searchParams.get('service') !== service) {
      requests.push({ user, scopes, status: 400 });
      res.writeHead(400).end('unknown service');
      return;
    }
    const access = scopes.flatMap((s) => {
      const m = /^repository:([^:]+):(.+)$/.exec(s);
      if (!m) return [];
      return [{ type: 'repository', name: m[1], actions: m[2].split(',').filter((a) => allowed.includes(a)) }];
    });
    const token = sign(user ?? 'anonymous', access);
    issued.push(token);
    requests.push({ user, scopes, status: 200 });
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certFile,
    requests,
    issued,
    async stop() {
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
