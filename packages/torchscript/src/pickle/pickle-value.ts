/**
 * The values a torch pickle can hold, as an inert typed tree. Nothing here refers to code: a
 * `__torch__.*` module object is its class name and its state, a tensor is where its bytes live.
 */
import type { DType } from '@modelpass/ir';

export type PickleValue =
  | { kind: 'none' }
  | { kind: 'bool'; value: boolean }
  | { kind: 'int'; value: bigint }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'bytes'; value: Uint8Array }
  | { kind: 'tuple'; items: PickleValue[] }
  | { kind: 'list'; items: PickleValue[] }
  /** A dict or `collections.OrderedDict` (`ordered`), entries in insertion order. */
  | { kind: 'dict'; entries: Array<[PickleValue, PickleValue]>; ordered?: boolean; state?: PickleValue }
  | PickleTensor
  | PickleStorage
  /** An instance of a `__torch__.*` class (a scripted module or a TorchScript class): inert. */
  | { kind: 'object'; className: string; state: PickleValue }
  /** `torch.jit._pickle.build_*list` and similar typed containers keep their element kind. */
  | { kind: 'typed-list'; elementType: 'int' | 'float' | 'bool' | 'tensor'; items: PickleValue[] }
  /** A global the allow-list names but that is only referenced, not called (e.g. a dtype). */
  | { kind: 'global'; module: string; name: string };

/** A storage named by a persistent id `('storage', torch.<T>Storage, key, device, numel)`. */
export interface PickleStorage {
  kind: 'storage';
  key: string;
  /** The archive record holding the bytes: `data/<key>` (data.pkl) or `constants/<key>` (constants.pkl). */
  record: string;
  dtype: DType;
  device: string;
  elements: number;
}

/** A tensor from `torch._utils._rebuild_tensor_v2` (or `_rebuild_parameter` around it). */
export interface PickleTensor {
  kind: 'tensor';
  /** The storage's key: its bytes are the archive record `data/<storageKey>`. */
  storageKey: string;
  /** The record holding the bytes when not `data/<storageKey>` (tensors of constants.pkl: `constants/<key>`). */
  storageRecord?: string;
  dtype: DType;
  /** Element offset into the storage. */
  offset: number;
  shape: number[];
  strides: number[];
  requiresGrad: boolean;
  /** True when wrapped in `torch._utils._rebuild_parameter` (an `nn.Parameter`). */
  parameter?: boolean;
  /** The storage's device as written (`'cpu'`). */
  device?: string;
  /** Elements in the whole storage (may exceed the tensor's view). */
  storageElements?: number;
}

export const none: PickleValue = Object.freeze({ kind: 'none' });
export function pInt(value: number | bigint): PickleValue {
  return { kind: 'int', value: BigInt(value) };
}
export function pFloat(value: number): PickleValue {
  return { kind: 'float', value };
}
export function pStr(value: string): PickleValue {
  return { kind: 'string', value };
}
export function pBool(value: boolean): PickleValue {
  return { kind: 'bool', value };
}
export function pTuple(...items: PickleValue[]): PickleValue {
  return { kind: 'tuple', items };
}
export function pList(items: PickleValue[]): PickleValue {
  return { kind: 'list', items };
}
