/**
 * Structure-aware mutations of a *valid* ONNX model, made on the decoded ModelProto (onnx.proto
 * read by protobufjs) rather than on its bytes, so the result usually still imports and the
 * mutation reaches the passes behind the importer: an attribute's value or type changed, one
 * dropped or borrowed from another node, a node input dropped / duplicated / rewired, a declared
 * shape dim or rank changed, a dtype changed (graph value, initializer, Cast `to`), an initializer
 * truncated, a node's op changed to a sibling op, an output renamed to collide with another value,
 * the opset version changed, two nodes swapped. Each mutation is named, so a finding says what was
 * done (`describe`).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
let modelType;

/** The ModelProto type of packages/onnx/schema/onnx.proto (loaded once). */
export function onnxModelType() {
  if (modelType) return modelType;
  const protobuf = require('protobufjs');
  const schema = join(dirname(require.resolve('@modelpass/onnx/package.json')), 'schema', 'onnx.proto');
  modelType = protobuf.loadSync(schema).lookupType('onnx.ModelProto');
  return modelType;
}

/** Bytes → a plain ModelProto object (int64s as numbers; undefined when protobufjs cannot decode them). */
export function decodeModelObject(bytes) {
  const type = onnxModelType();
  try {
    return type.toObject(type.decode(bytes), { longs: Number, arrays: true, defaults: false });
  } catch {
    return undefined;
  }
}

export function encodeModelObject(object) {
  const type = onnxModelType();
  return type.encode(type.fromObject(object)).finish();
}

/** Sibling ops: same family, often different arity, attributes or shape rules. */
const SIBLINGS = [
  ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'PRelu', 'MatMul', 'Equal', 'Less', 'Greater', 'And', 'Mod'],
  ['Relu', 'Sigmoid', 'Tanh', 'Exp', 'Log', 'Abs', 'Neg', 'Sqrt', 'Reciprocal', 'Softplus', 'Elu', 'LeakyRelu', 'HardSigmoid', 'HardSwish', 'Erf', 'Floor', 'Ceil', 'Round', 'Sign', 'Not', 'Identity', 'Gelu', 'Mish', 'Selu', 'Celu'],
  ['Conv', 'ConvTranspose', 'ConvInteger', 'MaxPool', 'AveragePool', 'LpPool', 'GlobalAveragePool', 'GlobalMaxPool'],
  ['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSumExp', 'ReduceSumSquare', 'ArgMax', 'ArgMin'],
  ['MatMul', 'Gemm', 'MatMulInteger', 'Einsum'],
  ['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Expand', 'Tile', 'Transpose', 'DepthToSpace', 'SpaceToDepth'],
  ['Concat', 'Split', 'Slice', 'Pad', 'Gather', 'GatherElements', 'GatherND', 'ScatterElements', 'Compress', 'Where'],
  ['Softmax', 'LogSoftmax', 'Hardmax', 'LayerNormalization', 'InstanceNormalization', 'BatchNormalization', 'LpNormalization'],
  ['QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear', 'Cast', 'CastLike'],
  ['Shape', 'Size', 'ConstantOfShape', 'Range', 'NonZero', 'TopK', 'CumSum'],
  ['Resize', 'Upsample', 'GridSample'],
  ['If', 'Loop', 'Scan'],
];
const SIBLINGS_OF = new Map();
for (const family of SIBLINGS) for (const op of family) SIBLINGS_OF.set(op, [...(SIBLINGS_OF.get(op) ?? []), ...family.filter((o) => o !== op)]);

