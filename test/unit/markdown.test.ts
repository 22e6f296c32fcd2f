import { cell, code, formatBytes, table } from '../../src/markdown.js';
import { pushSummary } from '../../src/cache/summary.js';
import { saveSummary } from '../../src/install/summary.js';

/** The one Markdown escaper every job summary uses for text it does not control. */
const HOSTILE = 'a|b\r\n<img src=x onerror=alert(1)>`x` & c\\|d\n::error::e';

/** The cells of one table row, split the way GFM splits them (`\x` is one escaped character). */
function cellsOf(row: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 1; i < row.length - 1; i++) {
    if (row[i] === '\\') {
      cur += row[i] + row[i + 1];
      i++;
    } else if (row[i] === '|') {
      out.push(cur.trim());
      cur = '';
    } else cur += row[i];
  }
  out.push(cur.trim());
  return out;
}

describe('markdown', () => {
  it('keeps hostile text in one cell: one line, no pipe, no HTML, no code span', () => {
    const c = cell(HOSTILE);
    expect(c).toBe("a\\|b &lt;img src=x onerror=alert(1)&gt;'x' &amp; c\\\\\\|d ::error::e");
    expect(c).not.toMatch(/[\r\n<>`]/);
    const [row] = table(['x', 'y'], [[c, 'second']]).slice(2);
    expect(cellsOf(row)).toHaveLength(2);
    expect(cellsOf(row)[1]).toBe('second');
  });

  it('code wraps the escaped text; nothing for empty text', () => {
    expect(code('a`b|c')).toBe("`a'b\\|c`");
    // Code spans show entities and backslashes literally: a flake URL stays readable.
    expect(code('git+https://x/r?ref=a&rev=b <c>\\d\nnext')).toBe('`git+https://x/r?ref=a&rev=b <c>\\d next`');
    expect(code('')).toBe('');
    expect(code(undefined)).toBe('');
    expect(cell(undefined)).toBe('');
  });

  it('table writes the header, the separator with alignment, and the rows', () => {
    expect(table(['a', 'n'], [['x', 1], ['y', 22]], ['l', 'r'])).toEqual(['| a | n |', '|---|---:|', '| x | 1 |', '| y | 22 |']);
    expect(table(['', ''], [])).toEqual(['| | |', '|---|---|']);
  });

  it('the cache and install summaries escape with it', () => {
    const push = pushSummary({ mode: 'nix-copy', target: 'https://cache.example/x', pushed: ['/nix/store/aaa-x`y'], offered: 1, filtered: 0, seconds: 1, error: HOSTILE });
    const row = push.split('\n').find((l) => l.startsWith('| nix-copy |'))!;
    expect(cellsOf(row)).toHaveLength(7);
    expect(cellsOf(row)[6]).toBe(`failed: ${cell(HOSTILE)}`);
    expect(push).toContain("- `/nix/store/aaa-x'y`");
    const save = saveSummary('key<1>', { saved: false, reason: HOSTILE });
    expect(save).toContain('| Cache key | `key<1>` |');
    expect(save).toContain(`| Saved | no: ${cell(HOSTILE)} |`);
    expect(save).not.toContain('<img');
  });
});

it('formats sizes for people', () => {
  expect([0, 1023, 1536, 5 * 1024 * 1024, 3 * 1024 ** 3].map(formatBytes)).toEqual(['0 B', '1023 B', '1.5 KiB', '5.0 MiB', '3.0 GiB']);
});
