import { dirname, resolve } from 'node:path';
import { run } from '../../src/runner/index.js';
import { Nix } from '../../src/nix/index.js';
import { generateSbom } from '../../src/sbom/index.js';
import { assertAttestable, namespaceBase, resolveAttestSubject, resolveParty, resolveTarget } from '../../src/sbom/defaults.js';
import pkg from '../../package.json' with { type: 'json' };
import { inputs } from './inputs.js';
import { uploadFiles } from './artifact.js';
import { attestSbom } from './attest.js';

void run(inputs, async (i, rt) => {
  const target = resolveTarget({ installable: i.installable, image: i.image }, rt.env);
  const subject = resolveAttestSubject({ attest: i.attest, subjectName: i['subject-name'], subjectDigest: i['subject-digest'] });
  const workspace = rt.context.workspace;
  const nix = await Nix.detect({ log: rt.log, cwd: workspace });
  const result = await generateSbom({
    nix,
    log: rt.log,
    ...target,
    scope: i.scope,
    formats: i.format,
    outputDir: resolve(workspace, i['output-dir']),
    supplier: resolveParty('supplier', i.supplier, rt.context),
    author: resolveParty('author', i.author, rt.context),
    endOfSupport: i['end-of-support'],
    sourceDateEpoch: rt.env.SOURCE_DATE_EPOCH,
    workspace,
    namespaceBase: namespaceBase(rt.context),
    toolVersion: pkg.version,
  });
  const file = (f: string) => result.files.find((x) => x.format === f)?.path ?? '';
  rt.setOutput('cyclonedx', file('cyclonedx-json'));
  rt.setOutput('spdx', file('spdx-json'));
  rt.setOutput('components', result.components);
  await rt.summary(result.summary);
  if (i.upload) {
    const up = await uploadFiles(i['artifact-name'], result.files.map((f) => f.path), dirname(result.files[0].path));
    rt.log.info(`Uploaded artifact '${i['artifact-name']}' (id ${up.id ?? '?'}, ${up.size ?? '?'} bytes)`);
  }
  if (subject) {
    assertAttestable(result.oversized);
    for (const f of result.files) {
      const a = await attestSbom({ file: f.path, format: f.format, subjectName: subject.name, subjectDigest: subject.digest, token: i['github-token'] ?? '' });
      rt.log.info(`Attested ${f.path} to ${subject.name}@${subject.digest} (attestation ${a.attestationID ?? '?'})`);
    }
  }
});
