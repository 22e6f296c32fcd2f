import AjvModule from 'ajv';
import formatsModule from 'ajv-formats';
import { UserError } from '../errors.js';
import { CYCLONEDX_1_6, CYCLONEDX_REFS } from './schemas.js';

/**
 * Validation before anything is written: a document that fails is never written
 * and fails the step. CycloneDX is checked against the official 1.6 JSON schema.
 * SPDX 2.3: no npm package ships the official SPDX 2.3 JSON schema (we looked), so
 * the document is checked against the rules of the SPDX 2.3 specification that the
 * official schema encodes, written out below (see README: "Validation").
 */
// ajv and ajv-formats are CommonJS: the default export sits on `.default` under ESM.
const Ajv: typeof AjvModule = ((AjvModule as any).default ?? AjvModule) as any;
const addFormats: (ajv: any) => void = (formatsModule as any).default ?? formatsModule;

export interface ValidationProblem {
  path: string;
  message: string;
}

let cdxValidator: ((data: unknown) => boolean) & { errors?: any[] | null } | undefined;

function cyclonedxValidator() {
  if (!cdxValidator) {
    const ajv = new (Ajv as any)({ strict: false, allErrors: false, useDefaults: false, addUsedSchema: false, validateFormats: true });
    addFormats(ajv);
    // As @cyclonedx/cyclonedx-library does: there is no working iri-reference check;
    // idn-email gets the (ASCII) email check.
    ajv.addFormat('iri-reference', true);
    ajv.addFormat('idn-email', /^[^\s@]+@[^\s@]+$/);
    // The 1.6 schema refers to these relative to its own $id.
    const base = String(CYCLONEDX_1_6.$id);
    for (const [name, schema] of Object.entries(CYCLONEDX_REFS)) ajv.addSchema(fastUnique({ ...schema, $id: new URL(name, base).href }));
    // ajv checks uniqueItems by comparing every pair of items (O(n²) deep-equal): with
    // thousands of components that is most of the run. The same rule, checked in O(n)
    // by canonical JSON (keys sorted) -- equal JSON values have equal canonical text.
    ajv.addKeyword({
      keyword: 'x-unique-items',
      type: 'array',
      schemaType: 'boolean',
      errors: false,
      validate: (on: boolean, data: unknown[]) => {
        if (!on) return true;
        const seen = new Set<string>();
        for (const item of data) {
          const key = canonical(item);
          if (seen.has(key)) return false;
          seen.add(key);
        }
        return true;
      },
    });
    cdxValidator = ajv.compile(fastUnique(CYCLONEDX_1_6));
  }
  return cdxValidator!;
}

const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions', '$defs', 'dependencies']);
const DATA_KEYWORDS = new Set(['enum', 'const', 'examples', 'default', 'required', 'meta:enum']);

/** A copy of a schema with `uniqueItems: true` replaced by the O(n) `x-unique-items` keyword. */
function fastUnique(schema: unknown): any {
  if (Array.isArray(schema)) return schema.map(fastUnique);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'uniqueItems' && v === true) out['x-unique-items'] = true;
    else if (SCHEMA_MAPS.has(k) && v && typeof v === 'object' && !Array.isArray(v)) {
      out[k] = Object.fromEntries(Object.entries(v).map(([name, sub]) => [name, fastUnique(sub)])); // names are data, values schemas
    } else if (DATA_KEYWORDS.has(k)) out[k] = v;
    else out[k] = fastUnique(v);
  }
  return out;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

export function validateCycloneDx(doc: unknown): ValidationProblem[] {
  const v = cyclonedxValidator();
  if (v(doc)) return [];
  return (v.errors ?? []).map((e: any) => ({ path: e.instancePath || '/', message: `${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}` }));
}

