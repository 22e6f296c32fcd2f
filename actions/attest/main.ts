// Internal bundle (no action.yml): attests a file to a subject digest with @actions/attest,
// run by src/runner/services.ts so that the attestation client stays out of the actions.
import { readFileSync } from 'node:fs';
import { attest } from '@actions/attest';
import { serve } from '../../src/runner/services.js';

export interface AttestRequest {
  file: string;
  predicateType: string;
  subjectName: string;
  subjectDigest: string;
  token: string;
}

void serve(async (r: AttestRequest) => {
  const [algo, hex] = r.subjectDigest.split(':');
  const result = await attest({
    subjects: [{ name: r.subjectName, digest: { [algo]: hex } }],
    predicateType: r.predicateType,
    predicate: JSON.parse(readFileSync(r.file, 'utf8')),
    token: r.token,
  });
  return { attestationID: result.attestationID, tlogID: result.tlogID };
});
