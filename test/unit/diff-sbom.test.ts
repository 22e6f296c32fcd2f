import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/errors.js';
import { cell, compareVersions, diffSboms, hasChanges, readCycloneDx, summaryMarkdown } from '../../src/sbom-diff/index.js';

const dir = mkdtempSync(join(tmpdir(), 'sbom-diff-'));
let n = 0;
function file(content: unknown): string {
  const p = join(dir, `f${n++}.json`);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return p;
}
const comp = (name: string, version: string, sha?: string, extra: object = {}) => ({
  type: 'library',
  name,
  version,
  ...(sha ? { hashes: [{ alg: 'SHA-256', content: sha }] } : {}),
  ...extra,
});
const bom = (components: unknown[]) => ({ bomFormat: 'CycloneDX', specVersion: '1.6', components });
const diffOf = (a: unknown[], b: unknown[]) => {
  const fa = file(bom(a));
  const fb = file(bom(b));
  return diffSboms({ file: fa, packages: readCycloneDx(fa) }, { file: fb, packages: readCycloneDx(fb) });
};

describe('readCycloneDx', () => {
  it('reads names, versions, purls, hashes and nested components', () => {
    const f = file(bom([comp('hello', '2.12.1', 'aa', { purl: 'pkg:nix/hello@2.12.1', components: [comp('libgreet', '1.2.3')] })]));
    expect(readCycloneDx(f)).toEqual([
      { name: 'hello', version: '2.12.1', purl: 'pkg:nix/hello@2.12.1', hashes: ['SHA-256:aa'] },
      { name: 'libgreet', version: '1.2.3', purl: undefined, hashes: [] },
    ]);
  });

  it('a document without components has no packages', () => {
    expect(readCycloneDx(file({ bomFormat: 'CycloneDX', specVersion: '1.6' }))).toEqual([]);
  });

  it.each([
    ['invalid JSON', '{\n  "bomFormat": "CycloneDX",\n  "components": [,]\n}', /is not valid JSON/],
    ['an SPDX document', { spdxVersion: 'SPDX-2.3', packages: [] }, /is not a CycloneDX document/],
    ['null', 'null', /is not a CycloneDX document/],
    ['components not a list', { bomFormat: 'CycloneDX', components: {} }, /"components" is not a list/],
    ['a nameless component', bom([{ type: 'library', version: '1' }]), /component components\[0\] has no name/],
  ])('%s is a one-line user error naming the file', (_what, content, message) => {
    const f = file(content);
    let error: unknown;
    try {
      readCycloneDx(f);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).oneLine).toMatch(message);
    expect((error as UserError).oneLine).toContain(f);
    expect((error as UserError).oneLine).not.toContain('\n');
  });

  it('a missing file says so', () => {
    expect(() => readCycloneDx(join(dir, 'nope.json'))).toThrow(/cannot be read \(ENOENT\)/);
  });
});

describe('diffSboms', () => {
  it('finds added, removed, version-changed, rebuilt and unchanged packages', () => {
    const d = diffOf(
      [comp('hello', '2.12.0', 'a1'), comp('libgreet', '1.2.3', 'b1'), comp('old-tool', '1.0', 'c1'), comp('base-files', '1.0', 'd1')],
      [comp('hello', '2.12.1', 'a2'), comp('libgreet', '1.2.3', 'b2'), comp('new-tool', '0.1', 'e1'), comp('base-files', '1.0', 'd1')],
    );
    expect(d.added).toEqual([{ name: 'new-tool', versions: ['0.1'] }]);
    expect(d.removed).toEqual([{ name: 'old-tool', versions: ['1.0'] }]);
    expect(d.changed).toEqual([{ name: 'hello', from: ['2.12.0'], to: ['2.12.1'] }]);
    expect(d.rebuilt).toEqual([{ name: 'libgreet', versions: ['1.2.3'] }]);
    expect(d.unchanged).toBe(1);
    expect(d.base.packages).toBe(4);
    expect(hasChanges(d)).toBe(true);
  });

  it('identical SBOMs have no changes', () => {
    const list = [comp('a', '1', 'x'), comp('b', '2', 'y')];
    const d = diffOf(list, list);
    expect(hasChanges(d)).toBe(false);
    expect(d.unchanged).toBe(2);
  });

  it('compares a name present at several versions as a set (two outputs are one entry)', () => {
    const d = diffOf([comp('openssl', '3.0.1'), comp('openssl', '3.0.1'), comp('zlib', '1.2'), comp('zlib', '1.3')], [comp('openssl', '3.0.1'), comp('zlib', '1.3')]);
    expect(d.changed).toEqual([{ name: 'zlib', from: ['1.2', '1.3'], to: ['1.3'] }]);
    expect(d.unchanged).toBe(1);
  });

  it('without hashes on one side a same-version package is not called rebuilt', () => {
    const d = diffOf([comp('a', '1')], [comp('a', '1', 'x')]);
    expect(d.rebuilt).toEqual([]);
    expect(d.unchanged).toBe(1);
  });

  it('orders versions naturally', () => {
    expect(['1.10', '1.9', '1.2.3', ''].sort(compareVersions)).toEqual(['', '1.2.3', '1.9', '1.10']);
  });
});

describe('summaryMarkdown', () => {
  it('tabulates the changes', () => {
    const md = summaryMarkdown(diffOf([comp('hello', '2.12.0')], [comp('hello', '2.12.1'), comp('jq', '1.7')]));
    expect(md).toContain('| version changed | hello | 2.12.0 | 2.12.1 |');
    expect(md).toContain('| added | jq | | 1.7 |');
    expect(md).toMatch(/\| added \| 1 \|/);
  });

  it('says when nothing changed', () => {
    expect(summaryMarkdown(diffOf([comp('a', '1')], [comp('a', '1')]))).toContain('No package was added, removed, changed or rebuilt.');
  });

  it('hostile names cannot break the table, inject HTML or workflow commands', () => {
    const evil = 'x|y\n::error::pwned <img src=x onerror=alert(1)> `rm -rf /` -rf';
    const md = summaryMarkdown(diffOf([], [comp(evil, '1;$(id)')]));
    const row = md.split('\n').find((l) => l.startsWith('| added | x'))!;
    expect(row.split(/(?<!\\)\|/).length).toBe(6); // 4 cells + the two outer bars
    expect(md).not.toMatch(/<img/);
    expect(md).not.toMatch(/^::/m);
    expect(cell('a\r\nb')).toBe('a b');
  });
});
