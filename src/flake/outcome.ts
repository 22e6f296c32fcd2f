import { InputError, UserError } from '../errors.js';
import type { Log } from '../log.js';
import { RULES, type RuleId } from './policy.js';
import type { Report } from './report.js';

/**
 * What the step makes of a report: annotations on flake.lock, and whether it fails.
 * `fail-on` is a threshold: `never` < `violation` < `change` (which fails on any
 * lock change and, like `violation`, on any policy violation).
 */
export type FailOn = 'never' | 'violation' | 'change';

export function parseRules(names: string[]): RuleId[] {
  for (const n of names) {
    if (!(n in RULES)) throw new InputError('policy', `unknown rule '${n}' (rules: ${Object.keys(RULES).join(', ')})`);
  }
  return names as RuleId[];
}

/** One annotation per violation at the line where its node starts: errors when they fail the step, else warnings. */
export function annotate(report: Report, log: Log, failOn: FailOn): void {
  const level = failOn === 'never' ? 'warning' : 'error';
  for (const f of report.files) {
    for (const v of f.violations) log[level](v.message, { file: v.file, line: v.line, title: `flake-diff policy (${v.rule})` });
  }
}

/** The error that fails the step, or undefined when it passes. */
export function failure(report: Report, failOn: FailOn): UserError | undefined {
  const parts: string[] = [];
  if (failOn !== 'never' && report.violations > 0) parts.push(`${report.violations} policy violation${report.violations === 1 ? '' : 's'}`);
  if (failOn === 'change' && report.changed) parts.push('lock changes');
  if (!parts.length) return undefined;
  return new UserError(`flake-diff found ${parts.join(' and ')} (fail-on: ${failOn})`, {
    hint: 'See the annotations and the job summary; set fail-on: never to report without failing',
  });
}
