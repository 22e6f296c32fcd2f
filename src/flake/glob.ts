/**
 * Minimal glob matching for lock-file patterns (`flake.lock`, `*\/flake.lock`,
 * `**\/flake.lock`, `nix/?/flake.lock`): `*` and `?` stay within one path
 * segment, `**` spans any number of segments.
 */
export const isGlob = (pattern: string): boolean => /[*?[]/.test(pattern);

export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      const slash = pattern[i + 2] === '/';
      re += slash ? '(?:[^/]*/)*' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        const body = pattern.slice(i + 1, end).replace(/\\/g, '\\\\');
        re += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function matchGlob(pattern: string, files: Iterable<string>): string[] {
  const re = globToRegExp(pattern);
  return [...files].filter((f) => re.test(f));
}
