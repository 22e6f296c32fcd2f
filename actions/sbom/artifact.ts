import { UserError } from '../../src/errors.js';
import { uploadArtifact } from '../../src/runner/services.js';

/** The edge to the Actions artifact service: upload the written SBOM files, nothing else. */
export async function uploadFiles(name: string, files: string[], rootDirectory: string): Promise<{ id?: number; size?: number }> {
  try {
    return await uploadArtifact({ name, files, rootDirectory });
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    throw new UserError(`Uploading the SBOM as artifact '${name}' failed: ${why}`, {
      hint: 'The files are written in output-dir; outside GitHub Actions (or without the artifact service) set upload: false',
      cause: e,
    });
  }
}
