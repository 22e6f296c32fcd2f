import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../src/runner/index.js';
import { InputError, UserError } from '../../src/errors.js';
import { chooseBase } from '../../src/git/base.js';
import { flakeDiff } from '../../src/flake/check.js';
import { RULES, type RuleId } from '../../src/flake/policy.js';
import { renderMarkdown } from '../../src/flake/report.js';
import { postComment } from '../../src/flake/comment.js';
import { inputs } from './inputs.js';

void run(inputs, async (i, rt) => {
  const unknown = i.policy.filter((r) => !(r in RULES));
  if (unknown.length) throw new InputError('policy', `unknown rule '${unknown[0]}' (rules: ${Object.keys(RULES).join(', ')})`);
  const report = await flakeDiff({
    cwd: rt.context.workspace,
    lockFiles: i['lock-file'],
    base: chooseBase(rt.context, i.base),
    token: i['github-token'],
    serverUrl: rt.context.serverUrl,
    installable: i.installable,
    log: rt.log,
    policy: {
      rules: i.policy as RuleId[],
      maxAgeDays: i['max-age-days'],
      nixpkgsInputs: i['nixpkgs-inputs'],
      supportedBranches: i['supported-branches'],
      allowedHosts: i['allowed-hosts'],
      allowedOwners: i['allowed-owners'],
      now: new Date(),
    },
  });
  const failOnViolation = i['fail-on'] !== 'never';
  for (const f of report.files) {
    for (const v of f.violations) {
      rt.log[failOnViolation ? 'error' : 'warning'](v.message, { file: v.file, line: v.line, title: `flake-diff policy (${v.rule})` });
    }
  }
  const dir = join(rt.context.runnerTemp, 'flake-diff');
  mkdirSync(dir, { recursive: true });
  const reportPath = join(dir, `${(rt.env.GITHUB_ACTION || 'report').replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);
  writeFileSync(reportPath, `${JSON.stringify(report, null, 2)}\n`);
  rt.setOutput('changed', report.changed);
  rt.setOutput('report', reportPath);
  rt.setOutput('violations', report.violations);
  await rt.summary(renderMarkdown(report));
  await postComment({ mode: i.comment, context: rt.context, token: i['github-token'], report, lockFiles: i['lock-file'], log: rt.log });
  const failChange = i['fail-on'] === 'change' && report.changed;
  if ((failOnViolation && report.violations > 0) || failChange) {
    const parts = [
      report.violations && failOnViolation ? `${report.violations} policy violation${report.violations === 1 ? '' : 's'}` : '',
      failChange ? 'lock changes' : '',
    ].filter(Boolean);
    throw new UserError(`flake-diff found ${parts.join(' and ')} (fail-on: ${i['fail-on']})`, {
      hint: 'See the annotations and the job summary; set fail-on: never to report without failing',
    });
  }
});
