import { dirname, resolve } from 'node:path';
import { run } from '../../src/runner/index.js';
import { InputError, UserError } from '../../src/errors.js';
import { Nix } from '../../src/nix/index.js';
import { generateSbom } from '../../src/sbom/index.js';
import { namespaceBase, resolveParty, resolveTarget } from '../../src/sbom/defaults.js';
import pkg from '../../package.json' with { type: 'json' };
import { inputs } from './inputs.js';
import { uploadFiles } from './artifact.js';
import { attestSbom } from './attest.js';

void run(inputs, async (i, rt) => {
  const target = resolveTarget({ installable: i.installable, image: i.image }, rt.env);
  if (i.attest && !/^sha256:[0-9a-f]{64}$/.test(i['subject-digest'] ?? '')) {
    throw new InputError('subject-digest', 'attest: true needs the image digest as sha256:<64 hex digits> (the publish step\'s digest output)');
  }
  if (i.attest && !i['subject-name']) throw new InputError('subject-name', 'attest: true needs the image name the digest belongs to (e.g. ghcr.io/owner/image)');
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
  if (i.attest) {
    if (result.oversized.length) throw new UserError(`${result.oversized[0].path} is over the 16 MiB attestation limit`, { hint: 'Use scope: runtime, or attest: false' });
    for (const f of result.files) {
      const a = await attestSbom({ file: f.path, format: f.format, subjectName: i['subject-name']!, subjectDigest: i['subject-digest']!, token: i['github-token'] ?? '' });
      rt.log.info(`Attested ${f.path} to ${i['subject-name']}@${i['subject-digest']} (attestation ${a.attestationID ?? '?'})`);
    }
  }
});
