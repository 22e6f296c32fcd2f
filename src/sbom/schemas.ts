/**
 * The official JSON schemas, bundled into the action (no network at run time).
 * CycloneDX 1.6 and the SPDX license-id and JSF schemas it references ship in
 * @cyclonedx/cyclonedx-library (res/schema); its package exports do not expose
 * res/, so they are imported by path.
 */
import cdx16 from '../../node_modules/@cyclonedx/cyclonedx-library/res/schema/bom-1.6.SNAPSHOT.schema.json' with { type: 'json' };
import spdxLicenses from '../../node_modules/@cyclonedx/cyclonedx-library/res/schema/spdx.SNAPSHOT.schema.json' with { type: 'json' };
import jsf from '../../node_modules/@cyclonedx/cyclonedx-library/res/schema/jsf-0.82.SNAPSHOT.schema.json' with { type: 'json' };

export const CYCLONEDX_1_6 = cdx16 as Record<string, unknown>;
export const CYCLONEDX_REFS: Record<string, Record<string, unknown>> = {
  'spdx.SNAPSHOT.schema.json': spdxLicenses as Record<string, unknown>,
  'jsf-0.82.SNAPSHOT.schema.json': jsf as Record<string, unknown>,
};
