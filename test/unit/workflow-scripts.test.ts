import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT, parseFileCommands } from '../helpers/bundle.js';

/**
 * The shell steps of the reusable workflows, run with bash as the runner runs them
 * (env from the step's `env:`, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files), so the
 * glue between the actions is tested, not only linted.
 */
function stepOf(workflow: string, job: string, pick: (s: any) => boolean): any {
  const doc = parse(readFileSync(join(ROOT, '.github', 'workflows', workflow), 'utf8'));
  const step = doc.jobs[job].steps.find(pick);
  if (!step) throw new Error(`no such step in ${workflow} ${job}`);
  return step;
}

function runScript(step: any, cwd: string, env: Record<string, string> = {}) {
  const output = join(cwd, '_output');
  const summary = join(cwd, '_summary');
  writeFileSync(output, '');
  writeFileSync(summary, '');
  if (/\$\{\{/.test(step.run)) throw new Error('a run: script must take values from env:, not from ${{ }} expressions');
  let code = 0;
  let stdout = '';
  try {
    stdout = execFileSync('bash', ['-e', '-c', step.run], {
      cwd,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary, RUNNER_TEMP: cwd, RUNNER_ARCH: 'X64', ...env },
    });
  } catch (e: any) {
    code = e.status;
    stdout = String(e.stdout);
  }
  return { code, stdout, outputs: parseFileCommands(readFileSync(output, 'utf8')), summary: readFileSync(summary, 'utf8') };
}

const cdx = JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', components: [] }, null, 2);
const spdx = JSON.stringify({ spdxVersion: 'SPDX-2.3' }, null, 2);

describe('pr-checks.yml: picking the SBOMs for sbom-diff', () => {
  const step = stepOf('pr-checks.yml', 'sbom-diff', (s) => s.id === 'files');

  it('finds the CycloneDX file of each side among the SBOM files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-'));
    for (const side of ['head', 'base']) {
      mkdirSync(join(dir, `sbom-${side}`));
      writeFileSync(join(dir, `sbom-${side}`, 'sbom.spdx.json'), spdx);
      writeFileSync(join(dir, `sbom-${side}`, 'sbom.cdx.json'), cdx);
    }
    const r = runScript(step, dir);
    expect(r.code).toBe(0);
    expect(r.outputs).toEqual({ head: 'sbom-head/sbom.cdx.json', base: 'sbom-base/sbom.cdx.json' });
  });

  it('a base that did not build gives a warning, a summary note and no base', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-'));
    mkdirSync(join(dir, 'sbom-head'));
    writeFileSync(join(dir, 'sbom-head', 'sbom.cdx.json'), cdx);
    const r = runScript(step, dir);
    expect(r.code).toBe(0);
    expect(r.outputs).toEqual({ head: 'sbom-head/sbom.cdx.json', base: '' });
    expect(r.stdout).toMatch(/^::warning::the base branch did not build/m);
    expect(r.summary).toMatch(/The base branch did not build/);
  });

  it('a head without a CycloneDX SBOM fails the job with an error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-'));
    mkdirSync(join(dir, 'sbom-head'));
    writeFileSync(join(dir, 'sbom-head', 'sbom.spdx.json'), spdx);
    const r = runScript(step, dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^::error::the head did not build or wrote no CycloneDX SBOM/m);
  });
});

describe('release.yml: handing the arch images to the index job', () => {
  it('each build job records its image-ref; the index job reads them all as a list', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-'));
    const record = stepOf('release.yml', 'build', (s) => s.name === 'Record the arch image for the index job');
    const refs = ['ghcr.io/o/i@sha256:' + 'a'.repeat(64), 'ghcr.io/o/i@sha256:' + 'b'.repeat(64)];
    // Two build jobs (two runner temps), then the download merges their files.
    const merged = join(dir, 'refs');
    mkdirSync(merged);
    refs.forEach((ref, k) => {
      const job = join(dir, `job${k}`);
      mkdirSync(job);
      const arch = k === 0 ? 'X64' : 'ARM64';
      const r = runScript(record, job, { IMAGE_REF: ref, RUNNER_LABEL: `runner-${k}`, RUNNER_ARCH: arch });
      expect(r.code).toBe(0);
      expect(r.summary).toContain(`| runner-${k} | ${arch} | \`${ref}\` |`);
      writeFileSync(join(merged, arch), readFileSync(join(job, 'refs', arch)));
    });
    const collect = stepOf('release.yml', 'index', (s) => s.id === 'refs');
    const r = runScript(collect, dir);
    expect(r.code).toBe(0);
    expect(r.outputs.refs.split('\n').sort()).toEqual([...refs].sort());
  });

  it('the attest job names the subject from the index image-ref and finds the CycloneDX SBOM', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-'));
    mkdirSync(join(dir, 'sbom'));
    writeFileSync(join(dir, 'sbom', 'sbom.spdx.json'), spdx);
    writeFileSync(join(dir, 'sbom', 'sbom.cdx.json'), cdx);
    const step = stepOf('release.yml', 'attest', (s) => s.id === 'subject');
    const r = runScript(step, dir, { IMAGE_REF: 'ghcr.io/o/i@sha256:' + 'c'.repeat(64), RUNNER_LABEL: 'ubuntu-24.04' });
    expect(r.code).toBe(0);
    expect(r.outputs).toEqual({ name: 'ghcr.io/o/i', sbom: 'sbom/sbom.cdx.json' });
  });

  it('the attest job fails clearly when the artifact has no CycloneDX SBOM', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-'));
    mkdirSync(join(dir, 'sbom'));
    writeFileSync(join(dir, 'sbom', 'sbom.spdx.json'), spdx);
    const step = stepOf('release.yml', 'attest', (s) => s.id === 'subject');
    const r = runScript(step, dir, { IMAGE_REF: 'ghcr.io/o/i@sha256:' + 'c'.repeat(64), RUNNER_LABEL: 'ubuntu-24.04' });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^::error::no CycloneDX SBOM in the artifact sbom-ubuntu-24.04/m);
  });
});
