/**
 * Markdown for job summaries and pull-request comments, built from text we do not
 * control (input names, store paths, error messages, build output). A table cell
 * must stay one cell: no newline, no unescaped `|`, no raw HTML, no backtick that
 * opens or closes a code span.
 */

/** Untrusted text as one table cell (or one line of prose). */
export function cell(text: string | undefined): string {
  if (!text) return '';
  return text
    .replace(/\\/g, '\\\\')
    .replace(/[\r\n]+/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .replace(/`/g, "'");
}

/**
 * Untrusted text as inline code in a cell; empty text gives an empty cell.
 * Inside a code span Markdown shows entities and backslashes literally and never
 * renders HTML, so only what could end the span, the row or the cell is replaced
 * (GitHub's table parser turns `\|` back into `|` even inside code).
 */
export function code(text: string | undefined): string {
  if (!text) return '';
  return `\`${text.replace(/[\r\n]+/g, ' ').replace(/\|/g, '\\|').replace(/`/g, "'")}\``;
}

/**
 * A table: the header cells, then one row per entry. Cells are Markdown already
 * (pass untrusted parts through `cell`/`code`). `align` marks columns `r` to
 * right-align them (numbers).
 */
export function table(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
  align: readonly ('l' | 'r')[] = [],
): string[] {
  return [
    `|${header.map((h) => (h ? ` ${h} ` : ' ')).join('|')}|`,
    `|${header.map((_, i) => (align[i] === 'r' ? '---:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

/** A size for people: 1536 -> "1.5 KiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}
