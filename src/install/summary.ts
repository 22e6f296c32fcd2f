import { cell, code, table } from '../markdown.js';
import { formatSize } from './cache.js';
import type { InstallResult } from './install.js';
import type { SaveResult } from './post.js';

const WHAT: Record<InstallResult['action'], (r: InstallResult) => string> = {
  installed: () => 'installed from the verified tarball',
  restored: (r) => `restored /nix from the cache (${code(r.cache!.matchedKey!)}): configuration applied, not reinstalled`,
  existing: (r) => `already installed (${cell(r.existing!.where)}): configuration applied, not reinstalled`,
};

/** The job-summary table of the main step. */
export function installSummary(r: InstallResult): string {
  const rows: [string, string][] = [
    ['Nix version', code(r.version)],
    ['System', code(r.system)],
    ['What happened', WHAT[r.action](r)],
  ];
  if (r.source && r.download) {
    rows.push(['Tarball', code(r.source.url)]);
    rows.push(['SHA-256 (verified before unpacking)', code(r.download.sha256)]);
    rows.push(['Hash from', cell(r.source.hashSource)]);
    rows.push(['Size', formatSize(r.download.size)]);
  }
  if (r.storePaths) rows.push(['Store paths', `${r.storePaths.added} added, ${r.storePaths.present} already present`]);
  rows.push(['nix.conf', `${code(r.conf.file)} (mode ${r.conf.mode.toString(8).padStart(4, '0')})`]);
  if (r.cache) {
    rows.push(['Cache key', code(r.cache.key)]);
    rows.push(['Cache restored', r.cache.matchedKey ? `${code(r.cache.matchedKey)}${r.cache.hit ? ' (exact)' : ' (prefix)'}` : 'no']);
    rows.push(['flake.lock files in key', r.cache.lockFiles.length ? r.cache.lockFiles.map(code).join(', ') : 'none']);
  }
  rows.push(['Time', `${r.seconds.total.toFixed(2)} s`]);
  const conf = r.conf.shown.replace(/```/g, "'''");
  return `### install-nix\n\n${table(['', ''], rows).join('\n')}\n\n<details><summary>nix.conf block (tokens masked)</summary>\n\n\`\`\`\n${conf}\`\`\`\n\n</details>\n`;
}

/** The job-summary table of a cache save. */
export function saveSummary(key: string, r: SaveResult): string {
  const rows: [string, string][] = [
    ['Cache key', code(key)],
    ['Saved', r.saved ? 'yes' : `no: ${cell(r.reason)}`],
  ];
  if (r.gc) {
    rows.push(['Store before GC', formatSize(r.gc.before)]);
    rows.push(['Store after GC', formatSize(r.gc.after)]);
  }
  return `### install-nix: store cache\n\n${table(['', ''], rows).join('\n')}\n`;
}
