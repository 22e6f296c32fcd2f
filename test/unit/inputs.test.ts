import { parseInputs, splitList, inputEnvName, type InputSchema } from '../../src/runner/inputs.js';
import { InputError } from '../../src/errors.js';

const schema = {
  name: { type: 'string', required: true },
  flag: { type: 'boolean', default: 'false' },
  mode: { type: 'enum', values: ['a', 'b'], default: 'a' },
  days: { type: 'integer', default: '30', min: 0 },
  tags: { type: 'list', default: '' },
  token: { type: 'string', default: '${{ github.token }}', secret: true },
} as const satisfies InputSchema;

const parse = (given: Record<string, string>) => parseInputs(schema, (n) => given[n]);

describe('input parsing', () => {
  it('applies defaults and types', () => {
    expect(parse({ name: 'x' })).toEqual({ name: 'x', flag: false, mode: 'a', days: 30, tags: [], token: undefined });
  });

  it('parses booleans, enums, integers and lists', () => {
    const v = parse({ name: ' x ', flag: 'true', mode: 'b', days: '7', tags: 'v1\nlatest, edge\n# comment\n\n' });
    expect(v).toEqual({ name: 'x', flag: true, mode: 'b', days: 7, tags: ['v1', 'latest', 'edge'], token: undefined });
  });

  it.each([
    [{}, "Input 'name': is required and was not given"],
    [{ name: 'x', flag: 'maybe' }, "Input 'flag': expected true or false, got 'maybe'"],
    [{ name: 'x', mode: 'c' }, "Input 'mode': expected one of a, b, got 'c'"],
    [{ name: 'x', days: '3d' }, "Input 'days': expected a whole number, got '3d'"],
    [{ name: 'x', days: '-1' }, "Input 'days': must be at least 0, got -1"],
  ])('%j gives one clear line', (given, message) => {
    expect(() => parse(given as Record<string, string>)).toThrow(InputError);
    expect(() => parse(given as Record<string, string>)).toThrow(message);
  });

  it('refuses a line break in a one-line string without echoing the value', () => {
    expect(() => parse({ name: 'x', token: 'ghp_secret\nextra-line' })).toThrow("Input 'token': must be a single line (it contains a line break)");
    try {
      parse({ name: 'x', token: 'ghp_secret\nextra-line' });
    } catch (e) {
      expect((e as Error).message).not.toContain('ghp_secret');
    }
    const multi = parseInputs({ conf: { type: 'string', multiline: true } } as const, () => 'a = 1\nb = 2');
    expect(multi.conf).toBe('a = 1\nb = 2');
  });

  it('never echoes a hostile multi-line value across lines', () => {
    try {
      parse({ name: 'x', mode: 'a\n::set-output name=x::y' });
      throw new Error('no error');
    } catch (e) {
      expect((e as Error).message).not.toContain('\n');
    }
  });

  it('splits lists and names env variables like the runner', () => {
    expect(splitList('a,b\nc', 'newline')).toEqual(['a,b', 'c']);
    expect(inputEnvName('github-token')).toBe('INPUT_GITHUB-TOKEN');
    expect(inputEnvName('my input')).toBe('INPUT_MY_INPUT');
  });
});
