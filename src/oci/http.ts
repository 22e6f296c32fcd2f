import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';
import { UserError } from '../errors.js';

/**
 * One HTTP exchange on keep-alive connections, with a streamed request body and
 * a buffered (small) response body. Registry responses we read are manifests,
 * configs and error documents; blobs only ever flow out.
 */
export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export class NetworkError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'NetworkError';
  }
}

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 32 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 32 }),
};

const MAX_RESPONSE = 32 * 1024 * 1024;

export function send(
  method: string,
  url: URL,
  headers: Record<string, string>,
  body: Buffer | Readable | undefined,
  timeoutMs: number,
): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    const isHttps = url.protocol === 'https:';
    const lib = isHttps ? https : http;
    let settled = false;
    let bodyError: Error | undefined;
    const fail = (e: Error & { code?: string }) => {
      if (settled) return;
      settled = true;
      if (body && !Buffer.isBuffer(body)) body.destroy();
      // The body's own refusal (a layer that is not what its digest says) is no network fault to retry.
      if (bodyError instanceof UserError) reject(bodyError);
      else reject(e instanceof NetworkError ? e : new NetworkError(e.message, e.code));
    };
    const req = lib.request(url, { method, headers, agent: isHttps ? agents.https : agents.http }, (res) => {
      const parts: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_RESPONSE) parts.push(c);
      });
      res.on('error', fail);
      res.on('aborted', () => fail(new NetworkError('connection closed before the response ended', 'ECONNRESET')));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        // A registry may answer (401, an error) before reading the whole body: close the source.
        if (body && !Buffer.isBuffer(body) && !body.readableEnded) body.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) });
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new NetworkError(`no response for ${Math.round(timeoutMs / 1000)} s`, 'ETIMEDOUT')));
    req.on('error', fail);
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else {
      body.on('error', (e) => {
        bodyError = e;
        req.destroy(e);
      });
      body.pipe(req);
    }
  });
}
