import { ModelpassError, type Model } from '@modelpass/ir';
import { META_METADATA_PREFIX } from '../io/metadata-keys.js';

/**
 * The TFLite metadata entry (`Model.metadata[].name`) that io-layout=nhwc writes: which graph inputs and
 * outputs the conversion declared channels-last, as UTF-8 JSON `{"layout":"nhwc","inputs":[…],"outputs":[…]}`
 * (tensor names). A reader cannot tell from the shapes alone when an output's NCHW and NHWC shapes are equal
 * (`[1, 8, 8, 8]`); files converted with io-layout=nchw carry no entry (their bytes are as before).
 */
export const IO_LAYOUT_METADATA_NAME = 'modelpass.io_layout';
/** The same entry as the IR keeps it (`tflite.metadata:modelpass.io_layout` → base64 of the JSON). */
export const META_IO_LAYOUT = `${META_METADATA_PREFIX}${IO_LAYOUT_METADATA_NAME}`;

/** The graph inputs and outputs a model declares channels-last (NCL → NLC, NCHW → NHWC, NCDHW → NDHWC). */
export interface ChannelsLastIo {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

/** Records (or, with nothing channels-last, removes) the io-layout entry of `model`. */
export function recordChannelsLastIo(model: Model, io: ChannelsLastIo): void {
  if (io.inputs.length === 0 && io.outputs.length === 0) {
    model.metadata.delete(META_IO_LAYOUT);
    return;
  }
  const json = JSON.stringify({ layout: 'nhwc', inputs: io.inputs, outputs: io.outputs });
  model.metadata.set(META_IO_LAYOUT, Buffer.from(json, 'utf8').toString('base64'));
}

function stringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/**
 * The io-layout entry of `model`, or `undefined` where it has none (a file from another converter, or
 * converted with io-layout=nchw). A malformed entry is refused, naming it and what was expected.
 */
export function channelsLastIoOf(model: Model): ChannelsLastIo | undefined {
  const encoded = model.metadata.get(META_IO_LAYOUT);
  if (encoded === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const entry = parsed as { layout?: unknown; inputs?: unknown; outputs?: unknown } | undefined;
  if (!entry || typeof entry !== 'object' || entry.layout !== 'nhwc' || !stringList(entry.inputs) || !stringList(entry.outputs)) {
    const where = model.sourcePath ? ` of ${model.sourcePath}` : '';
    throw new ModelpassError({
      reason: `metadata '${IO_LAYOUT_METADATA_NAME}'${where} is not {"layout":"nhwc","inputs":[names],"outputs":[names]} (UTF-8 JSON); remove the entry or convert the model again`,
      source: '@modelpass/tflite',
      code: 'tflite/bad-io-layout-metadata',
    });
  }
  return { inputs: entry.inputs, outputs: entry.outputs };
}

/** After `names` were declared channels-first again (raise-tflite{io-layout=nchw}): the entry no longer lists them (a malformed one is dropped). */
export function forgetChannelsLast(model: Model, names: readonly string[]): void {
  if (!model.metadata.has(META_IO_LAYOUT) || names.length === 0) return;
  let io: ChannelsLastIo;
  try {
    io = channelsLastIoOf(model)!;
  } catch {
    model.metadata.delete(META_IO_LAYOUT);
    return;
  }
  const gone = new Set(names);
  recordChannelsLastIo(model, { inputs: io.inputs.filter((name) => !gone.has(name)), outputs: io.outputs.filter((name) => !gone.has(name)) });
}
