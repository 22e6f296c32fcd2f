import { InputError } from '../errors.js';
import type { Component } from './model.js';

/**
 * The `end-of-support` input: one `name=YYYY-MM-DD` per line (or comma-separated),
 * `name` being a component name as listed in the SBOM. A name that matches nothing
 * fails: a date silently dropped would be worse than none.
 */
export function parseEndOfSupport(lines: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lines) {
    const m = /^([A-Za-z0-9][A-Za-z0-9._+-]*)\s*=\s*(\d{4})-(\d{2})-(\d{2})$/.exec(line);
    if (!m) {
      throw new InputError('end-of-support', `expected lines of name=YYYY-MM-DD (a component name, then a date), got '${clip(line)}'`);
    }
    const [, name, y, mo, d] = m;
    const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
    if (date.getUTCFullYear() !== Number(y) || date.getUTCMonth() !== Number(mo) - 1 || date.getUTCDate() !== Number(d)) {
      throw new InputError('end-of-support', `'${y}-${mo}-${d}' for ${name} is not a calendar date`);
    }
    if (out.has(name)) throw new InputError('end-of-support', `${name} is given twice`);
    out.set(name, `${y}-${mo}-${d}`);
  }
  return out;
}

export function applyEndOfSupport(components: Component[], dates: Map<string, string>): void {
  const unmatched = new Set(dates.keys());
  for (const c of components) {
    const date = dates.get(c.name);
    if (date && !c.flakeInput) {
      c.endOfSupport = date;
      unmatched.delete(c.name);
    }
  }
  if (unmatched.size) {
    const names = [...unmatched].sort().join(', ');
    throw new InputError('end-of-support', `no component is named ${names}; use a name as the SBOM lists it (pname, e.g. glibc)`);
  }
}

function clip(s: string): string {
  const one = s.replace(/[\r\n]+/g, ' ');
  return one.length > 60 ? `${one.slice(0, 57)}...` : one;
}
