import { readFileSync } from 'node:fs';
import { UserError } from '../errors.js';

/** One package as the diff sees it: what an SBOM reader can compare across two builds. */
export interface Package {
  name: string;
  version: string;
  /** purl, when the SBOM gives one (shown, not compared: it carries the version). */
  purl?: string;
  /** `ALG:hex` of every hash the SBOM lists, sorted: a change at the same version is a rebuild. */
  hashes: string[];
}

/**
 * Reads the components of a CycloneDX JSON SBOM (any 1.x), nested components
 * included. A file that is not CycloneDX JSON is a user error naming the file:
 * comparing the wrong file must never pass as "nothing changed".
 */
export function readCycloneDx(file: string): Package[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`SBOM '${file}' cannot be read (${code ?? 'error'})`, {
      hint: 'Check the path: it must be a CycloneDX JSON file written by the sbom action',
    });
  }
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new UserError(`SBOM '${file}' is not valid JSON`, {
      file,
      hint: 'Pass the CycloneDX JSON file (format cyclonedx-json), not the SPDX file or a log',
    });
  }
  if (doc === null || typeof doc !== 'object' || doc.bomFormat !== 'CycloneDX') {
    throw new UserError(`SBOM '${file}' is not a CycloneDX document (bomFormat is not "CycloneDX")`, {
      file,
      hint: 'Pass the cyclonedx output of the sbom action; SPDX files are not compared',
    });
  }
  if (doc.components !== undefined && !Array.isArray(doc.components)) {
    throw new UserError(`SBOM '${file}': "components" is not a list`, { file });
  }
  const out: Package[] = [];
  const walk = (list: unknown[], where: string): void => {
    list.forEach((c: any, i) => {
      const at = `${where}[${i}]`;
      if (c === null || typeof c !== 'object' || typeof c.name !== 'string' || c.name === '') {
        throw new UserError(`SBOM '${file}': component ${at} has no name`, { file });
      }
      const hashes = Array.isArray(c.hashes)
        ? c.hashes
            .filter((h: any) => typeof h?.alg === 'string' && typeof h?.content === 'string')
            .map((h: any) => `${h.alg}:${h.content}`)
            .sort()
        : [];
      out.push({
        name: c.name,
        version: typeof c.version === 'string' ? c.version : '',
        purl: typeof c.purl === 'string' ? c.purl : undefined,
        hashes,
      });
      if (Array.isArray(c.components)) walk(c.components, `${at}.components`);
    });
  };
  walk(doc.components ?? [], 'components');
  return out;
}

