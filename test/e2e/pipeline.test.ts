import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runBundle, type BundleRun } from '../helpers/bundle.js';
import { commitAll, git, initRepo } from '../helpers/git.js';
import { flakeNix, NIX_TEST_CONF, nixEnv, salt as newSalt } from '../helpers/nix.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { serveFiles, type FileServer } from '../helpers/nix-tarball.js';
import { requireTool } from '../helpers/tools.js';

/**
 * The whole release pipeline, run locally as `npm run demo` runs it: every step is a
 * dist bundle under Node 24 with the runner's files, and what one step exports
 * reaches the next. The flake is a git repository with two commits; between them a
 * flake input (a local git repository) moves to a new revision that bumps the
 * devtools package. The image goes to a loopback docker-registry, and the test
 * checks what came back (skopeo) against the SBOM, the versions file, the archive
 * manifest and the flake-diff report.
 */

const ARCH = process.arch === 'arm64' ? 'arm64' : 'amd64';
/** A second architecture label, so the index job of release.yml has two images to combine. */
const OTHER = ARCH === 'amd64' ? 'arm64' : 'amd64';
const IMAGE_SH = join(ROOT, 'examples', 'devcontainer', 'image.sh');
/**
 * The packages use the host's /bin/sh and tools; archive's verify rebuilds them in a
 * sandbox (a fresh chroot store), which must see those tools, as the demo arranges.
 */
const CONF = `${NIX_TEST_CONF}\nextra-sandbox-paths = ${['/bin', '/usr', '/lib', '/lib64'].filter((p) => existsSync(p)).join(' ')}`;

/** The test flake: salted packages, one of them versioned by the `tools` input. */
function flakeBody(s: string): string {
  return `let
    salt = "${s}";
    version = builtins.replaceStrings [ "\\n" ] [ "" ] (builtins.readFile "\${inputs.tools}/VERSION");
    pkg = name: extra: script: mkWith ({ inherit name salt; args = [ "-c" script ]; } // extra);
    zlib = pkg "zlib-1.3.1" {} "mkdir -p $out/lib && echo zlib > $out/lib/libz.txt";
    libgreet = pkg "libgreet-1.2.3" { inherit zlib; } "mkdir -p $out/lib && echo \\"uses $zlib\\" > $out/lib/libgreet.sh";
    hello = pkg "hello-2.12.1" { inherit libgreet; } "mkdir -p $out/bin && echo \\"# $libgreet\\" > $out/bin/hello";
    devtools = pkg "devtools-\${version}" { inherit hello; } "mkdir -p $out/bin && echo \\"# $hello\\" > $out/bin/devtools";
    env = pkg "devcontainer-env-1.0.0" { inherit hello devtools; } "mkdir -p $out/bin $out/etc && ln -s $hello/bin/hello $devtools/bin/devtools $out/bin/";
    image = arch: mkWith {
      name = "devcontainer-image.tar.gz";
      args = [ ./image.sh ];
      exportReferencesGraph = [ "closure" env ];
      inherit env salt arch;
      imageName = "devcontainer";
    };
  in { packages.\${system} = { devcontainer = image "${ARCH}"; "devcontainer-${OTHER}" = image "${OTHER}"; inherit hello devtools; }; }`;
}

interface Fixture {
  upstream: string;
  repo: string;
  revA: string;
  revB: string;
  base: string;
  head: string;
}

function fixture(): Fixture {
  const upstream = initRepo();
  writeFileSync(join(upstream, 'VERSION'), '1.0.0\n');
  const revA = commitAll(upstream, 'tools 1.0.0');
  const repo = initRepo();
  writeFileSync(
    join(repo, 'flake.nix'),
    flakeNix(flakeBody(newSalt()), { inputs: `tools = { url = "git+file://${upstream}"; flake = false; };`, description: 'pipeline test' }),
  );
  copyFileSync(IMAGE_SH, join(repo, 'image.sh'));
  git(repo, 'add', '-A');
  execFileSync('nix', ['flake', 'lock'], { cwd: repo, env: nixEnv(), stdio: 'pipe' });
  const base = commitAll(repo, 'devcontainer with tools 1.0.0');
  writeFileSync(join(upstream, 'VERSION'), '1.1.0\n');
  const revB = commitAll(upstream, 'tools 1.1.0');
  execFileSync('nix', ['flake', 'lock', '--update-input', 'tools'], { cwd: repo, env: nixEnv(), stdio: 'pipe' });
  const head = commitAll(repo, 'tools: 1.0.0 -> 1.1.0');
  return { upstream, repo, revA, revB, base, head };
}

