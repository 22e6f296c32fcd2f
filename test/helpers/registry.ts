import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { requireTool } from './tools.js';

export interface TestRegistry {
  /** host:port, e.g. 127.0.0.1:41234 */
  host: string;
  url: string;
  root: string;
  username?: string;
  password?: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Bearer-token auth (`auth: token:`): tokens from `realm`, signed by a cert in `rootCertBundle`. */
export interface TokenAuthConfig {
  realm: string;
  service: string;
  issuer: string;
  rootCertBundle: string;
}

/**
 * Starts Debian's docker-registry (distribution v2) on a free loopback port with
 * filesystem storage in a temp dir; with `auth`, behind htpasswd basic auth; with
 * `tokenAuth`, behind a token service (see test/helpers/token-server.ts).
 */
export async function startRegistry(
  options: { auth?: { username: string; password: string }; tokenAuth?: TokenAuthConfig } = {},
): Promise<TestRegistry> {
  const bin = requireTool('docker-registry', 'docker-registry');
  const root = mkdtempSync(join(tmpdir(), 'nix-actions-registry-'));
  const port = await freePort();
  let auth = '';
  if (options.auth) {
    const hash = bcrypt.hashSync(options.auth.password, 6);
    writeFileSync(join(root, 'htpasswd'), `${options.auth.username}:${hash}\n`);
    auth = `auth:\n  htpasswd:\n    realm: test-realm\n    path: ${join(root, 'htpasswd')}\n`;
  }
  if (options.tokenAuth) {
    const t = options.tokenAuth;
    auth = `auth:\n  token:\n    realm: ${t.realm}\n    service: ${t.service}\n    issuer: ${t.issuer}\n    rootcertbundle: ${t.rootCertBundle}\n`;
  }
  const config = `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${join(root, 'data')}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
${auth}`;
  writeFileSync(join(root, 'config.yml'), config);
  const child: ChildProcess = spawn(bin, ['serve', join(root, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c) => (stderr += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${stderr}`);
    try {
      const res = await fetch(`${url}/v2/`);
      if (res.status === 200 || res.status === 401) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`docker-registry did not start on ${url}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host: `127.0.0.1:${port}`,
    url,
    root,
    username: options.auth?.username,
    password: options.auth?.password,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
