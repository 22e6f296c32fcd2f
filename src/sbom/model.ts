/**
 * The SBOM's component model: one shape both writers (CycloneDX, SPDX) read.
 * Everything here is plain data derived from Nix; nothing is guessed. A field we
 * could not learn stays undefined/empty and is listed as a "known unknown".
 */

export type ComponentKind = 'application' | 'container' | 'library' | 'file' | 'source';

export interface LicenseInfo {
  /** An SPDX license id when Nix's meta gives one (`spdxId`). */
  spdxId?: string;
  /** Otherwise a name (`fullName` or `shortName`). */
  name?: string;
  url?: string;
}

/** A source fetched by a fixed-output derivation: its URLs and the hash Nix verified. */
export interface SourceInfo {
  storePath: string;
  name: string;
  urls: string[];
  /** e.g. sha256 */
  algo: string;
  /** Lower-case hex of the declared output hash. */
  hashHex: string;
  /** `flat` (hash of the file) or `recursive` (hash of the NAR). */
  mode: 'flat' | 'recursive' | 'text';
}

/** A locked flake input (from flake.lock through `nix flake metadata`). */
export interface FlakeInputInfo {
  /** Input path, e.g. `nixpkgs` or `utils/systems`. */
  inputPath: string;
  type: string;
  owner?: string;
  repo?: string;
  url?: string;
  ref?: string;
  rev?: string;
  narHash?: string;
  lastModified?: number;
}

export interface Component {
  /** Unique and stable: the store path, or `flake-input:<path>`. Used as bom-ref. */
  ref: string;
  kind: ComponentKind;
  name: string;
  /** '' when neither the derivation nor the path name carries one. */
  version: string;
  /** Derivation output name (`out`, `dev`, `lib`...). */
  output?: string;
  storePath?: string;
  deriver?: string;
  narHash?: { hex: string; sri: string };
  narSize?: number;
  purl: string;
  licenses: LicenseInfo[];
  homepage?: string;
  description?: string;
  cpe?: string;
  /** Fixed-output sources this component was built from (direct inputs of its derivation). */
  sources: SourceInfo[];
  /** When the component is itself a fixed-output path. */
  fetched?: SourceInfo;
  /** Runtime references (from the store's reference graph). */
  dependsOn: string[];
  /** Build inputs (buildtime scope only): outputs and sources its derivation reads. */
  buildDependsOn: string[];
  /** True for paths in the runtime closure (what ships). */
  runtime: boolean;
  /** YYYY-MM-DD, from the `end-of-support` input. */
  endOfSupport?: string;
  flakeInput?: FlakeInputInfo;
}

export interface DocumentInfo {
  /** What the SBOM describes, e.g. `.#devcontainer` or an image path. */
  subject: string;
  supplier: { name: string; url?: string };
  author: { name: string; url?: string };
  /** Seconds since the epoch: SOURCE_DATE_EPOCH, the commit time, or the flake's lastModified. */
  timestamp: number;
  timestampSource: string;
  scope: 'runtime' | 'buildtime';
  nixVersion: string;
  toolVersion: string;
  /** Base URL for SPDX's documentNamespace (the repository URL). */
  namespaceBase: string;
}

export interface SbomModel {
  info: DocumentInfo;
  /** The described component (image or installable's main output). */
  root: Component;
  /** Every other component, sorted by ref; each store path exactly once. */
  components: Component[];
}

export const TOOL_NAME = 'nix-actions-sbom';
