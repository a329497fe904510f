/**
 * A model's or function's opset_import list, checked: every version is an integer ≥ 1, each domain is
 * imported at one version ('' and 'ai.onnx' are one domain; a repeat of the same version is accepted), and the default domain's version is one ONNX has
 * released. ONNX Runtime refuses each of these files at load ('No Op registered … domain_version of 0',
 * 'Opset 10000 is under development'), and the reader used to take them silently: a duplicate kept the
 * last version, so a Split or Reduce node read with other semantics than the file's first entry said.
 */
import type { Graph, Location } from '@modelpass/ir';
import type { OnnxTypes } from '../proto.js';
import { dialectOfDomain, DEFAULT_DIALECT } from '../dialect.js';
import { onnxError } from '../errors.js';
import { toSafeNumber } from '../int64.js';

/** The newest ai.onnx opset ONNX has released that modelpass knows the operators of (CumProd, opset 26). */
export const NEWEST_ONNX_OPSET = 26;

export function importOpsetImports(
  list: readonly OnnxTypes.OperatorSetIdProto.$Properties[] | null | undefined,
  location: Location,
  unusable?: Map<string, number>,
): Map<string, number> {
  const imports = new Map<string, number>();
  for (const opset of list ?? []) {
    const domain = opset.domain || 'ai.onnx';
    const dialect = dialectOfDomain(opset.domain);
    const version = toSafeNumber(opset.version, 'opset version', location);
    if (!Number.isInteger(version) || version < 1) {
      // Another domain at version 0 or below loads in ONNX's checker and ONNX Runtime while no node uses it
      // (ORT refuses a node of it: 'com.microsoft:Gelu(-1) is not a registered function/op'); the caller
      // refuses such a node (refuseNodesOfUnusableDomains) and the import itself is dropped.
      if (dialect !== DEFAULT_DIALECT && Number.isInteger(version) && unusable) {
        unusable.set(dialect, version);
        continue;
      }
      throw onnxError({ reason: `opset_import of domain '${domain}' has version ${version}`, expected: 'a version of 1 or more', actual: String(version), location });
    }
    const earlier = imports.get(dialect);
    // The same version named twice ('' and 'ai.onnx', or an exporter's repeat) is one import: ONNX's checker and
    // ONNX Runtime load such files, and nothing about the operators is in doubt.
    if (earlier === version) continue;
    if (earlier !== undefined) {
      throw onnxError({
        reason: `opset_import names domain '${domain}' twice (versions ${earlier} and ${version})`,
        expected: 'one entry per domain',
        actual: `${earlier} and ${version}`,
        location,
        hint: 'keep the version the model was exported with; the operators of two versions can differ',
      });
    }
    if (dialect === DEFAULT_DIALECT && version > NEWEST_ONNX_OPSET) {
      throw onnxError({
        reason: `opset_import asks for ai.onnx opset ${version}, newer than any ONNX release modelpass knows`,
        expected: `an opset of at most ${NEWEST_ONNX_OPSET}`,
        actual: String(version),
        location,
        hint: `re-export the model with an opset of ${NEWEST_ONNX_OPSET} or less (torch.onnx.export(…, opset_version=17))`,
      });
    }
    imports.set(dialect, version);
  }
  return imports;
}

/** Refuses a node (in the graph or a subgraph) of a domain that opset_import names at a version below 1. */
export function refuseNodesOfUnusableDomains(graphs: readonly Graph[], unusable: ReadonlyMap<string, number>, location: Location): void {
  if (unusable.size === 0) return;
  for (const graph of graphs) {
    for (const node of graph.allNodes()) {
      const version = unusable.get(node.dialect);
      if (version === undefined) continue;
      throw onnxError({
        reason: `node '${node.name}' (${node.opType}) is of domain '${node.dialect}', which opset_import names at version ${version}`,
        expected: 'a version of 1 or more for a domain a node uses',
        actual: String(version),
        location: { ...location, node: node.name },
      });
    }
  }
}

/**
 * Refuses a node of the default domain (in the graph or a subgraph) when opset_import names other domains but not
 * the default one: ONNX's checker refuses it ('No opset import for domain'), and the node had no opset to be read at
 * (fuzz seed 1801: opset_import held only '../../etc/passwd' at version 0, so the reader took the model and the
 * writer then refused it as importing no operator set). Models of IR version below 3 predate opset_import.
 */
export function refuseDefaultDomainNodesWithoutOpset(graphs: readonly Graph[], imports: ReadonlyMap<string, number>, irVersion: number | undefined, location: Location): void {
  if (imports.has(DEFAULT_DIALECT) || (irVersion !== undefined && irVersion < 3)) return;
  for (const graph of graphs) {
    for (const node of graph.allNodes()) {
      if (node.dialect !== DEFAULT_DIALECT) continue;
      const named = [...imports.keys()];
      throw onnxError({
        reason: `node '${node.name}' (${node.opType}) is of the default ONNX domain, which opset_import does not name${named.length ? ` (it names ${named.map((d) => `'${d}'`).join(', ')})` : ' (no domain it names is usable)'}`,
        expected: "an opset_import entry for the default domain, such as { domain: '', version: 17 }",
        location: { ...location, node: node.name },
        hint: 'add the opset the model was written for (onnx.helper.make_opsetid("", 17))',
      });
    }
  }
}

/**
 * A model of IR version 3 or later (when opset_import appeared) must import at least one operator set; ONNX's
 * checker ('must specify opset_import for ONNX') and ONNX Runtime ('Missing opset in the model') refuse one
 * with none, which the reader used to read at a default opset (QA s16).
 */
export function refuseMissingOpsetImport(proto: OnnxTypes.ModelProto.$Properties, irVersion: number | undefined, location: Location): void {
  if ((proto.opset_import?.length ?? 0) > 0 || (irVersion !== undefined && irVersion < 3)) return;
  throw onnxError({
    reason: `the model imports no operator set (opset_import is empty${irVersion !== undefined ? ` in an IR version ${irVersion} model` : ''})`,
    expected: "at least one opset_import entry, such as { domain: '', version: 17 }",
    location,
    hint: 're-export the model, or add the opset it was written for (onnx.helper.make_opsetid("", 17))',
  });
}
