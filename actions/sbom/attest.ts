import { UserError } from '../../src/errors.js';
import { callService } from '../../src/runner/services.js';

/**
 * The edge to GitHub's attestation API (Sigstore signing + attestation store), in its own
 * bundle (src/runner/services.ts).
 * Predicate types are the ones actions/attest-sbom uses. Not testable without
 * GitHub (it needs an OIDC token); everything before it is tested.
 */
export const PREDICATE_TYPES = { 'cyclonedx-json': 'https://cyclonedx.org/bom', 'spdx-json': 'https://spdx.dev/Document/v2.3' } as const;

export async function attestSbom(options: {
  file: string;
  format: keyof typeof PREDICATE_TYPES;
  subjectName: string;
  subjectDigest: string;
  token: string;
}): Promise<{ attestationID?: string; tlogID?: string }> {
  try {
    return await callService('attest', {
      file: options.file,
      predicateType: PREDICATE_TYPES[options.format],
      subjectName: options.subjectName,
      subjectDigest: options.subjectDigest,
      token: options.token,
    });
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    throw new UserError(`Attesting ${options.file} failed: ${why}`, {
      hint: 'The job needs permissions id-token: write and attestations: write, on a repository where attestations are available',
      cause: e,
    });
  }
}