/** ONNX TensorProto.DataType numbers (1 float … 16 bfloat16, 17-23 float8/int4/uint4). */
const DTYPES = [1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 16, 17, 19, 21, 22, 0, 8, 14, 99];
const INTERESTING_INTS = [0, 1, -1, 2, 3, -2, 7, 64, 255, 256, 65535, -2147483648, 2147483647, 2 ** 31, 2 ** 40, -(2 ** 40), 1e15, Number.MAX_SAFE_INTEGER];
const INTERESTING_FLOATS = [0, -0, 1, -1, 0.5, 1e-45, 1e-7, 3.4e38, -3.4e38, Infinity, -Infinity, NaN, 65504, 1e10];
/** AttributeProto.AttributeType numbers: FLOAT 1, INT 2, STRING 3, TENSOR 4, GRAPH 5, FLOATS 6, INTS 7, STRINGS 8, TYPE_PROTO 13. */
const ATTRIBUTE_FIELD = { 1: 'f', 2: 'i', 3: 's', 4: 't', 5: 'g', 6: 'floats', 7: 'ints', 8: 'strings', 13: 'tp' };

function graphsOf(model) {
  const out = [];
  const visit = (graph) => {
    if (!graph) return;
    out.push(graph);
    for (const node of graph.node ?? []) for (const a of node.attribute ?? []) {
      if (a.g) visit(a.g);
      for (const g of a.graphs ?? []) visit(g);
    }
  };
  visit(model.graph);
  return out;
}

function allNodes(model) {
  return graphsOf(model).flatMap((graph) => (graph.node ?? []).map((node) => ({ graph, node })));
}

/** Every value name a graph defines (inputs, initializers, node outputs). */
function valueNames(graph) {
  const names = [...(graph.input ?? []).map((v) => v.name), ...(graph.initializer ?? []).map((t) => t.name)];
  for (const node of graph.node ?? []) names.push(...(node.output ?? []));
  return names.filter((name) => name);
}

function interestingInt(rng, current) {
  return rng.weighted([
    [4, () => rng.pick(INTERESTING_INTS)],
    [3, () => (typeof current === 'number' ? current + rng.range(-3, 3) : rng.range(-4, 8))],
    [1, () => (typeof current === 'number' ? current * rng.pick([2, -1, 1000]) : 0)],
  ])();
}

function shapeDims(valueInfo) {
  return valueInfo?.type?.tensorType?.shape?.dim;
}

function changeAttributeValue(rng, attribute) {
  const field = ATTRIBUTE_FIELD[attribute.type];
  if (field === 'i') attribute.i = interestingInt(rng, attribute.i);
  else if (field === 'f') attribute.f = rng.chance(0.5) ? rng.pick(INTERESTING_FLOATS) : (attribute.f ?? 0) * rng.pick([-1, 2, 0.5, 1e6]);
  else if (field === 'ints') {
    const list = [...(attribute.ints ?? [])];
    const how = rng.below(4);
    if (how === 0 && list.length) list[rng.below(list.length)] = interestingInt(rng, list[0]);
    else if (how === 1) list.push(interestingInt(rng, list.at(-1)));
    else if (how === 2 && list.length) list.splice(rng.below(list.length), 1);
    else list.reverse();
    attribute.ints = list;
  } else if (field === 'floats') {
    const list = [...(attribute.floats ?? [])];
    if (list.length && rng.chance(0.5)) list[rng.below(list.length)] = rng.pick(INTERESTING_FLOATS);
    else if (rng.chance(0.5)) list.push(rng.pick(INTERESTING_FLOATS));
    else list.pop();
    attribute.floats = list;
  } else if (field === 's') attribute.s = new TextEncoder().encode(rng.pick(['', 'NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID', 'nearest', 'linear', 'cubic', 'constant', 'reflect', 'edge', 'DCR', 'CRD', 'tanh', 'none', 'x'.repeat(300)]));
  else if (field === 't' && attribute.t) mutateTensor(rng, attribute.t);
  else if (field === 'g' && attribute.g) (attribute.g.node ?? []).reverse();
  else return false;
  return true;
}

