import type { Attribute } from './attribute.js';
import { Graph } from './graph.js';

/**
 * A model-local function (ONNX `FunctionProto`): a body graph whose inputs and outputs are the
 * function's formal parameters, called by nodes whose op is `<domain>.<name>`.
 */
export interface ModelFunction {
  /** Dialect of the op that calls it (the ONNX domain; `onnx` for the default one). */
  dialect: string;
  name: string;
  overload?: string;
  /** Names of the attributes the body may refer to. */
  attributeNames: string[];
  /** Defaults of attributes (ONNX `attribute_proto`). */
  attributeDefaults: Map<string, Attribute>;
  opsetImports: Map<string, number>;
  docString?: string;
  body: Graph;
  metadata: Map<string, string>;
}

/**
 * A model: the main graph, the opset versions it was written against (keyed by dialect, `onnx` for
 * ONNX's default domain), model-local functions and metadata.
 */
export class Model {
  graph: Graph;
  /** Opset version per dialect, e.g. `onnx → 17`, `com.microsoft → 1`. */
  readonly opsetImports = new Map<string, number>();
  irVersion: number | undefined;
  producerName: string | undefined;
  producerVersion: string | undefined;
  /** Reverse-DNS namespace of the model (ONNX `domain`). */
  domain: string | undefined;
  modelVersion: number | undefined;
  docString: string | undefined;
  readonly metadata = new Map<string, string>();
  readonly functions: ModelFunction[] = [];
  /** The format the model was read from (`onnx`, `mpir`, `tflite`, ...), when known. */
  sourceFormat: string | undefined;
  /** The file the model was read from, when any (used in diagnostics). */
  sourcePath: string | undefined;

  constructor(graph: Graph = new Graph('main')) {
    this.graph = graph;
  }

  /** The opset version of `dialect`, or undefined when the model does not import it. */
  opset(dialect = 'onnx'): number | undefined {
    return this.opsetImports.get(dialect);
  }

  findFunction(dialect: string, name: string, overload?: string): ModelFunction | undefined {
    return this.functions.find((f) => f.dialect === dialect && f.name === name && (f.overload ?? '') === (overload ?? ''));
  }
}
