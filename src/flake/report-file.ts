import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from './report.js';

/**
 * Where the JSON report goes: `<runner temp>/flake-diff/<step id>.json`, one file
 * per step, so two flake-diff steps in a job do not overwrite each other. The
 * step id (GITHUB_ACTION) becomes a plain file name: anything but letters,
 * digits, `_`, `.` and `-` is replaced, so it cannot leave the directory.
 */
export function reportPath(runnerTemp: string, stepId: string | undefined): string {
  const name = (stepId || 'report').replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+$/, (dots) => '_'.repeat(dots.length));
  return join(runnerTemp, 'flake-diff', `${name}.json`);
}

/** Writes the report (pretty JSON, shape in flake-diff/README.md) and returns its path. */
export function writeReport(report: Report, runnerTemp: string, stepId: string | undefined): string {
  const path = reportPath(runnerTemp, stepId);
  mkdirSync(join(runnerTemp, 'flake-diff'), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}
