import { InputError, UserError } from '../errors.js';
import type { RunContext } from '../github/context.js';

/**
 * What the step describes and who it names, from its inputs and what earlier steps
 * exported (build sets NIX_ACTIONS_IMAGE, NIX_ACTIONS_DRV_PATH, NIX_ACTIONS_INSTALLABLE).
 * Pure: inputs and the environment in, a decision out.
 */
export interface Target {
  installable?: string;
  image?: string;
  drvPath?: string;
  /** With an image: the installable it came from, read for meta and flake inputs only. */
  metadataFrom?: string;
}

export function resolveTarget(input: { installable?: string; image?: string }, env: NodeJS.ProcessEnv): Target {
  const installable = input.installable?.trim() || undefined;
  const image = input.image?.trim() || undefined;
  if (installable && image) {
    throw new InputError('image', "give either 'installable' or 'image', not both (an image is described by its contents)");
  }
  if (installable) return { installable };
  const exportedImage = env.NIX_ACTIONS_IMAGE?.trim() || undefined;
  const exportedInstallable = env.NIX_ACTIONS_INSTALLABLE?.trim() || undefined;
  const exportedDrv = env.NIX_ACTIONS_DRV_PATH?.trim() || undefined;
  if (image) {
    // The build step's derivation and installable belong to this image only if it is the one build exported.
    return image === exportedImage ? { image, drvPath: exportedDrv, metadataFrom: exportedInstallable } : { image };
  }
  if (exportedImage) return { image: exportedImage, drvPath: exportedDrv, metadataFrom: exportedInstallable };
  if (exportedInstallable) return { installable: exportedInstallable };
  return {};
}

export interface Party {
  name: string;
  url?: string;
}

/** Supplier and author: the inputs, else the repository owner (NTIA minimum elements: never left empty). */
export function resolveParty(inputName: 'supplier' | 'author', value: string | undefined, context: RunContext): Party {
  const given = value?.trim();
  if (given) {
    if (/[\r\n\u0000-\u001f]/.test(given)) throw new InputError(inputName, 'must be one line of text (a name), without control characters');
    if (given.length > 200) throw new InputError(inputName, 'must be at most 200 characters');
    return { name: given };
  }
  const owner = context.repository.split('/')[0];
  if (!owner) {
    throw new InputError(inputName, 'is empty and GITHUB_REPOSITORY is not set to default it from; give the organisation that supplies the software');
  }
  return { name: owner, url: `${context.serverUrl}/${owner}` };
}

export function namespaceBase(context: RunContext): string {
  return context.repository ? `${context.serverUrl}/${context.repository}` : 'https://spdx.org/spdxdocs/nix-actions';
}

/** The image an SBOM is attested to (`attest: true`). */
export interface AttestSubject {
  name: string;
  /** sha256:<64 hex digits> */
  digest: string;
}

/**
 * Checks the attest inputs before any work is done: `attest: true` needs the image
 * digest (publish's `digest` output) and the image name it belongs to. Undefined
 * when not attesting (the subject inputs are then ignored).
 */
export function resolveAttestSubject(input: { attest: boolean; subjectName?: string; subjectDigest?: string }): AttestSubject | undefined {
  if (!input.attest) return undefined;
  const digest = input.subjectDigest?.trim() ?? '';
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) {
    throw new InputError('subject-digest', "attest: true needs the image digest as sha256:<64 hex digits> (the publish step's digest output)");
  }
  const name = input.subjectName?.trim() ?? '';
  if (!name) throw new InputError('subject-name', 'attest: true needs the image name the digest belongs to (e.g. ghcr.io/owner/image)');
  if (/[\s\u0000-\u001f\u007f]/.test(name) || name.startsWith('-') || name.length > 500) {
    throw new InputError('subject-name', 'must be an image name such as ghcr.io/owner/image: one word, no whitespace or control characters, not starting with -');
  }
  return { name, digest };
}

/** An SBOM over the attestation size limit cannot be attested: say so rather than send it. */
export function assertAttestable(oversized: readonly { path: string }[]): void {
  if (oversized.length) {
    throw new UserError(`${oversized[0].path} is over the 16 MiB attestation limit`, { hint: 'Use scope: runtime, or attest: false' });
  }
}
