import { readFileSync } from 'node:fs';
import { buildOut, writeImageFlake } from '../helpers/images.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { runBundle } from '../helpers/bundle.js';
import { readActionYml } from '../helpers/actions.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { initRepo, commitAll } from '../helpers/git.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** The publish bundle under Node 24, as the runner runs it, against docker-registry on loopback. */
const skopeo = async (...args: string[]) => (await promisify(execFile)('skopeo', args, { encoding: 'utf8' })).stdout;
const flake = writeImageFlake();
let image: string;
let open: TestRegistry;
let locked: TestRegistry;

beforeAll(async () => {
  image = buildOut(flake.installable('docker-archive-zst'));
  open = await startRegistry();
  locked = await startRegistry({ auth: { username: 'ci', password: 'e2e-Secret-pass' } });
});
afterAll(async () => {
  await open?.stop();
  await locked?.stop();
});

it('publishes the image build exported, with outputs, a report and a summary', async () => {
  const ws = initRepo();
  writeFileSync(join(ws, 'f'), 'x');
  const sha = commitAll(ws, 'c', '2025-06-01T12:00:00Z');
  const r = await runBundle('publish', {
    cwd: ws,
    inputs: { registry: open.host, 'plain-http': 'true', tags: '{{sha:7}}\nlatest\npr-{{pr}}', labels: 'org.example.team=devices' },
    env: { NIX_ACTIONS_IMAGE: image, GITHUB_SHA: sha, GITHUB_REF: 'refs/heads/main', GITHUB_REF_NAME: 'main', RUNNER_TEMP: ws },
  });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.annotations.filter((a) => a.level === 'error')).toEqual([]);
  expect(r.outputs.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  expect(r.outputs['image-ref']).toBe(`${open.host}/vig-os/example@${r.outputs.digest}`);
  expect(r.outputs.tags).toBe(`${sha.slice(0, 7)},latest`);
  const report = JSON.parse(readFileSync(r.outputs.report, 'utf8'));
  expect(report).toMatchObject({ kind: 'image', format: 'docker-archive+zstd', digest: r.outputs.digest, repository: 'vig-os/example' });
  expect(report.blobs).toHaveLength(5);
  expect(report.labels['org.opencontainers.image.created']).toBe('2025-06-01T12:00:00Z');
  expect(r.summary).toMatch(/\| Size pushed \| \d+\.\d KiB \|/);
  expect(r.summary).toMatch(/\| Size skipped \(registry had it\) \| 0 B \|/);
  expect(r.summary).toContain('Skipped tags: `pr-{{pr}}` (no pr in this run)');
  const info = JSON.parse(await skopeo('inspect', '--tls-verify=false', `docker://${open.host}/vig-os/example:latest`));
  expect(info.Digest).toBe(r.outputs.digest);
  expect(info.Labels['org.example.team']).toBe('devices');

  const again = await runBundle('publish', {
    cwd: ws,
    inputs: { registry: open.host, 'plain-http': 'true', tags: 'latest', labels: 'org.example.team=devices' },
    env: { NIX_ACTIONS_IMAGE: image, GITHUB_SHA: sha, GITHUB_REF: 'refs/heads/main', GITHUB_REF_NAME: 'main', RUNNER_TEMP: ws },
  });
  expect(again.code).toBe(0);
  expect(again.outputs.digest).toBe(r.outputs.digest);
  expect(again.summary).toMatch(/5: 0 pushed, 5 already in the registry, 0 mounted/);
  expect(again.summary).toMatch(/\| Size pushed \| 0 B \|/);
});

it('says which permission is missing, and never prints the password', async () => {
  const r = await runBundle('publish', {
    inputs: { image, registry: locked.host, 'plain-http': 'true', repository: 'team/app', tags: 'v1', username: 'ci', password: 'wrong-Secret-pass' },
  });
  expect(r.code).toBe(1);
  const errors = r.annotations.filter((a) => a.level === 'error');
  expect(errors).toHaveLength(1);
  expect(errors[0].message).toMatch(/refused to .*HTTP 401.*lack push access/);
  expect(r.stdout).toContain('::add-mask::wrong-Secret-pass');
  expect(r.stdout.replace('::add-mask::wrong-Secret-pass', '')).not.toContain('wrong-Secret-pass');
  expect(r.outputs).toEqual({});
});

