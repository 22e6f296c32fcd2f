import * as SPDX from '@cyclonedx/cyclonedx-library/SPDX';
import type { LicenseInfo } from './model.js';

/**
 * Nix's `meta.license` is a string, an attribute set (`spdxId`, `shortName`,
 * `fullName`, `url`), or a list of those. Ids the SPDX license list knows stay ids;
 * anything else becomes a named license, never a guessed id.
 */
export function licensesFromMeta(license: unknown): LicenseInfo[] {
  const items = Array.isArray(license) ? license : license === undefined || license === null ? [] : [license];
  const out: LicenseInfo[] = [];
  for (const item of items) {
    if (typeof item === 'string') {
      const id = SPDX.fixupSpdxId(item);
      out.push(id ? { spdxId: id } : { name: item });
    } else if (item && typeof item === 'object') {
      const o = item as Record<string, unknown>;
      const str = (k: string) => (typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : undefined);
      const id = str('spdxId') ? SPDX.fixupSpdxId(str('spdxId')!) : undefined;
      const url = str('url');
      if (id) out.push({ spdxId: id, url });
      else {
        const name = str('fullName') ?? str('shortName') ?? str('spdxId');
        if (name) out.push({ name, url });
      }
    }
  }
  return out;
}

/** `LicenseRef-` id for a license SPDX does not list (SPDX 2.3 idstring: letters, digits, `.`, `-`). */
export function licenseRef(name: string): string {
  return `LicenseRef-${name.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/-{2,}/g, '-').replace(/^-+|-+$/g, '') || 'unnamed'}`;
}

/** An SPDX license expression for a component, or undefined when unknown. */
export function spdxExpression(licenses: LicenseInfo[]): string | undefined {
  const parts = [...new Set(licenses.map((l) => l.spdxId ?? licenseRef(l.name!)))];
  if (parts.length === 0) return undefined;
  // A Nix license list means all of them apply (nixpkgs' convention): AND, never a guessed OR.
  return parts.length === 1 ? parts[0] : parts.map((p) => (p.includes(' ') ? `(${p})` : p)).join(' AND ');
}
