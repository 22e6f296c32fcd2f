import { InputError } from '../errors.js';

/**
 * One input schema per action. Defaults are written exactly as in action.yml
 * (strings), so a test can compare the two and docs cannot drift from code.
 * Note: this file only describes and parses; reading the environment is in
 * `readInputs` so that parsing is testable without the runner.
 */
export type InputSpec =
  /**
   * One line unless `multiline`: a newline in a name, ref or token is a mistake or an
   * attack (it could smuggle a second nix.conf line, header or workflow command).
   */
  | { type: 'string'; required?: boolean; default?: string; secret?: boolean; multiline?: boolean }
  | { type: 'boolean'; required?: boolean; default?: string }
  | { type: 'integer'; required?: boolean; default?: string; min?: number; max?: number }
  | { type: 'enum'; values: readonly string[]; required?: boolean; default?: string }
  /** Newline- or comma-separated values, blank entries and `#` comments dropped. */
  | { type: 'list'; required?: boolean; default?: string; separator?: 'newline' | 'newline-or-comma' };

export type InputSchema = Record<string, InputSpec>;

type ValueOf<S extends InputSpec> = S extends { type: 'boolean' }
  ? boolean
  : S extends { type: 'integer' }
    ? S extends { required: true } | { default: string }
      ? number
      : number | undefined
    : S extends { type: 'list' }
      ? string[]
      : S extends { type: 'enum'; values: readonly (infer V)[] }
        ? V
        : S extends { required: true } | { default: string }
          ? string
          : string | undefined;

export type Inputs<S extends InputSchema> = { -readonly [K in keyof S]: ValueOf<S[K]> };

const TRUE = ['true', 'True', 'TRUE', 'yes', 'on', '1'];
const FALSE = ['false', 'False', 'FALSE', 'no', 'off', '0'];

export function parseInput(name: string, spec: InputSpec, raw: string | undefined): unknown {
  const given = raw !== undefined && raw.trim() !== '';
  // A default such as `${{ github.token }}` is evaluated by the runner, never here.
  const fallback = spec.default?.includes('${{') ? undefined : spec.default;
  const text = given ? raw!.trim() : fallback;
  if (text === undefined || text === '') {
    if (spec.required) throw new InputError(name, 'is required and was not given');
    if (spec.type === 'boolean') return false;
    if (spec.type === 'list') return [];
    return undefined;
  }
  switch (spec.type) {
    case 'string':
      // The value is not echoed: it may be a secret.
      if (!spec.multiline && /[\r\n]/.test(text)) throw new InputError(name, 'must be a single line (it contains a line break)');
      return text;
    case 'boolean':
      if (TRUE.includes(text)) return true;
      if (FALSE.includes(text)) return false;
      throw new InputError(name, `expected true or false, got '${clip(text)}'`);
    case 'integer': {
      if (!/^-?\d+$/.test(text)) throw new InputError(name, `expected a whole number, got '${clip(text)}'`);
      const n = Number(text);
      if (spec.min !== undefined && n < spec.min) throw new InputError(name, `must be at least ${spec.min}, got ${n}`);
      if (spec.max !== undefined && n > spec.max) throw new InputError(name, `must be at most ${spec.max}, got ${n}`);
      return n;
    }
    case 'enum':
      if (!spec.values.includes(text)) {
        throw new InputError(name, `expected one of ${spec.values.join(', ')}, got '${clip(text)}'`);
      }
      return text;
    case 'list':
      return splitList(text, spec.separator ?? 'newline-or-comma');
  }
}

export function splitList(text: string, separator: 'newline' | 'newline-or-comma' = 'newline-or-comma'): string[] {
  const re = separator === 'newline' ? /\r?\n/ : /\r?\n|,/;
  return text
    .split(re)
    .map((s) => s.trim())
    .filter((s) => s !== '' && !s.startsWith('#'));
}

/** Parses every input of a schema from a lookup function (the environment, in the runner). */
export function parseInputs<S extends InputSchema>(schema: S, lookup: (name: string) => string | undefined): Inputs<S> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(schema)) out[name] = parseInput(name, spec, lookup(name));
  return out as Inputs<S>;
}

/** How the runner passes inputs: INPUT_<NAME> with spaces as underscores, upper-cased. */
export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

function clip(s: string): string {
  const one = s.replace(/[\r\n]+/g, ' ');
  return one.length > 60 ? `${one.slice(0, 57)}...` : one;
}