/** Every input as the runner passes it: action.yml defaults, `${{ github.* }}` evaluated, then the step's `with:`. */
function asRunner(withInputs: Record<string, string>, github: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, spec] of Object.entries(readActionYml('publish').inputs as Record<string, { default?: string }>)) {
    out[name] = String(spec.default ?? '').replace(/\$\{\{\s*github\.(\w+)\s*\}\}/g, (_m, k: string) => github[k] ?? '');
  }
  return { ...out, ...withInputs };
}

it('sends the job token to no registry but GitHub\'s: the defaults give a loopback registry no credentials', async () => {
  const jobToken = 'ghs_e2eJobTokenSecret';
  const proxy = await startFaultProxy(locked.host);
  try {
    const inputs = asRunner({ image, registry: proxy.host, 'plain-http': 'true', repository: 'team/app', tags: 'v1' }, { token: jobToken, actor: 'octocat' });
    const r = await runBundle('publish', { inputs });
    expect(r.code).toBe(1);
    expect(r.annotations.filter((a) => a.level === 'error')[0].message).toMatch(/refused to .*HTTP 401/);
    expect(proxy.records.length).toBeGreaterThan(0);
    const sent = proxy.records.map((x) => x.authorization).filter((a): a is string => a !== undefined);
    expect(sent).toEqual([]);
    expect(r.stdout.replace(`::add-mask::${jobToken}`, '')).not.toContain(jobToken);
  } finally {
    await proxy.stop();
  }
});

it.each([
  [{}, /no image to publish.*NIX_ACTIONS_IMAGE/],
  [{ image: '/nonexistent/image.tar' }, /image \/nonexistent\/image\.tar does not exist/],
  [{ image: '', tags: '{{nope}}' }, /^Input 'tags': unknown placeholder \{\{nope\}\}/],
  [{ registry: 'ghcr.io', 'plain-http': 'true' }, /plain HTTP is only allowed for a loopback registry, not ghcr\.io/],
  [{ repository: 'Bad Repo;rm' }, /'Bad Repo;rm' is not a valid repository name/],
  [{ labels: 'no-equals-sign' }, /^Input 'labels': 'no-equals-sign' is not key=value/],
  [{ registry: 'evil.example\n::error::injected' }, /is not a registry host|'registry': must be a single line/],
])('refuses %j with one error line', async (inputs, message) => {
  const r = await runBundle('publish', { inputs: inputs as Record<string, string> });
  expect(r.code).toBe(1);
  expect(r.annotations).toHaveLength(1);
  expect(r.annotations[0].level).toBe('error');
  expect(r.annotations[0].message).toMatch(message);
  expect(r.stdout).not.toMatch(/^::error::injected/m);
  expect(r.outputs).toEqual({});
});

it('publishes an index over per-arch digests, and refuses two images of one platform', async () => {
  const base = { registry: open.host, 'plain-http': 'true', repository: 'multi/e2e' };
  const arch = await runBundle('publish', { inputs: { ...base, image, labels: 'none', annotations: 'none' } });
  expect(arch.code).toBe(0);
  expect(arch.outputs.tags).toBe('');
  const other = await runBundle('publish', { inputs: { ...base, image, labels: 'org.example.variant=two' } });
  expect(other.code).toBe(0);
  expect(other.outputs.digest).not.toBe(arch.outputs.digest);

  const dup = await runBundle('publish', { inputs: { ...base, index: `${arch.outputs.digest}\n${other.outputs['image-ref']}`, tags: 'v1' } });
  expect(dup.code).toBe(1);
  expect(dup.annotations.filter((a) => a.level === 'error')[0].message).toMatch(/index children .* are both linux\/(amd64|arm64)\. List one image per platform/);

  const one = await runBundle('publish', { inputs: { ...base, index: arch.outputs['image-ref'], tags: 'v1' } });
  expect(one.code).toBe(0);
  const raw = JSON.parse(await skopeo('inspect', '--tls-verify=false', '--raw', `docker://${open.host}/multi/e2e:v1`));
  expect(raw.mediaType).toBe('application/vnd.oci.image.index.v1+json');
  expect(raw.manifests.map((m: { digest: string }) => m.digest)).toEqual([arch.outputs.digest]);
  expect(one.outputs.digest).not.toBe(arch.outputs.digest);
  expect(one.summary).toContain('| Index | 1 platform |');
});
