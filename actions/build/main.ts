import { join } from 'node:path';
import { run } from '../../src/runner/index.js';
import { Nix } from '../../src/nix/index.js';
import { buildImage, buildSummary, writeVersionsFile } from '../../src/build/index.js';
import { inputs } from './inputs.js';

void run(inputs, async (i, rt) => {
  const nix = await Nix.detect({ log: rt.log });
  const dir = join(rt.context.runnerTemp, 'nix-actions', `build-${rt.context.runId}-${process.pid}`);
  const report = await buildImage(nix, rt.log, {
    installable: i.installable,
    args: i.args,
    outLink: join(dir, 'result'),
  });
  const versions = join(dir, 'versions.json');
  await writeVersionsFile(versions, report.versions);

  rt.setOutput('out-path', report.outPath);
  rt.setOutput('drv-path', report.drvPath);
  rt.setOutput('image', report.image.path);
  rt.setOutput('image-format', report.image.format);
  rt.setOutput('versions', versions);
  rt.setOutput('closure-size', report.closure.closureSize);
  // Later steps (sbom, publish, archive) default to these.
  rt.exportVariable('NIX_ACTIONS_IMAGE', report.image.path);
  rt.exportVariable('NIX_ACTIONS_IMAGE_FORMAT', report.image.format);
  rt.exportVariable('NIX_ACTIONS_INSTALLABLE', report.installable);
  rt.exportVariable('NIX_ACTIONS_DRV_PATH', report.drvPath);
  rt.exportVariable('NIX_ACTIONS_VERSIONS', versions);
  rt.log.info(
    `${report.image.format} image ${report.image.path}: ${report.closure.entries.length} store paths, ${report.closure.closureSize} bytes`,
  );
  await rt.summary(buildSummary(report));
});
