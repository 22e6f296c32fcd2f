// Internal bundle (no action.yml): uploads files as a workflow artifact for the actions
// that need it, run by src/runner/services.ts so that @actions/artifact stays out of them.
import { DefaultArtifactClient } from '@actions/artifact';
import { serve, type UploadRequest } from '../../src/runner/services.js';

void serve(async (r: UploadRequest) => {
  if (!process.env.ACTIONS_RUNTIME_TOKEN) {
    throw new Error('the artifact service is not available here (no ACTIONS_RUNTIME_TOKEN: not running in GitHub Actions)');
  }
  return new DefaultArtifactClient().uploadArtifact(r.name, r.files, r.rootDirectory);
});
