/**
 * The one adapter over the TFLite runtime: `tfjs-tflite-node` 0.0.2's native binding, which wraps
 * TFLite 2.9's C library (`libtensorflowlite_c`, XNNPACK inside). Only its `Interpreter` class is
 * used (load a flatbuffer, input/output tensor views, `infer`); the package's JavaScript layer (which
 * pulls TensorFlow.js) is not loaded. Swapping in another runtime (LiteRT.js) means rewriting this file.
 */
import { createRequire } from 'node:module';
import type { DType } from '@modelpass/ir';
import { messageOf, runtimeError } from './errors.js';

type ElementView = Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint32Array | BigInt64Array | BigUint64Array;

interface NativeTensorInfo {
  readonly name: string;
  readonly shape: string;
  readonly dataType: string;
  data(): ElementView;
}

interface NativeInterpreter {
  getInputs(): NativeTensorInfo[];
  getOutputs(): NativeTensorInfo[];
  infer(): boolean;
}

interface NativeBinding {
  readonly Interpreter: new (model: ArrayBuffer, options: { threads?: number }) => NativeInterpreter;
}

let binding: NativeBinding | undefined;

function loadBinding(): NativeBinding {
  if (binding) return binding;
  const require = createRequire(import.meta.url);
  try {
    binding = require('tfjs-tflite-node/build/Release/node_tflite_binding.node') as NativeBinding;
  } catch (cause) {
    throw runtimeError({
      reason: `the TFLite engine is not available: cannot load tfjs-tflite-node's native binding (${messageOf(cause)})`,
      hint: 'it is an optional dependency of @modelpass/runtime built by node-gyp at install time: install g++, make and python3 (tools/setup.sh does), then run npm rebuild tfjs-tflite-node',
      cause,
    });
  }
  return binding;
}

/** One tensor the interpreter reads or writes: its name, dtype, shape and a view of its data. */
export interface TfliteTensorSlot {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** The bytes the interpreter copies in before `infer` (inputs) or out after it (outputs). */
  readonly bytes: Uint8Array;
  /**
   * The tensor's shape as the runtime holds it now: after `infer`, an output of data-dependent
   * length (WHERE, UNIQUE, a SLICE by a run-time count) has its run-time shape, at most `shape`'s
   * size (the buffer was sized when the model was loaded).
   */
  currentShape(): number[];
}

const VIEW_DTYPES: readonly [new (...args: never[]) => ElementView, DType][] = [
  [Float32Array, 'float32'],
  [Float64Array, 'float64'],
  [Int32Array, 'int32'],
  [Int16Array, 'int16'],
  [Int8Array, 'int8'],
  [Uint32Array, 'uint32'],
  [BigInt64Array, 'int64'],
  [BigUint64Array, 'uint64'],
];

/** The most bytes one typed array can view on this platform (2^32 on 64-bit Node 20). */
const MAX_EXCHANGE_BYTES = 2 ** 32;

function slotOf(info: NativeTensorInfo, what: string): TfliteTensorSlot {
  let view: ElementView;
  try {
    view = info.data();
  } catch (cause) {
    throw runtimeError({ reason: `the TFLite runtime cannot exchange tensor '${info.name}': ${messageOf(cause)}`, cause });
  }
  const dtype: DType =
    view instanceof Uint8Array ? (info.dataType === 'bool' ? 'bool' : 'uint8') : (VIEW_DTYPES.find(([type]) => view instanceof type)?.[1] ?? 'uint8');
  const shapeOf = (text: string): number[] => (text === '' ? [] : text.split(',').map(Number));
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  } catch (cause) {
    // A tensor past what one typed array holds (a hostile shape the runtime allocated anyway: 6 GiB for [1,32,32,1572868]).
    throw runtimeError({
      reason: `the TFLite runtime holds tensor '${info.name}' ${dtype}[${info.shape}] in ${view.byteLength} bytes, more than one buffer can exchange (${messageOf(cause)})`,
      expected: `a tensor of at most ${MAX_EXCHANGE_BYTES} bytes`,
      actual: `${view.byteLength} bytes`,
      hint: 'check the shapes the model declares for this tensor and the ops that produce it',
      location: { file: what },
      cause,
    });
  }
  return { name: info.name, dtype, shape: shapeOf(info.shape), bytes, currentShape: () => shapeOf(info.shape) };
}

/** A loaded TFLite model, ready to run. */
export class TfliteInterpreter {
  private readonly native: NativeInterpreter;
  readonly inputs: readonly TfliteTensorSlot[];
  readonly outputs: readonly TfliteTensorSlot[];

  constructor(model: Uint8Array, what: string, threads = 1) {
    const { Interpreter } = loadBinding();
    const copy = model.buffer.slice(model.byteOffset, model.byteOffset + model.byteLength) as ArrayBuffer;
    try {
      this.native = new Interpreter(copy, { threads });
    } catch (cause) {
      const message = messageOf(cause);
      const custom = /unresolved custom op: ([^.\s]+)/.exec(message)?.[1];
      throw runtimeError({
        reason: custom
          ? `the TFLite runtime (TFLite 2.9) cannot run ${what}: it has custom op '${custom}', which the runtime has no kernel for`
          : `the TFLite runtime (TFLite 2.9) cannot load ${what}: ${message.trim()}`,
        location: { file: what },
        cause,
      });
    }
    this.inputs = this.native.getInputs().map((info) => slotOf(info, what));
    this.outputs = this.native.getOutputs().map((info) => slotOf(info, what));
  }

  /** Runs once on the bytes already placed in the input slots; the output slots then hold the results. */
  invoke(what: string): void {
    let ok = false;
    try {
      ok = this.native.infer();
    } catch (cause) {
      throw runtimeError({ reason: `the TFLite runtime failed running ${what}: ${messageOf(cause)}`, cause });
    }
    if (!ok) throw runtimeError({ reason: `the TFLite runtime failed running ${what}` });
  }
}