/** Moves an attribute's value to another attribute type (INT → FLOAT, INTS → INT, …). */
function changeAttributeType(rng, attribute) {
  const from = ATTRIBUTE_FIELD[attribute.type];
  const value = attribute[from];
  for (const field of Object.values(ATTRIBUTE_FIELD)) delete attribute[field];
  const to = rng.pick([1, 2, 3, 6, 7, 8, 4]);
  attribute.type = to;
  const number = Array.isArray(value) ? Number(value[0] ?? 0) : typeof value === 'number' ? value : 1;
  const field = ATTRIBUTE_FIELD[to];
  if (field === 'f') attribute.f = number;
  else if (field === 'i') attribute.i = Math.trunc(Number.isFinite(number) ? number : 0);
  else if (field === 's') attribute.s = new TextEncoder().encode(String(number));
  else if (field === 'floats') attribute.floats = Array.isArray(value) ? value.map(Number) : [number];
  else if (field === 'ints') attribute.ints = Array.isArray(value) ? value.map((x) => Math.trunc(Number(x) || 0)) : [Math.trunc(Number.isFinite(number) ? number : 0)];
  else if (field === 'strings') attribute.strings = [new TextEncoder().encode(String(number))];
  else if (field === 't') attribute.t = { dims: [1], dataType: 1, floatData: [number] };
  return `${from ?? '?'}→${field}`;
}

function mutateTensor(rng, tensor) {
  const how = rng.below(4);
  if (how === 0) {
    // Truncated: raw bytes cut, or typed data shortened.
    if (tensor.rawData?.length) tensor.rawData = tensor.rawData.slice(0, rng.below(tensor.rawData.length));
    else for (const key of ['floatData', 'int32Data', 'int64Data', 'doubleData', 'uint64Data', 'stringData']) if (tensor[key]?.length) tensor[key] = tensor[key].slice(0, rng.below(tensor[key].length));
    return 'truncated';
  }
  if (how === 1) {
    tensor.dataType = rng.pick(DTYPES);
    return `dtype ${tensor.dataType}`;
  }
  if (how === 2) {
    const dims = [...(tensor.dims ?? [])];
    if (dims.length && rng.chance(0.6)) dims[rng.below(dims.length)] = interestingInt(rng, dims[0]);
    else if (rng.chance(0.5)) dims.push(rng.pick([1, 2, 0]));
    else dims.pop();
    tensor.dims = dims;
    return `dims [${dims}]`;
  }
  // Dims and data reshaped consistently: the element count stays, the rank changes.
  const count = (tensor.dims ?? []).reduce((a, b) => a * Number(b), 1);
  tensor.dims = rng.pick([[count], [1, count], [count, 1], count === 1 ? [] : [count]]);
  return `reshaped [${tensor.dims}]`;
}

function mutateDim(rng, dims) {
  const how = rng.below(5);
  if (how === 0 && dims.length) {
    const dim = dims[rng.below(dims.length)];
    delete dim.dimParam;
    dim.dimValue = rng.pick([0, 1, 2, 3, 5, 1024, 1000000, 2 ** 31 - 1]);
  } else if (how === 1 && dims.length) {
    const dim = dims[rng.below(dims.length)];
    delete dim.dimValue;
    dim.dimParam = rng.pick(['N', 'batch', 'unk__0', '']);
  } else if (how === 2) dims.push({ dimValue: rng.pick([1, 2, 3]) });
  else if (how === 3 && dims.length) dims.splice(rng.below(dims.length), 1);
  else dims.reverse();
}

