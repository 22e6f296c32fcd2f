import { UserError } from '../errors.js';
import type { Log } from '../log.js';
import { NixError, type Nix } from '../nix/nix.js';
import { build } from '../nix/build.js';
import { detectImage, type DetectedImage } from '../image/detect.js';
import { imageClosure, type ImageClosure } from '../image/closure.js';
import { versionsOf, type VersionEntry } from './versions.js';
import { quoteLog, withCommandsStopped } from './untrusted.js';

export interface BuildRequest {
  installable: string;
  /** Extra `nix build` arguments, each one argv entry. */
  args?: readonly string[];
  /** A GC root for the output, so later steps of the job keep the image. */
  outLink?: string;
}

export interface BuildReport {
  installable: string;
  drvPath: string;
  outPath: string;
  outputs: Record<string, string>;
  image: DetectedImage;
  closure: ImageClosure;
  versions: VersionEntry[];
  /** Wall time of `nix build` alone, in seconds. */
  buildSeconds: number;
  /** Wall time of reading the image and its closure, in seconds. */
  inspectSeconds: number;
}

const CONTROL = /[\u0000-\u001f\u007f]/;

export function checkInstallable(installable: string, input = 'installable'): string {
  const value = installable.trim();
  if (!value) throw new UserError(`Input '${input}' is empty`, { hint: 'Set it to a flake installable such as .#devcontainer' });
  if (CONTROL.test(value)) {
    throw new UserError(`Input '${input}' contains a control character (newline or tab)`, {
      hint: 'Give one installable such as .#devcontainer; put extra nix arguments in args, one per line',
    });
  }
  return value;
}

/**
 * Nix's error for a failed build is several lines: the `error:` line and the
 * builder's last log lines (`> ...`). The user gets them on one line.
 */
export function buildFailure(installable: string, e: NixError): UserError {
  const lines = e.result.stderr.split('\n').map((l) => l.replace(/\s+$/, ''));
  let start = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/^error:/.test(lines[i])) {
      start = i;
      break;
    }
  }
  const block = (start >= 0 ? lines.slice(start) : lines.filter((l) => l.trim()).slice(-8))
    .map((l) => l.replace(/^\s*>\s?/, '').replace(/^error:\s*/, '').trim())
    .filter((l) => l && !/^For full logs, run/.test(l) && !/^… while /.test(l));
  // With -L Nix has already streamed the builder's log, so its error carries no
  // `last log lines`: take them from what it printed just before the error.
  if (start > 0 && !lines.slice(start).some((l) => /^\s*>/.test(l))) {
    const before = lines
      .slice(0, start)
      .filter((l) => l.trim() && !/^(warning|building|copying|these \d+ derivations)\b/.test(l.trim()))
      .slice(-5);
    if (before.length) block.push(`last log lines: ${before.map((l) => l.trim()).join(' | ')}`);
  }
  let text = block.join(' | ');
  if (text.length > 800) text = `${text.slice(0, 800)}…`;
  return new UserError(`nix build ${installable} failed: ${text || `exit ${e.result.code}`}`, {
    detail: quoteLog(e.result.stderr.split('\n').slice(-60).join('\n')),
  });
}

/** Builds the installable, recognises the image and reads its content closure. */
export async function buildImage(nix: Nix, log: Log, request: BuildRequest): Promise<BuildReport> {
  const installable = checkInstallable(request.installable);
  for (const a of request.args ?? []) {
    if (CONTROL.test(a)) throw new UserError(`Input 'args': '${a.replace(CONTROL, '?')}' contains a control character`);
  }
  const started = Date.now();
  let built;
  try {
    built = await log.group(`nix build ${installable}`, () =>
      withCommandsStopped(log, () =>
        build(nix, [installable], { extraArgs: request.args, outLink: request.outLink, onLog: (l) => log.info(l) }),
      ),
    );
  } catch (e) {
    if (e instanceof NixError) throw buildFailure(installable, e);
    throw e;
  }
  const buildSeconds = (Date.now() - started) / 1000;
  const result = built[0];
  if (!result) throw new UserError(`nix build ${installable} printed no result`);
  const outPath = result.outputs.out ?? Object.values(result.outputs)[0];
  if (!outPath) throw new UserError(`nix build ${installable} produced no output path`);

  const inspectStart = Date.now();
  const image = await detectImage(outPath);
  const closure = await imageClosure(nix, image);
  if (closure.missing.length) {
    log.warning(
      `${closure.missing.length} store path(s) in the image are not in the local store, so their size and hash are unknown: ${closure.missing.slice(0, 5).join(', ')}`,
    );
  }
  if (closure.dangling.length) {
    log.warning(
      `The image's store paths reference ${closure.dangling.length} path(s) the image does not contain: ${closure.dangling.slice(0, 5).join(', ')}`,
    );
  }
  return {
    installable,
    drvPath: result.drvPath,
    outPath,
    outputs: result.outputs,
    image,
    closure,
    versions: versionsOf(closure.entries),
    buildSeconds,
    inspectSeconds: (Date.now() - inspectStart) / 1000,
  };
}
