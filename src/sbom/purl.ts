/**
 * Package URLs. `pkg:nix` is a proposed purl type (not yet in the purl spec), so
 * the store path rides along as a qualifier and makes every purl unique.
 * Encoding follows the purl spec: name and version percent-encoded, qualifier keys
 * sorted, values percent-encoded.
 */
const enc = (s: string): string => encodeURIComponent(s);

export function purl(
  type: string,
  name: string,
  version: string,
  qualifiers: Record<string, string | undefined> = {},
  namespace?: string,
): string {
  let out = `pkg:${type}/`;
  if (namespace) out += `${namespace.split('/').map(enc).join('/')}/`;
  out += enc(name);
  if (version) out += `@${enc(version)}`;
  const q = Object.entries(qualifiers)
    .filter(([, v]) => v !== undefined && v !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${enc(v!)}`);
  if (q.length) out += `?${q.join('&')}`;
  return out;
}

export function nixPurl(name: string, version: string, output: string | undefined, storePath: string): string {
  return purl('nix', name, version, { output: output && output !== 'out' ? output : undefined, store_path: storePath });
}
