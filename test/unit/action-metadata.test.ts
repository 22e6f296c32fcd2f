import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { ACTIONS, actionYmlPath, readActionYml, loadSchema } from '../helpers/actions.js';
import { ROOT } from '../helpers/bundle.js';

const validator = join(ROOT, 'node_modules', '@action-validator', 'cli', 'cli.mjs');

/**
 * Runs action-validator (the schemastore schema for action metadata). Its bundled
 * schema predates `node24`, so the copy it checks says node20; the runtime itself
 * is asserted separately below.
 */
function validate(yamlText: string): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'action-validate-'));
  const file = join(dir, 'action.yml');
  writeFileSync(file, yamlText.replace(/using: 'node24'/, "using: 'node20'"));
  try {
    return { ok: true, output: execFileSync(process.execPath, [validator, file], { encoding: 'utf8', stdio: 'pipe' }) };
  } catch (e: any) {
    return { ok: false, output: String(e.stdout ?? '') + String(e.stderr ?? '') };
  }
}

describe.each(Object.entries(ACTIONS))('%s/action.yml', (folder, entry) => {
  const yml = readActionYml(folder);

  it('validates against the action metadata schema', () => {
    const result = validate(readFileSync(actionYmlPath(folder), 'utf8'));
    expect(result.output).not.toMatch(/"errors": \[\s*\{/);
    expect(result.ok).toBe(true);
  });

  it('runs on node24 from a dist bundle that exists', () => {
    expect(yml.runs.using).toBe('node24');
    for (const key of ['main', 'post'] as const) {
      if (!yml.runs[key]) continue;
      const bundle = resolve(dirname(actionYmlPath(folder)), yml.runs[key]);
      expect(bundle.startsWith(join(ROOT, 'dist', entry))).toBe(true);
      expect(existsSync(bundle)).toBe(true);
    }
    expect(existsSync(join(ROOT, 'actions', entry, 'post.ts'))).toBe(Boolean(yml.runs.post));
  });

  it('declares exactly the inputs of its schema, with the same defaults', async () => {
    const schema = await loadSchema(entry);
    expect(Object.keys(yml.inputs ?? {}).sort()).toEqual(Object.keys(schema).sort());
    for (const [name, spec] of Object.entries(schema)) {
      const declared = yml.inputs[name];
      expect({ name, description: typeof declared.description === 'string' && declared.description.length > 10 }).toEqual({
        name,
        description: true,
      });
      expect({ name, required: Boolean(declared.required) }).toEqual({ name, required: Boolean(spec.required) });
      expect({ name, default: declared.default === undefined ? undefined : String(declared.default) }).toEqual({
        name,
        default: spec.default,
      });
    }
  });

  it('describes every output and has branding', () => {
    for (const [name, out] of Object.entries<any>(yml.outputs ?? {})) {
      expect({ name, ok: typeof out.description === 'string' && out.description.length > 5 }).toEqual({ name, ok: true });
    }
    expect(yml.branding?.icon).toBeTruthy();
    expect(yml.branding?.color).toBeTruthy();
  });
});

it('the validator rejects broken metadata (so the checks above can fail)', () => {
  const result = validate("name: x\ndescription: y\nruns:\n  using: 'node24'\n");
  expect(result.ok).toBe(false);
});