/** Store paths at the top of the image's layers (nix/store/<hash>-<name>). */
function layerStorePaths(dir: string): Set<string> {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const paths = new Set<string>();
  for (const layer of manifest.layers as { digest: string }[]) {
    const blob = join(dir, layer.digest.replace(/^sha256:/, ''));
    const list = execFileSync('tar', ['-tf', blob], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    for (const entry of list.split('\n')) {
      const m = /^\.?\/?nix\/store\/([^/]+)\/?/.exec(entry);
      if (m) paths.add(`/nix/store/${m[1]}`);
    }
  }
  return paths;
}

function check(step: BundleRun, name: string): void {
  // A failing step shows its own error, not just "expected 0".
  expect({ step: name, code: step.code, errors: step.annotations.filter((a) => a.level === 'error').map((a) => a.message) }).toEqual({
    step: name,
    code: 0,
    errors: [],
  });
}

describe('the release pipeline, end to end, through the dist bundles', () => {
  let fx: Fixture;
  let registry: TestRegistry;
  const exported: Record<string, string> = {};
  const steps: Record<string, BundleRun> = {};
  /** Every run, for the cleanup: their runner dirs hold GC roots. */
  const runs: BundleRun[] = [];
  const pulled = mkdtempSync(join(tmpdir(), 'nix-actions-pulled-'));

  /** One step of the job: the runner passes on what earlier steps exported. */
  async function step(action: string, inputs: Record<string, string>): Promise<BundleRun> {
    const r = await runBundle(action, {
      cwd: fx.repo,
      inputs,
      env: { NIX_CONFIG: CONF, GITHUB_SHA: fx.head, GITHUB_REF: 'refs/heads/main', GITHUB_REF_NAME: 'main', ...exported },
      event: { before: fx.base, after: fx.head, ref: 'refs/heads/main' },
      timeoutMs: 300000,
    });
    Object.assign(exported, r.env);
    steps[action] = r;
    return r;
  }

  beforeAll(async () => {
    requireTool('skopeo', 'skopeo');
    fx = fixture();
    registry = await startRegistry();
  }, 300000);

  afterAll(async () => {
    await registry?.stop();
    // Only this test's salted store paths go: first the runner dirs holding GC roots
    // (build's out-link), then the images and their contents. Paths something else
    // still uses are kept by Nix, which is fine.
    const ours = new Set<string>();
    for (const r of [...Object.values(steps), ...runs]) {
      for (const k of ['out-path', 'image']) if (r.outputs[k]?.startsWith('/nix/store/')) ours.add(r.outputs[k]);
      rmSync(r.files.dir, { recursive: true, force: true });
    }
    if (existsSync(join(pulled, 'manifest.json'))) for (const p of layerStorePaths(pulled)) ours.add(p);
    rmSync(pulled, { recursive: true, force: true });
    for (const dir of [fx?.repo, fx?.upstream]) if (dir) rmSync(dir, { recursive: true, force: true });
    // One at a time, referrers first: Nix refuses a path something left still uses.
    for (let progress = true; progress && ours.size; ) {
      progress = false;
      for (const p of [...ours]) {
        try {
          execFileSync('nix-store', ['--delete', p], { env: nixEnv(), stdio: 'ignore' });
          ours.delete(p);
          progress = true;
        } catch {
          /* still referenced: try again after its referrers, or leave it to Nix */
        }
      }
    }
  });

  // The steps of the job, in order; each passes what it exports on to the next.
  it('build passes', async () => {
    check(await step('build', { installable: '.#devcontainer' }), 'build');
  }, 300000);

  it('sbom passes', async () => {
    check(await step('sbom', { 'output-dir': 'sbom', upload: 'false' }), 'sbom');
  }, 300000);

  it('archive passes, verifying the rebuild from the archive alone', async () => {
    check(await step('archive', { installable: '.#devcontainer', path: 'nix-archive', upload: 'false', verify: 'true' }), 'archive');
  }, 300000);

  it('flake-diff passes', async () => {
    check(await step('flake-diff', { base: fx.base, comment: 'never', 'fail-on': 'never', installable: '.#devcontainer' }), 'flake-diff');
  }, 300000);

  it('publish pushes each arch image and the index over them', async () => {
    // As release.yml does it: each arch image under a tag of its own, then the index
    // over them under the release tag. The second arch's image is the same flake
    // labelled for the other architecture (this machine can build only its own).
    const pub = { registry: registry.host, repository: 'test/pipeline', username: '', password: '', 'plain-http': 'true' };
    check(await step('publish', { ...pub, tags: `build-1-${ARCH}` }), 'publish');
    const other = JSON.parse(
      execFileSync('nix', ['build', '--json', '--no-link', `.#devcontainer-${OTHER}`], { cwd: fx.repo, env: nixEnv(), encoding: 'utf8' }),
    )[0].outputs.out;
    const second = await runBundle('publish', {
      cwd: fx.repo,
      inputs: { ...pub, image: other, tags: `build-1-${OTHER}` },
      env: { NIX_CONFIG: CONF, GITHUB_SHA: fx.head, GITHUB_REF: 'refs/heads/main', ...exported },
    });
    check(second, `publish (${OTHER})`);
    steps.other = second;
    const index = await runBundle('publish', {
      cwd: fx.repo,
      inputs: { ...pub, index: `${steps.publish.outputs['image-ref']}\n${second.outputs['image-ref']}`, tags: 'v1.1.0' },
      env: { NIX_CONFIG: CONF, GITHUB_SHA: fx.head, GITHUB_REF: 'refs/heads/main' },
    });
    check(index, 'publish (index)');
    steps.index = index;
  }, 600000);

  it('the release tag names an index over both arch images, as release.yml publishes it', () => {
    const raw = JSON.parse(
      execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/test/pipeline:v1.1.0`], { encoding: 'utf8' }),
    );
    expect(raw.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    const byArch = Object.fromEntries(raw.manifests.map((m: any) => [m.platform.architecture, m.digest]));
    expect(byArch).toEqual({ [ARCH]: steps.publish.outputs.digest, [OTHER]: steps.other.outputs.digest });
    expect(steps.index.outputs['image-ref']).toBe(`${registry.host}/test/pipeline@${steps.index.outputs.digest}`);
  });

  it('the image in the registry is the one build made, and its layers hold exactly the SBOM components', () => {
    const publish = steps.publish;
    expect(publish.outputs['image-ref']).toBe(`${registry.host}/test/pipeline@${publish.outputs.digest}`);
    execFileSync('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${publish.outputs['image-ref']}`, `dir:${pulled}`]);
    // dir: keeps the manifest's bytes, so its hash is the digest the registry serves.
    const digest = `sha256:${createHash('sha256').update(readFileSync(join(pulled, 'manifest.json'))).digest('hex')}`;
    expect(digest).toBe(publish.outputs.digest);

    const inLayers = layerStorePaths(pulled);
    const cdx = JSON.parse(readFileSync(steps.sbom.outputs.cyclonedx, 'utf8'));
    const sbomPaths = new Set<string>();
    const walk = (list: any[]) => {
      for (const c of list ?? []) {
        const p = (c.properties ?? []).find((x: any) => x.name === 'nix:store-path')?.value;
        if (p) sbomPaths.add(p);
        walk(c.components);
      }
    };
    walk(cdx.components);
    expect([...sbomPaths].sort()).toEqual([...inLayers].sort());
    // The closure of the env: zlib, libgreet, hello, devtools and the env itself.
    expect([...inLayers].map((p) => p.replace(/^\/nix\/store\/[a-z0-9]{32}-/, '')).sort()).toEqual([
      'devcontainer-env-1.0.0',
      'devtools-1.1.0',
      'hello-2.12.1',
      'libgreet-1.2.3',
      'zlib-1.3.1',
    ]);
    expect(Number(steps.sbom.outputs.components)).toBeGreaterThanOrEqual(inLayers.size);
  });

  it('the versions file of build lists the same packages and versions as the layers', () => {
    const versions: { name: string; version: string; path: string }[] = JSON.parse(readFileSync(steps.build.outputs.versions, 'utf8'));
    const inLayers = layerStorePaths(pulled);
    expect(new Set(versions.map((v) => v.path))).toEqual(inLayers);
    expect(versions.find((v) => v.name === 'devtools')?.version).toBe('1.1.0');
    expect(steps.build.outputs['image-format']).toBe('docker-archive+gzip');
  });

  it('the archive holds the derivation of every store path in the image and pins the tools input at the new revision', () => {
    const manifest = JSON.parse(readFileSync(steps.archive.outputs.manifest, 'utf8'));
    const archived = new Set<string>(manifest.paths.map((p: { path: string }) => p.path));
    // scope: build archives derivations (everything is rebuilt from them, as verify did).
    for (const p of layerStorePaths(pulled)) {
      const deriver = execFileSync('nix-store', ['--query', '--deriver', p], { env: nixEnv(), encoding: 'utf8' }).trim();
      expect({ path: p, deriverArchived: archived.has(deriver) }).toEqual({ path: p, deriverArchived: true });
    }
    expect(manifest.drvPath).toBe(steps.build.outputs['drv-path']);
    expect(manifest.outputs.out.path).toBe(steps.build.outputs['out-path']);
    const tools = manifest.inputs.find((i: { input: string }) => i.input === 'tools');
    expect(tools.rev).toBe(fx.revB);
    expect(steps.archive.summary).toMatch(/rebuilt from the archive alone/);
  });

  it('the flake-diff report shows the tools input moving from the base revision to the one archived and shipped', () => {
    expect(steps['flake-diff'].outputs.changed).toBe('true');
    const report = JSON.parse(readFileSync(steps['flake-diff'].outputs.report, 'utf8'));
    // The test's input is a local git repository, which the lock policy rightly flags
    // (fail-on: never, so the step reports it without failing).
    expect(steps['flake-diff'].outputs.violations).toBe('1');
    expect(report.files[0].violations.map((v: any) => [v.rule, v.node])).toEqual([['no-path', 'tools']]);
    expect(report.base.sha).toBe(fx.base);
    expect(report.head.sha).toBe(fx.head);
    const lock = report.files.find((f: any) => f.path === 'flake.lock');
    expect(lock.status).toBe('compared');
    const text = JSON.stringify(lock.changes);
    expect(text).toContain('tools');
    expect(text).toContain(fx.revA);
    expect(text).toContain(fx.revB);
    // Its package comparison evaluated the very image that build made and publish pushed.
    expect(report.packages.head).toEqual([steps.build.outputs['out-path']]);
    expect(report.packages.base).not.toEqual(report.packages.head);
    // Compared by what the image ships (its layers), not by the tarball's own closure.
    expect(report.packages.changes.filter((c: any) => c.change === 'changed').map((c: any) => c.name)).toEqual(['devtools']);
    expect(steps['flake-diff'].summary).toContain('tools');
  });

  it('the one-step root action publishes the same image under its own tag', async () => {
    const r = await runBundle('pipeline', {
      cwd: fx.repo,
      inputs: { installable: '.#devcontainer', registry: registry.host, repository: 'test/pipeline', tags: 'one-step', username: '', password: '', 'plain-http': 'true', 'sbom-dir': 'sbom-one-step' },
      env: { NIX_CONFIG: CONF, GITHUB_SHA: fx.head, GITHUB_REF: 'refs/heads/main', GITHUB_REF_NAME: 'main' },
      timeoutMs: 300000,
    });
    steps.pipeline = r;
    check(r, 'pipeline');
    const layers = JSON.parse(
      execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${registry.host}/test/pipeline:one-step`], { encoding: 'utf8' }),
    ).Layers;
    const first = JSON.parse(
      execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${steps.publish.outputs['image-ref']}`], { encoding: 'utf8' }),
    ).Layers;
    expect(layers).toEqual(first);
    expect(r.outputs.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(r.outputs['image-ref']).toBe(`${registry.host}/test/pipeline@${r.outputs.digest}`);
    // Same core, same answers: the image and the SBOM match the separate steps'.
    expect(r.outputs.image).toBe(steps.build.outputs.image);
    expect(r.outputs.components).toBe(steps.sbom.outputs.components);
    const names = (file: string) =>
      JSON.parse(readFileSync(file, 'utf8')).components.map((c: any) => `${c.name}@${c.version}`).sort();
    expect(names(r.outputs.cyclonedx)).toEqual(names(steps.sbom.outputs.cyclonedx));
    expect(r.summary).toMatch(/\| Nix \| .*already installed/);
    expect(r.summary).toContain(`| publish | \`${r.outputs['image-ref']}\` |`);
  }, 300000);

  it.each([
    ['a missing attribute', { installable: '.#no-such-image' }, /^build: nix build \.#no-such-image failed: .*no-such-image/],
    ['a registry that refuses connections', { registry: '127.0.0.1:9' }, /^publish: /],
  ])('the one-step action stops at the failing stage with one line naming it: %s', async (_what, inputs, message) => {
    const r = await runBundle('pipeline', {
      cwd: fx.repo,
      inputs: { installable: '.#devcontainer', registry: registry.host, repository: 'test/failing', tags: 'x', username: '', password: '', 'plain-http': 'true', 'sbom-dir': 'sbom-failing', ...inputs },
      env: { NIX_CONFIG: CONF, GITHUB_SHA: fx.head, GITHUB_REF: 'refs/heads/main', GITHUB_REF_NAME: 'main' },
      timeoutMs: 300000,
    });
    runs.push(r);
    expect(r.code).toBe(1);
    const errors = r.annotations.filter((a) => a.level === 'error').map((a) => a.message);
    expect(errors).toEqual([expect.stringMatching(message)]);
    expect(r.outputs).toEqual({});
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
  }, 300000);
});

