import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/bundle.js';
import { NIX_TEST_CONF, salt, writeFlake } from '../helpers/nix.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { requireTool } from '../helpers/tools.js';

/**
 * `npm run demo` as a first-time user runs it: the whole suite on the bundled
 * example flake through the dist bundles. The demo's own checks are not trusted:
 * the test reads what it left behind.
 */
const DEMO = join(ROOT, 'scripts', 'demo.mjs');

interface DemoRun {
  code: number;
  stdout: string;
  stderr: string;
  json?: { work: string; repo: string; base: string; head: string; results: { action: string; status: string; outputs?: Record<string, string>; reason?: string }[] };
}

async function demo(args: string[], work?: string): Promise<DemoRun> {
  const json = work ? join(work, 'demo.json') : undefined;
  const argv = [DEMO, '--no-color', ...(work ? ['--work', work, '--json', json!] : []), ...args];
  const child = spawn(process.execPath, argv, { cwd: ROOT, env: { ...process.env, NIX_CONFIG: NIX_TEST_CONF, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const code: number = await new Promise((r) => child.on('close', (c) => r(c ?? -1)));
  return { code, stdout, stderr, json: json && existsSync(json) ? JSON.parse(readFileSync(json, 'utf8')) : undefined };
}

const STEPS = ['build', 'sbom', 'archive', 'flake-diff', 'sbom-diff', 'publish'];

describe('npm run demo', () => {
  const works: string[] = [];
  let registry: TestRegistry;
  let firstDigest: string | undefined;
  const newWork = () => {
    const w = mkdtempSync(join(tmpdir(), 'nix-actions-demo-test-'));
    works.push(w);
    return w;
  };

  beforeAll(async () => {
    requireTool('skopeo', 'skopeo');
    requireTool('docker-registry', 'docker-registry');
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
    for (const w of works) rmSync(w, { recursive: true, force: true });
  });

  it('runs every step on the example and publishes into an OCI layout directory by default', async () => {
    const work = newWork();
    const r = await demo([], work);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.json!.results.map((s) => [s.action, s.status])).toEqual(STEPS.map((s) => [s, 'passed']));

    // It reads well: a numbered header per step, the summaries as text, a recap.
    STEPS.forEach((s, i) => expect(r.stdout).toContain(`━━ ${i + 1}/${STEPS.length} ${s} ━━`));
    expect(r.stdout).toMatch(/━━ recap ━━/);
    expect(r.stdout).toMatch(/6 passed, 0 failed, 0 skipped/);
    expect(r.stdout).not.toMatch(/^\s*\|.*\|\s*$/m); // Markdown tables are rendered, not dumped
    expect(r.stdout).not.toMatch(/^::/m); // no raw workflow commands
    expect(r.stdout).not.toMatch(/<\/?(details|summary|table|br)\b/i);
    expect(r.stdout).not.toMatch(/\x1b\[/); // --no-color

    // The previous commit has devtools 0.3.0: the SBOM diff says so, in its outputs and on screen.
    const diff = r.json!.results.find((s) => s.action === 'sbom-diff')!;
    const report = JSON.parse(readFileSync(diff.outputs!.report, 'utf8'));
    expect(report.changed).toEqual([{ name: 'devtools', from: ['0.3.0'], to: ['0.4.0'] }]);
    expect(r.stdout).toMatch(/version changed\s+devtools\s+0\.3\.0\s+0\.4\.0/);

    // The OCI layout holds the image build made: same layers as the docker-archive.
    const publish = r.json!.results.find((s) => s.action === 'publish')!;
    firstDigest = publish.outputs!.digest;
    const layout = publish.outputs!['oci-layout'];
    const inspected = JSON.parse(execFileSync('skopeo', ['inspect', `oci:${layout}:latest`], { encoding: 'utf8' }));
    const build = r.json!.results.find((s) => s.action === 'build')!;
    const plain = join(work, 'image.tar');
    execFileSync('sh', ['-c', 'gzip -dc "$1" > "$2"', 'sh', build.outputs!.image, plain]);
    const original = JSON.parse(execFileSync('skopeo', ['inspect', `docker-archive:${plain}`], { encoding: 'utf8' }));
    expect(inspected.Layers.length).toBe(original.Layers.length);
    expect(inspected.Architecture).toBe(original.Architecture);

    // The SBOM names what the example ships.
    const sbom = r.json!.results.find((s) => s.action === 'sbom')!;
    const cdx = JSON.parse(readFileSync(sbom.outputs!.cyclonedx, 'utf8'));
    const names = (cdx.components as { name: string; version: string }[]).map((c) => `${c.name}@${c.version}`);
    expect(names).toEqual(expect.arrayContaining(['hello@2.12.1', 'libgreet@1.2.3', 'devtools@0.4.0', 'base-files@1.0']));
  }, 600000);

  it('publishes to a registry when one is given', async () => {
    const work = newWork();
    const r = await demo(['--registry', `${registry.host}/demo/devcontainer`], work);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const publish = r.json!.results.find((s) => s.action === 'publish')!;
    expect(publish.status).toBe('passed');
    expect(publish.outputs!['image-ref']).toMatch(new RegExp(`^${registry.host.replace(/\./g, '\\.')}/demo/devcontainer@sha256:[0-9a-f]{64}$`));
    const digest = execFileSync('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${registry.host}/demo/devcontainer:latest`], {
      encoding: 'utf8',
    }).trim();
    expect(digest).toBe(publish.outputs!.digest);
    // Fixed commit dates and a reproducible image: every run publishes the same digest.
    expect(publish.outputs!.digest).toBe(firstDigest);
  }, 600000);

  it('a build that fails fails the demo: later steps say SKIPPED and why, nothing pretends to pass', async () => {
    const flake = writeFlake(`{ packages.\${system}.devcontainer = mk "broken-image-${salt()}" "echo DEMO-BROKEN-BUILD >&2; exit 4"; }`);
    const work = newWork();
    const r = await demo(['--flake', flake], work);
    expect(r.code).toBe(1);
    const status = Object.fromEntries(r.json!.results.map((s) => [s.action, s.status]));
    expect(status).toEqual({ build: 'failed', sbom: 'skipped', archive: 'skipped', 'flake-diff': 'failed', 'sbom-diff': 'skipped', publish: 'skipped' });
    expect(r.stdout).toMatch(/✖ nix build \.#devcontainer failed: .*DEMO-BROKEN-BUILD/);
    expect(r.stdout).toMatch(/⤼ SKIPPED: the build failed: there is no image to publish/);
    expect(r.stdout).toMatch(/0 passed, 2 failed, 4 skipped/);
  }, 300000);

  it.each([
    [['--registry', 'not a registry'], /--registry 'not a registry' is not HOST\[:PORT\]\/REPOSITORY/],
    [['--registry', '127.0.0.1:5000/Upper'], /is not HOST\[:PORT\]\/REPOSITORY/],
    [['--registry'], /--registry needs a value/],
    [['--bogus'], /unknown argument '--bogus'/],
    [['--flake', '/nonexistent-flake-dir'], /flake\.nix: --flake must name a flake directory/],
  ])('bad usage %j: exit code 2 and a clear message', async (args, message) => {
    const r = await demo(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });
});