/** The mutations, each `(rng, model) → description | undefined` (undefined: not applicable). */
const MUTATIONS = {
  'attribute-value'(rng, model) {
    const withAttributes = allNodes(model).filter(({ node }) => node.attribute?.length);
    if (!withAttributes.length) return undefined;
    const { node } = rng.pick(withAttributes);
    const attribute = rng.pick(node.attribute);
    return changeAttributeValue(rng, attribute) ? `${node.opType}.${attribute.name} value` : undefined;
  },
  'attribute-type'(rng, model) {
    const withAttributes = allNodes(model).filter(({ node }) => node.attribute?.some((a) => a.type !== 5));
    if (!withAttributes.length) return undefined;
    const { node } = rng.pick(withAttributes);
    const attribute = rng.pick(node.attribute.filter((a) => a.type !== 5));
    return `${node.opType}.${attribute.name} type ${changeAttributeType(rng, attribute)}`;
  },
  'attribute-dropped-or-borrowed'(rng, model) {
    const nodes = allNodes(model);
    const { node } = rng.pick(nodes);
    if (node.attribute?.length && rng.chance(0.5)) {
      const [gone] = node.attribute.splice(rng.below(node.attribute.length), 1);
      return `${node.opType}.${gone.name} dropped`;
    }
    const donors = nodes.filter(({ node: other }) => other !== node && other.attribute?.length);
    if (!donors.length) return undefined;
    const donor = rng.pick(rng.pick(donors).node.attribute);
    node.attribute = [...(node.attribute ?? []).filter((a) => a.name !== donor.name), structuredClone(donor)];
    return `${node.opType} given ${donor.name}`;
  },
  'input-dropped'(rng, model) {
    const { node } = rng.pick(allNodes(model));
    if (!node.input?.length) return undefined;
    const at = rng.below(node.input.length);
    if (rng.chance(0.5)) node.input.splice(at, 1);
    else node.input[at] = '';
    return `${node.opType} input ${at} dropped`;
  },
  'input-duplicated'(rng, model) {
    const { node } = rng.pick(allNodes(model));
    if (!node.input?.length) return undefined;
    const at = rng.below(node.input.length);
    if (rng.chance(0.5)) node.input.push(node.input[at]);
    else node.input[rng.below(node.input.length)] = node.input[at];
    return `${node.opType} input ${at} duplicated`;
  },
  'input-rewired'(rng, model) {
    const { graph, node } = rng.pick(allNodes(model));
    if (!node.input?.length) return undefined;
    // Only values defined before the node keep the graph in order.
    const index = graph.node.indexOf(node);
    const before = [...(graph.input ?? []).map((v) => v.name), ...(graph.initializer ?? []).map((t) => t.name), ...graph.node.slice(0, index).flatMap((n) => n.output ?? [])].filter(Boolean);
    if (!before.length) return undefined;
    const at = rng.below(node.input.length);
    node.input[at] = rng.pick(before);
    return `${node.opType} input ${at} rewired`;
  },
  'shape-dim'(rng, model) {
    const graph = model.graph;
    const values = [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])].filter((v) => shapeDims(v));
    if (!values.length) return undefined;
    const value = rng.pick(values);
    mutateDim(rng, shapeDims(value));
    return `${value.name} shape`;
  },
  dtype(rng, model) {
    const graph = model.graph;
    const how = rng.below(3);
    if (how === 0) {
      const values = [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])].filter((v) => v.type?.tensorType);
      if (!values.length) return undefined;
      const value = rng.pick(values);
      value.type.tensorType.elemType = rng.pick(DTYPES);
      return `${value.name} elem_type ${value.type.tensorType.elemType}`;
    }
    if (how === 1) {
      const casts = allNodes(model).filter(({ node }) => node.opType === 'Cast' || node.opType === 'QuantizeLinear' || node.opType === 'EyeLike' || node.opType === 'RandomNormal');
      const { node } = casts.length ? rng.pick(casts) : {};
      const to = node?.attribute?.find((a) => a.name === 'to' || a.name === 'output_dtype' || a.name === 'dtype');
      if (!to) return undefined;
      to.i = rng.pick(DTYPES);
      return `${node.opType}.${to.name} ${to.i}`;
    }
    if (!graph.initializer?.length) return undefined;
    const tensor = rng.pick(graph.initializer);
    tensor.dataType = rng.pick(DTYPES);
    return `initializer ${tensor.name} dtype ${tensor.dataType}`;
  },
  'initializer-changed'(rng, model) {
    const tensors = [...(model.graph.initializer ?? [])];
    for (const { node } of allNodes(model)) for (const a of node.attribute ?? []) if (a.t) tensors.push(a.t);
    if (!tensors.length) return undefined;
    const tensor = rng.pick(tensors);
    return `tensor ${tensor.name ?? ''} ${mutateTensor(rng, tensor)}`;
  },
  'op-sibling'(rng, model) {
    const candidates = allNodes(model).filter(({ node }) => SIBLINGS_OF.has(node.opType));
    if (!candidates.length) return undefined;
    const { node } = rng.pick(candidates);
    const from = node.opType;
    node.opType = rng.pick(SIBLINGS_OF.get(from));
    return `${from} → ${node.opType}`;
  },
  'output-collides'(rng, model) {
    const { graph, node } = rng.pick(allNodes(model));
    const names = valueNames(graph);
    if (!node.output?.length || names.length < 2) return undefined;
    const how = rng.below(3);
    if (how === 0) {
      const at = rng.below(node.output.length);
      node.output[at] = rng.pick(names);
      return `${node.opType} output ${at} renamed to an existing value`;
    }
    if (how === 1 && graph.output?.length) {
      const output = rng.pick(graph.output);
      output.name = rng.pick(names);
      return `graph output renamed to an existing value`;
    }
    if (graph.output?.length) {
      graph.output.push(structuredClone(rng.pick(graph.output)));
      return 'graph output listed twice';
    }
    return undefined;
  },
  opset(rng, model) {
    const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
    if (!entry) return undefined;
    entry.version = rng.pick([1, 6, 7, 9, 10, 11, 12, 13, 14, 17, 18, 19, 21, 22]);
    return `opset ${entry.version}`;
  },
  'nodes-swapped'(rng, model) {
    const graph = rng.pick(graphsOf(model));
    const nodes = graph.node ?? [];
    if (nodes.length < 2) return undefined;
    const i = rng.below(nodes.length - 1);
    [nodes[i], nodes[i + 1]] = [nodes[i + 1], nodes[i]];
    return `nodes ${i} and ${i + 1} swapped`;
  },
  'graph-io-changed'(rng, model) {
    const graph = model.graph;
    const how = rng.below(3);
    if (how === 0 && (graph.output?.length ?? 0) > 1) {
      graph.output.splice(rng.below(graph.output.length), 1);
      return 'graph output dropped';
    }
    if (how === 1) {
      // An intermediate value becomes a graph output too.
      const produced = (graph.node ?? []).flatMap((n) => n.output ?? []).filter(Boolean);
      if (!produced.length) return undefined;
      graph.output = [...(graph.output ?? []), { name: rng.pick(produced) }];
      return 'intermediate value made a graph output';
    }
    if (graph.input?.length) {
      // A graph input that is also an initializer (an overridable constant), or its declared type dropped.
      const input = rng.pick(graph.input);
      delete input.type;
      return `${input.name} type dropped`;
    }
    return undefined;
  },
};

export const MUTATION_NAMES = Object.keys(MUTATIONS);

/**
 * Applies 1–3 mutations to a copy of the model object; returns `{ model, applied }` (the names and
 * descriptions of what was done).
 */
export function mutateModelObject(rng, model) {
  const copy = structuredClone(model);
  const applied = [];
  const wanted = rng.weighted([[6, 1], [3, 2], [1, 3]]);
  for (let tries = 0; applied.length < wanted && tries < 12; tries++) {
    const name = rng.pick(MUTATION_NAMES);
    if (!copy.graph?.node?.length) break;
    const description = MUTATIONS[name](rng, copy);
    if (description !== undefined) applied.push(`${name}: ${description}`);
  }
  return { model: copy, applied };
}