const SPDX_ID = /^SPDXRef-[A-Za-z0-9.-]+$/;
const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const CHECKSUM_LENGTHS: Record<string, number> = { SHA1: 40, SHA224: 56, SHA256: 64, SHA384: 96, SHA512: 128, MD5: 32, 'SHA3-256': 64, 'SHA3-384': 96, 'SHA3-512': 128, 'BLAKE2b-256': 64, 'BLAKE2b-384': 96, 'BLAKE2b-512': 128 };
const PURPOSES = new Set(['APPLICATION', 'FRAMEWORK', 'LIBRARY', 'CONTAINER', 'OPERATING-SYSTEM', 'DEVICE', 'FIRMWARE', 'SOURCE', 'ARCHIVE', 'FILE', 'INSTALL', 'OTHER']);
const REF_CATEGORIES = new Set(['SECURITY', 'PACKAGE-MANAGER', 'PERSISTENT-ID', 'OTHER']);
const RELATIONSHIPS = new Set([
  'DESCRIBES', 'DESCRIBED_BY', 'CONTAINS', 'CONTAINED_BY', 'DEPENDS_ON', 'DEPENDENCY_OF', 'DEPENDENCY_MANIFEST_OF',
  'BUILD_DEPENDENCY_OF', 'DEV_DEPENDENCY_OF', 'OPTIONAL_DEPENDENCY_OF', 'PROVIDED_DEPENDENCY_OF', 'TEST_DEPENDENCY_OF',
  'RUNTIME_DEPENDENCY_OF', 'EXAMPLE_OF', 'GENERATES', 'GENERATED_FROM', 'ANCESTOR_OF', 'DESCENDANT_OF', 'VARIANT_OF',
  'DISTRIBUTION_ARTIFACT', 'PATCH_FOR', 'PATCH_APPLIED', 'COPY_OF', 'FILE_ADDED', 'FILE_DELETED', 'FILE_MODIFIED',
  'EXPANDED_FROM_ARCHIVE', 'DYNAMIC_LINK', 'STATIC_LINK', 'DATA_FILE_OF', 'TEST_CASE_OF', 'BUILD_TOOL_OF', 'DEV_TOOL_OF',
  'TEST_OF', 'TEST_TOOL_OF', 'DOCUMENTATION_OF', 'OPTIONAL_COMPONENT_OF', 'METAFILE_OF', 'PACKAGE_OF', 'AMENDS',
  'PREREQUISITE_FOR', 'HAS_PREREQUISITE', 'REQUIREMENT_DESCRIPTION_FOR', 'SPECIFICATION_FOR', 'OTHER',
]);

