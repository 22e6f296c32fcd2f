import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { run } from '../../src/runner/index.js';
import { InputError, UserError } from '../../src/errors.js';
import { diffSboms, hasChanges, readCycloneDx, summaryMarkdown } from '../../src/sbom-diff/index.js';
import { inputs } from './inputs.js';

void run(inputs, async (input, rt) => {
  for (const name of ['base', 'head'] as const) {
    if (!input[name]) throw new InputError(name, 'is required: the path of a CycloneDX JSON SBOM (the cyclonedx output of the sbom action)');
  }
  const base = resolve(rt.context.workspace, input.base);
  const head = resolve(rt.context.workspace, input.head);
  const diff = diffSboms({ file: input.base, packages: readCycloneDx(base) }, { file: input.head, packages: readCycloneDx(head) });
  const report = resolve(rt.context.workspace, input.report);
  mkdirSync(dirname(report), { recursive: true });
  writeFileSync(report, `${JSON.stringify(diff, null, 2)}\n`);
  rt.setOutput('changed', hasChanges(diff));
  rt.setOutput('added', diff.added.length);
  rt.setOutput('removed', diff.removed.length);
  rt.setOutput('version-changed', diff.changed.length);
  rt.setOutput('report', report);
  await rt.summary(summaryMarkdown(diff));
  rt.log.info(
    `SBOM diff: ${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} version changed, ${diff.rebuilt.length} rebuilt, ${diff.unchanged} unchanged`,
  );
  if (input['fail-on'] === 'change' && hasChanges(diff)) {
    throw new UserError('The packages in the image changed and fail-on is change', {
      hint: 'Review the SBOM diff in the job summary; set fail-on: never to report without failing',
    });
  }
});
