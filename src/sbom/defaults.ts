import { InputError } from '../errors.js';
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
