import { DefaultArtifactClient } from '@actions/artifact';

/** The edge to the Actions artifact service: upload the written SBOM files, nothing else. */
export async function uploadFiles(name: string, files: string[], rootDirectory: string): Promise<{ id?: number; size?: number }> {
  const client = new DefaultArtifactClient();
  return client.uploadArtifact(name, files, rootDirectory);
}
