import { run } from '../../src/runner/index.js';
import { pipelineSummary, runPipeline } from '../../src/pipeline/pipeline.js';
import pkg from '../../package.json' with { type: 'json' };
import { inputs } from './inputs.js';

void run(inputs, async (i, rt) => {
  const result = await runPipeline({
    installable: i.installable,
    nixVersion: i['nix-version'],
    installerUrl: i['installer-url'],
    installerSha256: i['installer-sha256'],
    registry: i.registry,
    repository: i.repository,
    tags: i.tags,
    username: i.username,
    password: i.password,
    githubToken: i['github-token'],
    plainHttp: i['plain-http'],
    sbomDir: i['sbom-dir'],
    supplier: i.supplier,
    author: i.author,
    toolVersion: pkg.version,
    context: rt.context,
    env: rt.env,
    log: rt.log,
    onSecret: rt.setSecret,
  });
  // A Nix installed here stays available to later steps.
  if (result.nix.installed) {
    for (const p of result.nix.installed.exports.path) rt.addPath(p);
    for (const [k, v] of Object.entries(result.nix.installed.exports.vars)) rt.exportVariable(k, v);
  }
  const cdx = result.sbom.files.find((f) => f.format === 'cyclonedx-json');
  const spdx = result.sbom.files.find((f) => f.format === 'spdx-json');
  rt.setOutput('digest', result.publish.digest);
  rt.setOutput('image-ref', result.publish.imageRef);
  rt.setOutput('tags', result.publish.tags.join(','));
  rt.setOutput('out-path', result.build.outPath);
  rt.setOutput('image', result.build.image.path);
  rt.setOutput('versions', result.versionsFile);
  rt.setOutput('cyclonedx', cdx?.path ?? '');
  rt.setOutput('spdx', spdx?.path ?? '');
  rt.setOutput('components', result.sbom.components);
  rt.log.info(`Published ${result.publish.imageRef}`);
  await rt.summary(pipelineSummary(result));
});
