import { ACTIONS, loadSchema } from '../helpers/actions.js';
import { runBundle } from '../helpers/bundle.js';

/**
 * Every bundle, run as the runner runs it, turns a bad input into exactly one
 * `::error` line naming the input, exit code 1, and no stack trace.
 */
const cases: [string, string, string, string, RegExp][] = [];
for (const [folder, entry] of Object.entries(ACTIONS)) {
  const schema = await loadSchema(entry);
  for (const [name, spec] of Object.entries(schema)) {
    if (spec.type === 'boolean') cases.push([folder, entry, name, 'maybe', /expected true or false, got 'maybe'/]);
    if (spec.type === 'enum') cases.push([folder, entry, name, 'bogus', new RegExp(`expected one of ${spec.values.join(', ')}, got 'bogus'`)]);
    if (spec.type === 'integer') cases.push([folder, entry, name, 'ten', /expected a whole number, got 'ten'/]);
    if (spec.required) cases.push([folder, entry, name, '', /is required and was not given/]);
    if (spec.type === 'string' && !spec.multiline) cases.push([folder, entry, name, 'one\ntwo', /must be a single line/]);
  }
}

describe.each(cases)('%s (%s): input %s = %j', (_folder, entry, name, value, message) => {
  it('fails with one clear error line', async () => {
    const result = await runBundle(entry, { inputs: { [name]: value } });
    expect(result.code).toBe(1);
    expect(result.annotations).toHaveLength(1);
    expect(result.annotations[0].level).toBe('error');
    expect(result.annotations[0].message).toMatch(new RegExp(`^Input '${name}': `));
    expect(result.annotations[0].message).toMatch(message);
    expect(result.stdout + result.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
    expect(result.outputs).toEqual({});
  });
});

it('covers every action, and booleans, enums, integers and one-line strings across the suite', () => {
  expect(new Set(cases.map((c) => c[1]))).toEqual(new Set(Object.values(ACTIONS)));
  for (const kind of ['true or false', 'one of', 'whole number', 'single line']) {
    expect({ kind, covered: cases.some((c) => c[4].source.includes(kind)) }).toEqual({ kind, covered: true });
  }
});
