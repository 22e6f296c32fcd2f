import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { nixEnv, salt, SYSTEM } from './nix.js';
import { requireTool } from './tools.js';

/**
 * A Nix binary tarball in the official layout (nix-<version>-<system>/ with install,
 * .reginfo and store/), made from real store paths this test builds: a `nix` package
 * whose nix, nix-store and nix-env run the host's Nix (so the installer's own
 * `nix-store --load-db` and `nix-env -i` really run), a dependency, and a CA bundle.
 */
export interface TestRelease {
  version: string;
  system: string;
  /** The .tar.xz file. */
  file: string;
  fileName: string;
  sha256: string;
  nixPath: string;
  cacertPath: string;
  depPath: string;
  closure: string[];
  reginfo: string;
  /** Deletes this release's paths from the host store (only ours). */
  cleanup(): void;
}

const HOST_BIN = '/usr/bin';

export function makeTestRelease(options: { version?: string; system?: string; dir?: string } = {}): TestRelease {
  requireTool('nix-build', 'nix-bin');
  requireTool('xz', 'xz-utils');
  const version = options.version ?? hostNixVersion();
  const system = options.system ?? SYSTEM;
  const s = salt();
  const work = options.dir ?? mkdtempSync(join(tmpdir(), 'nix-actions-release-'));
  // Each wrapper is a real executable that runs the host's Nix tool and refers to `dep`.
  const expr = `
let
  sh = script: attrs: derivation ({ system = "${SYSTEM}"; builder = "/bin/sh"; args = [ "-c" script ]; PATH = "/usr/bin:/bin"; salt = "${s}"; } // attrs);
  dep = sh "mkdir -p $out/lib; echo support > $out/lib/libsupport.txt" { name = "nix-support-${s}"; };
  cacert = sh "mkdir -p $out/etc/ssl/certs; echo test-ca-bundle > $out/etc/ssl/certs/ca-bundle.crt" { name = "nss-cacert-3.0"; };
  nix = sh ''
    mkdir -p $out/bin
    for t in nix nix-store nix-env nix-collect-garbage; do
      printf '%s' "$tpl" | sed -e "s|DEP|$dep|" -e "s|TOOL|$t|" > $out/bin/$t
      chmod +x $out/bin/$t
    done
  '' { name = "nix-${version}"; inherit dep; tpl = "#!/bin/sh\\n# needs DEP\\nexec ${HOST_BIN}/TOOL \\"$@\\"\\n"; };
in { inherit nix cacert dep; }
`;
  writeFileSync(join(work, 'release.nix'), expr);
  const env = nixEnv();
  const build = (attr: string) =>
    execFileSync('nix-build', [join(work, 'release.nix'), '-A', attr, '--no-out-link'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  const nixPath = build('nix');
  const cacertPath = build('cacert');
  const depPath = build('dep');
  const closure = execFileSync('nix-store', ['--query', '--requisites', nixPath, cacertPath], { env, encoding: 'utf8' }).trim().split('\n').sort();
  const reginfo = execFileSync('nix-store', ['--dump-db', ...closure], { env, encoding: 'utf8' });

  const top = `nix-${version}-${system}`;
  const tree = join(work, 'tree');
  mkdirSync(join(tree, top, 'store'), { recursive: true });
  for (const p of closure) execFileSync('cp', ['-a', p, join(tree, top, 'store') + '/']);
  writeFileSync(join(tree, top, '.reginfo'), reginfo);
  // The shape of the official install script's head: the release substitutes @nix@ and @cacert@.
  writeFileSync(join(tree, top, 'install'), `#!/bin/sh\n\nset -e\n\ndest="/nix"\nself="$(dirname "$0")"\nnix="${nixPath}"\ncacert="${cacertPath}"\n\necho "test release: use install-nix"\n`, { mode: 0o755 });
  const fileName = `${top}.tar.xz`;
  const file = join(work, fileName);
  execFileSync('tar', ['-cJf', file, '-C', tree, top]);
  execFileSync('chmod', ['-R', 'u+w', tree]);
  const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
  return {
    version,
    system,
    file,
    fileName,
    sha256,
    nixPath,
    cacertPath,
    depPath,
    closure,
    reginfo,
    cleanup() {
      const derivers = closure.map((p) => execFileSync('nix-store', ['--query', '--deriver', p], { env, encoding: 'utf8' }).trim()).filter((d) => d.startsWith('/nix/store/'));
      try {
        execFileSync('nix-store', ['--delete', ...closure, ...derivers], { env, stdio: 'ignore' });
      } catch {
        // still referenced by another test's store: left for that test to delete
      }
      if (!options.dir) rmSync(work, { recursive: true, force: true });
    },
  };
}

export function hostNixVersion(): string {
  const out = execFileSync('nix', ['--version'], { encoding: 'utf8' });
  return /(\d+\.\d+(?:\.\d+)?)/.exec(out)![1];
}

/** A static file server on loopback that records the paths asked for. */
export interface FileServer {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

export async function serveFiles(dir: string): Promise<FileServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const file = normalize(join(dir, path));
    if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-length': statSync(file).size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
