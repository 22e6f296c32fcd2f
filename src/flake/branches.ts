/**
 * Supported nixpkgs branches, derived from the NixOS release schedule rather than
 * a copied table: releases are YY.05 and YY.11, and each is supported from its
 * release month until the end of the month after the next release (seven months,
 * e.g. 24.05 until 2024-12-31, 24.11 until 2025-06-30). The rolling branches are
 * always supported. A `supported-branches` input replaces this list entirely.
 */
export const ROLLING_BRANCHES = ['nixos-unstable', 'nixos-unstable-small', 'nixpkgs-unstable', 'master'];

/** Stable release names (e.g. `24.11`) supported on `now`. */
export function supportedReleases(now: Date): string[] {
  const out: string[] = [];
  const year = now.getUTCFullYear();
  for (let y = year - 1; y <= year; y++) {
    for (const month of [5, 11]) {
      const released = Date.UTC(y, month - 1, 1);
      // first day after the end of the month after the next release
      const end = Date.UTC(y, month - 1 + 8, 1);
      if (now.getTime() >= released && now.getTime() < end) out.push(`${String(y % 100).padStart(2, '0')}.${String(month).padStart(2, '0')}`);
    }
  }
  return out;
}

/** Every branch name of a supported release, plus the rolling ones. */
export function supportedBranches(now: Date): string[] {
  const out = [...ROLLING_BRANCHES];
  for (const r of supportedReleases(now)) {
    out.push(`nixos-${r}`, `nixos-${r}-small`, `nixpkgs-${r}-darwin`, `release-${r}`);
  }
  return out;
}
