import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBundle, runnerFiles } from '../helpers/bundle.js';

/** The sbom-diff bundle as the runner runs it: outputs, report file and summary. */
const bom = (components: { name: string; version: string }[]) =>
  JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', components: components.map((c) => ({ type: 'library', ...c })) });

function workspace(base: string, head: string): string {
  const files = runnerFiles();
  writeFileSync(join(files.dir, 'base.cdx.json'), base);
  writeFileSync(join(files.dir, 'head.cdx.json'), head);
  return files.dir;
}

describe('sbom-diff bundle', () => {
  it('reports the package changes in outputs, the JSON report and the job summary', async () => {
    const ws = workspace(bom([{ name: 'hello', version: '2.12.0' }, { name: 'gone', version: '1' }]), bom([{ name: 'hello', version: '2.12.1' }, { name: 'jq', version: '1.7' }]));
    const r = await runBundle('sbom-diff', { cwd: ws, inputs: { base: 'base.cdx.json', head: 'head.cdx.json', report: 'out/diff.json' } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.outputs).toEqual({ changed: 'true', added: '1', removed: '1', 'version-changed': '1', report: join(ws, 'out/diff.json') });
    const report = JSON.parse(readFileSync(join(ws, 'out/diff.json'), 'utf8'));
    expect(report.changed).toEqual([{ name: 'hello', from: ['2.12.0'], to: ['2.12.1'] }]);
    expect(r.summary).toContain('| version changed | hello | 2.12.0 | 2.12.1 |');
  });

  it('fail-on: change fails the step after writing the report', async () => {
    const ws = workspace(bom([{ name: 'a', version: '1' }]), bom([{ name: 'a', version: '2' }]));
    const r = await runBundle('sbom-diff', { cwd: ws, inputs: { base: 'base.cdx.json', head: 'head.cdx.json', 'fail-on': 'change' } });
    expect(r.code).toBe(1);
    expect(r.annotations.map((a) => a.message)).toEqual([expect.stringMatching(/^The packages in the image changed and fail-on is change/)]);
    expect(r.outputs.changed).toBe('true');
  });

  it('an unchanged image passes fail-on: change', async () => {
    const same = bom([{ name: 'a', version: '1' }]);
    const r = await runBundle('sbom-diff', { cwd: ws(same), inputs: { base: 'base.cdx.json', head: 'head.cdx.json', 'fail-on': 'change' } });
    expect(r.code).toBe(0);
    expect(r.outputs.changed).toBe('false');
    function ws(t: string) {
      return workspace(t, t);
    }
  });

  it.each(['base', 'head'])('a missing %s is named in one error line', async (name) => {
    const ws = workspace(bom([]), bom([]));
    const r = await runBundle('sbom-diff', { cwd: ws, inputs: { base: 'base.cdx.json', head: 'head.cdx.json', [name]: '' } });
    expect(r.code).toBe(1);
    expect(r.annotations.map((a) => a.message)).toEqual([expect.stringMatching(new RegExp(`^Input '${name}': is required`))]);
  });

  it('an SPDX file given as the base is one clear error naming it', async () => {
    const ws = workspace(JSON.stringify({ spdxVersion: 'SPDX-2.3' }), bom([]));
    const r = await runBundle('sbom-diff', { cwd: ws, inputs: { base: 'base.cdx.json', head: 'head.cdx.json' } });
    expect(r.code).toBe(1);
    expect(r.annotations).toHaveLength(1);
    expect(r.annotations[0].message).toMatch(/SBOM '.*\/base.cdx.json' is not a CycloneDX document/);
    expect(r.annotations[0].props.file).toBe(join(ws, 'base.cdx.json'));
    expect(r.outputs).toEqual({});
  });
});