/** Checks an SPDX 2.3 JSON document against the specification's required fields and value rules. */
export function validateSpdx(doc: any): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const bad = (path: string, message: string) => problems.push({ path, message });
  const str = (v: unknown) => typeof v === 'string' && v.length > 0;
  if (!doc || typeof doc !== 'object') return [{ path: '/', message: 'not an object' }];
  if (doc.spdxVersion !== 'SPDX-2.3') bad('/spdxVersion', 'must be SPDX-2.3');
  if (doc.dataLicense !== 'CC0-1.0') bad('/dataLicense', 'must be CC0-1.0');
  if (doc.SPDXID !== 'SPDXRef-DOCUMENT') bad('/SPDXID', 'must be SPDXRef-DOCUMENT');
  if (!str(doc.name)) bad('/name', 'is required');
  if (!str(doc.documentNamespace) || !/^[a-z][a-z0-9+.-]*:\/\/[^\s#]+$/i.test(doc.documentNamespace)) {
    bad('/documentNamespace', 'must be an absolute URI without #');
  }
  const ci = doc.creationInfo;
  if (!ci || !DATE.test(ci.created ?? '')) bad('/creationInfo/created', 'must be YYYY-MM-DDThh:mm:ssZ');
  if (!Array.isArray(ci?.creators) || ci.creators.length === 0) bad('/creationInfo/creators', 'needs at least one creator');
  else ci.creators.forEach((c: unknown, i: number) => {
    if (typeof c !== 'string' || !/^(Person|Organization|Tool): \S/.test(c)) bad(`/creationInfo/creators/${i}`, 'must start with Person:, Organization: or Tool:');
  });
  const ids = new Set<string>(['SPDXRef-DOCUMENT']);
  const licenseRefs = new Set<string>();
  (doc.hasExtractedLicensingInfos ?? []).forEach((l: any, i: number) => {
    if (!/^LicenseRef-[A-Za-z0-9.-]+$/.test(l?.licenseId ?? '')) bad(`/hasExtractedLicensingInfos/${i}/licenseId`, 'must be LicenseRef-<idstring>');
    if (!str(l?.extractedText)) bad(`/hasExtractedLicensingInfos/${i}/extractedText`, 'is required');
    licenseRefs.add(l?.licenseId);
  });
  if (!Array.isArray(doc.packages)) bad('/packages', 'must be an array');
  (doc.packages ?? []).forEach((p: any, i: number) => {
    const at = `/packages/${i}`;
    if (!SPDX_ID.test(p?.SPDXID ?? '')) bad(`${at}/SPDXID`, 'must match SPDXRef-[A-Za-z0-9.-]+');
    else if (ids.has(p.SPDXID)) bad(`${at}/SPDXID`, `duplicate ${p.SPDXID}`);
    else ids.add(p.SPDXID);
    if (!str(p?.name)) bad(`${at}/name`, 'is required');
    if (!str(p?.downloadLocation)) bad(`${at}/downloadLocation`, 'is required (a URL, NONE or NOASSERTION)');
    if (p?.versionInfo !== undefined && typeof p.versionInfo !== 'string') bad(`${at}/versionInfo`, 'must be a string');
    if (p?.supplier !== undefined && !/^(NOASSERTION|(Person|Organization): \S.*)$/.test(p.supplier)) bad(`${at}/supplier`, 'must be NOASSERTION or Person:/Organization: <name>');
    if (p?.primaryPackagePurpose !== undefined && !PURPOSES.has(p.primaryPackagePurpose)) bad(`${at}/primaryPackagePurpose`, 'not an SPDX 2.3 purpose');
    for (const k of ['validUntilDate', 'releaseDate', 'builtDate']) if (p?.[k] !== undefined && !DATE.test(p[k])) bad(`${at}/${k}`, 'must be YYYY-MM-DDThh:mm:ssZ');
    (p?.checksums ?? []).forEach((c: any, j: number) => {
      const len = CHECKSUM_LENGTHS[c?.algorithm];
      if (len === undefined) bad(`${at}/checksums/${j}/algorithm`, 'not an SPDX 2.3 algorithm');
      else if (!new RegExp(`^[0-9a-f]{${len}}$`).test(c?.checksumValue ?? '')) bad(`${at}/checksums/${j}/checksumValue`, `must be ${len} lower-case hex digits`);
    });
    (p?.externalRefs ?? []).forEach((r: any, j: number) => {
      if (!REF_CATEGORIES.has(r?.referenceCategory)) bad(`${at}/externalRefs/${j}/referenceCategory`, 'not an SPDX 2.3 category');
      if (!str(r?.referenceType) || !str(r?.referenceLocator) || /\s/.test(r.referenceLocator)) bad(`${at}/externalRefs/${j}`, 'needs referenceType and a referenceLocator without spaces');
    });
    for (const k of ['licenseDeclared', 'licenseConcluded']) {
      const v = p?.[k];
      if (v === undefined) continue;
      for (const ref of String(v).match(/LicenseRef-[A-Za-z0-9.-]+/g) ?? []) if (!licenseRefs.has(ref)) bad(`${at}/${k}`, `${ref} is not declared in hasExtractedLicensingInfos`);
    }
    if (p?.filesAnalyzed !== undefined && typeof p.filesAnalyzed !== 'boolean') bad(`${at}/filesAnalyzed`, 'must be a boolean');
  });
  (doc.relationships ?? []).forEach((r: any, i: number) => {
    const at = `/relationships/${i}`;
    if (!RELATIONSHIPS.has(r?.relationshipType)) bad(`${at}/relationshipType`, 'not an SPDX 2.3 relationship type');
    for (const k of ['spdxElementId', 'relatedSpdxElement']) {
      const v = r?.[k];
      if (v !== 'NONE' && v !== 'NOASSERTION' && !ids.has(v)) bad(`${at}/${k}`, `${v} is not an element of this document`);
    }
  });
  return problems;
}

/** Throws the step's error when a document does not validate (it is then not written). */
export function assertValid(format: string, problems: ValidationProblem[]): void {
  if (problems.length === 0) return;
  const first = problems[0];
  throw new UserError(`The ${format} document failed validation at ${first.path}: ${first.message} (${problems.length} problem(s)); it was not written`, {
    hint: 'This is a bug in the SBOM generator or an unusual value in the flake: report it with the details',
    detail: problems.slice(0, 50).map((p) => `${p.path}: ${p.message}`).join('\n'),
  });
}
