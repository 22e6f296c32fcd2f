import { run } from '../../src/runner/index.js';
import { chooseBase } from '../../src/git/base.js';
import { flakeDiff } from '../../src/flake/check.js';
import { annotate, failure, parseRules } from '../../src/flake/outcome.js';
import { renderMarkdown } from '../../src/flake/report.js';
import { writeReport } from '../../src/flake/report-file.js';
import { postComment } from '../../src/flake/comment.js';
import { inputs } from './inputs.js';

void run(inputs, async (i, rt) => {
  const report = await flakeDiff({
    cwd: rt.context.workspace,
    lockFiles: i['lock-file'],
    base: chooseBase(rt.context, i.base),
    token: i['github-token'],
    serverUrl: rt.context.serverUrl,
    installable: i.installable,
    log: rt.log,
    policy: {
      rules: parseRules(i.policy),
      maxAgeDays: i['max-age-days'],
      nixpkgsInputs: i['nixpkgs-inputs'],
      supportedBranches: i['supported-branches'],
      allowedHosts: i['allowed-hosts'],
      allowedOwners: i['allowed-owners'],
      now: new Date(),
    },
  });
  annotate(report, rt.log, i['fail-on']);
  const reportPath = writeReport(report, rt.context.runnerTemp, rt.env.GITHUB_ACTION);
  rt.setOutput('changed', report.changed);
  rt.setOutput('report', reportPath);
  rt.setOutput('violations', report.violations);
  await rt.summary(renderMarkdown(report));
  await postComment({ mode: i.comment, context: rt.context, token: i['github-token'], report, lockFiles: i['lock-file'], log: rt.log });
  const failed = failure(report, i['fail-on']);
  if (failed) throw failed;
});
