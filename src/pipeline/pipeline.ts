import { join, resolve } from 'node:path';
import { userInfo } from 'node:os';
import type { RunContext } from '../github/context.js';
import type { Log } from '../log.js';
import { isUserError, UserError } from '../errors.js';
import { Nix } from '../nix/index.js';
import { installNix, type InstallResult } from '../install/install.js';
import { buildImage, buildSummary, writeVersionsFile, type BuildReport } from '../build/index.js';
import { generateSbom, type SbomResult } from '../sbom/index.js';
import { namespaceBase, resolveParty } from '../sbom/defaults.js';
import { publish, summaryMarkdown as publishSummary, type PublishOutcome } from '../publish/publish.js';

/**
 * The one-step pipeline of the root action: install Nix if it is missing, build
 * the image, write its SBOM, publish it. Each stage is the same core the separate
 * actions run (src/install, src/build, src/sbom, src/publish), called with the
 * previous stage's results instead of exported environment variables, so the one
 * step and the separate steps cannot drift apart.
 */
export interface PipelineRequest {
  installable: string;
  /** Used only when Nix is missing: as install-nix's inputs of the same names. */
  nixVersion: string;
  installerUrl: string;
  installerSha256: string;
  registry: string;
  repository: string;
  tags: string[];
  username: string;
  password: string;
  /** The job token: publish uses it for GitHub's container registry only. */
  githubToken: string;
  plainHttp: boolean;
  sbomDir: string;
  supplier: string;
  author: string;
  toolVersion: string;
  context: RunContext;
  env: NodeJS.ProcessEnv;
  log: Log;
  onSecret: (value: string) => void;
}

export interface PipelineResult {
  nix: { version: string; installed: InstallResult | undefined };
  build: BuildReport;
  versionsFile: string;
  sbom: SbomResult;
  publish: PublishOutcome;
}

/** Which stage failed, in the one error line: the user sees where the pipeline stopped. */
async function stage<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isUserError(e)) {
      throw new UserError(`${name}: ${e.message}`, { hint: e.hint, file: e.file, line: e.line, detail: e.detail, cause: e });
    }
    throw e;
  }
}

export async function runPipeline(r: PipelineRequest): Promise<PipelineResult> {
  const { log, context, env } = r;
  const workspace = context.workspace;

  // 1. Nix: use the one on PATH; install a pinned, hash-verified one only when missing.
  let installed: InstallResult | undefined;
  let nix: Nix;
  try {
    nix = await Nix.detect({ log, cwd: workspace, env });
    log.info(`Nix ${nix.version} is installed: not installing another`);
  } catch (e) {
    if (!isUserError(e) || !/not installed/.test(e.message)) throw e;
    installed = await stage('install Nix', () =>
      log.group('Install Nix', () =>
        installNix({
          // As in install-nix: another root only for tests and image builds.
          root: env.NIX_ACTIONS_INSTALL_ROOT || '/',
          version: r.nixVersion || undefined,
          installerUrl: r.installerUrl || undefined,
          installerSha256: r.installerSha256 || undefined,
          extraConf: '',
          serverUrl: context.serverUrl,
          home: env.HOME || userInfo().homedir,
          user: userInfo().username,
          tmpDir: context.runnerTemp,
          env,
          log,
        }),
      ),
    );
    // Later commands of this process (and of later steps, via the runtime) find it.
    env.PATH = [...installed.exports.path, env.PATH ?? ''].join(':');
    Object.assign(env, installed.exports.vars);
    nix = await Nix.detect({ log, cwd: workspace, env });
  }

  // 2. Build.
  const dir = join(context.runnerTemp, 'nix-actions', `pipeline-${context.runId || 'local'}-${process.pid}`);
  const build = await stage('build', () => buildImage(nix, log, { installable: r.installable, outLink: join(dir, 'result') }));
  const versionsFile = join(dir, 'versions.json');
  await writeVersionsFile(versionsFile, build.versions);

  // 3. SBOM of what ships in the image (runtime scope), both formats.
  const sbom = await stage('sbom', () =>
    generateSbom({
      nix,
      log,
      image: build.image.path,
      drvPath: build.drvPath,
      metadataFrom: build.installable,
      scope: 'runtime',
      formats: ['cyclonedx-json', 'spdx-json'],
      outputDir: resolve(workspace, r.sbomDir),
      supplier: resolveParty('supplier', r.supplier, context),
      author: resolveParty('author', r.author, context),
      sourceDateEpoch: env.SOURCE_DATE_EPOCH,
      workspace,
      namespaceBase: namespaceBase(context),
      toolVersion: r.toolVersion,
    }),
  );

  // 4. Publish the image that was built (never one from an earlier step's environment).
  const published = await stage('publish', () =>
    publish({
      image: build.image.path,
      registry: r.registry,
      repository: r.repository,
      plainHttp: r.plainHttp,
      tags: r.tags,
      username: r.username,
      password: r.password,
      githubToken: r.githubToken,
      labels: [],
      annotations: [],
      index: [],
      mountFrom: [],
      ctx: context,
      env,
      log,
      onSecret: r.onSecret,
    }),
  );
  return { nix: { version: nix.version, installed }, build, versionsFile, sbom, publish: published };
}

/** The job summary: one line per stage, then each stage's own summary. */
export function pipelineSummary(p: PipelineResult): string {
  const cdx = p.sbom.files.find((f) => f.format === 'cyclonedx-json');
  return [
    '## Nix devcontainer release',
    '',
    '| stage | result |',
    '|---|---|',
    `| Nix | ${p.nix.installed ? `installed ${p.nix.version}` : `${p.nix.version} (already installed)`} |`,
    `| build | \`${p.build.image.format}\`, ${p.build.closure.entries.length} store paths |`,
    `| SBOM | ${p.sbom.components} components${cdx ? ` (\`${cdx.path}\`)` : ''} |`,
    `| publish | \`${p.publish.imageRef}\` |`,
    '',
    buildSummary(p.build),
    '',
    p.sbom.summary,
    '',
    publishSummary(p.publish),
    '',
  ].join('\n');
}
