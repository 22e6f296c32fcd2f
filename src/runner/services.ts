import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';

/**
 * GitHub's artifact and attestation clients (@actions/artifact, @actions/attest) are
 * larger than all of our own code together. They live in their own bundles,
 * dist/upload-artifact and dist/attest, which an action runs as a child process only
 * when it uploads or attests; every action bundle stays small and starts fast.
 * The child inherits the runner's environment (ACTIONS_RUNTIME_TOKEN, ACTIONS_RESULTS_URL...),
 * takes one JSON request on stdin and answers one JSON line on stdout.
 */
export async function callService<T>(service: 'upload-artifact' | 'attest', request: unknown, env = process.env): Promise<T> {
  // In a bundle, dist/<action>/index.js -> dist/<service>/index.js.
  const bundle = fileURLToPath(new URL(`../${service}/index.js`, import.meta.url));
  const child = spawn(process.execPath, [bundle], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  child.stdin.end(JSON.stringify(request));
  const code: number = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? -1));
  });
  const last = stdout.trim().split('\n').pop() ?? '';
  let answer: { ok?: T; error?: string } = {};
  try {
    answer = JSON.parse(last);
  } catch {
    answer = { error: `${service} gave no answer (exit ${code}): ${stderr.trim().split('\n').pop() ?? ''}` };
  }
  if (code !== 0 || answer.error !== undefined) throw new UserError(answer.error ?? `${service} failed (exit ${code})`);
  return answer.ok as T;
}

/** Reads the request, runs `fn`, prints `{ok}` or `{error}` (the service side of callService). */
export async function serve<Req, Res>(fn: (request: Req) => Promise<Res>): Promise<void> {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  try {
    const ok = await fn(JSON.parse(input) as Req);
    process.stdout.write(`${JSON.stringify({ ok })}\n`);
  } catch (e) {
    const error = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    process.stdout.write(`${JSON.stringify({ error })}\n`);
    process.exitCode = 1;
  }
}

export interface UploadRequest {
  name: string;
  files: string[];
  rootDirectory: string;
}

export const uploadArtifact = (request: UploadRequest) => callService<{ id?: number; size?: number }>('upload-artifact', request);