describe('the one-step root action without Nix on PATH', () => {
  // PATH holds git and sh only; the install goes to a temporary root, never to /.
  const bin = mkdtempSync(join(tmpdir(), 'nix-actions-nonix-'));
  const dirs: string[] = [bin];
  let server: FileServer;
  const tarball = 'nix-2.8.0-x86_64-linux.tar.xz';

  beforeAll(async () => {
    for (const tool of ['git', 'sh']) symlinkSync(execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), join(bin, tool));
    const files = mkdtempSync(join(tmpdir(), 'nix-actions-mirror-'));
    dirs.push(files);
    writeFileSync(join(files, tarball), 'not the tarball that was pinned');
    server = await serveFiles(files);
  });
  afterAll(async () => {
    await server?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function pipelineWithoutNix(inputs: Record<string, string>): Promise<BundleRun> {
    const root = mkdtempSync(join(tmpdir(), 'nix-actions-root-'));
    dirs.push(root);
    const r = await runBundle('pipeline', {
      inputs: { registry: '127.0.0.1:9', repository: 'test/never', 'plain-http': 'true', username: '', password: '', ...inputs },
      env: { PATH: bin, NIX_ACTIONS_INSTALL_ROOT: root, HOME: join(root, 'home') },
    });
    dirs.push(r.files.dir);
    return r;
  }

  it('goes to the install stage, and without a pinned release says how to pin one', async () => {
    const r = await pipelineWithoutNix({});
    expect(r.code).toBe(1);
    expect(r.annotations.map((a) => a.message)).toEqual([expect.stringMatching(/^install Nix: .*installer-url.*installer-sha256/)]);
    expect(r.outputs).toEqual({});
  });

  it('installs from installer-url only if the download matches installer-sha256', async () => {
    const pinned = 'a'.repeat(64);
    const r = await pipelineWithoutNix({ 'nix-version': '2.8.0', 'installer-url': `${server.url}/${tarball}`, 'installer-sha256': pinned });
    expect(server.requests).toContain(`/${tarball}`);
    expect(r.code).toBe(1);
    expect(r.annotations).toHaveLength(1);
    expect(r.annotations[0].message).toMatch(/^install Nix: /);
    expect(r.annotations[0].message).toContain(pinned);
    expect(r.outputs).toEqual({});
  });
});
