import { run } from '../../src/runner/index.js';
import { Nix } from '../../src/nix/index.js';
import { archiveSummary, createArchive, verifyArchive } from '../../src/archive/index.js';
import { uploadDirectory } from './artifact.js';
import { inputs } from './inputs.js';

void run(inputs, async (i, rt) => {
  const nix = await Nix.detect({ log: rt.log });
  const archive = await createArchive(nix, rt.log, {
    installable: i.installable,
    scope: i.scope as 'build' | 'runtime',
    dir: i.path,
    cwd: rt.context.workspace,
  });
  rt.setOutput('path', archive.dir);
  rt.setOutput('manifest', archive.manifestPath);
  rt.setOutput('size', archive.size);
  rt.log.info(`archived ${archive.manifest.paths.length} store paths into ${archive.dir} (${archive.size} bytes)`);
  const verified = i.verify ? await verifyArchive(nix, rt.log, archive.dir, { tmp: rt.context.runnerTemp }) : undefined;
  await rt.summary(archiveSummary(archive, verified));
  if (i.upload) {
    const up = await uploadDirectory(archive.dir);
    rt.log.info(`uploaded artifact '${up.name}' (id ${up.id ?? '?'}, ${up.size ?? '?'} bytes)`);
  }
});
