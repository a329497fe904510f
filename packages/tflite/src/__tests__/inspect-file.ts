// An independent look at a .tflite file through flatc's generated classes (not the reader under test).
import { ByteBuffer } from 'flatbuffers';
import { Model } from '../generated/flatbuffers/tflite.js';

export interface FileBuffer {
  dataLength: number;
  dataStart: number | undefined;
  offset: number;
  size: number;
}

export function inspectFile(bytes: Uint8Array) {
  const bb = new ByteBuffer(bytes);
  const model = Model.getRootAsModel(bb);
  const buffers: FileBuffer[] = [];
  for (let i = 0; i < model.buffersLength(); i++) {
    const buffer = model.buffers(i)!;
    const data = buffer.dataArray();
    buffers.push({ dataLength: buffer.dataLength(), dataStart: data && data.length > 0 ? data.byteOffset - bytes.byteOffset : undefined, offset: Number(buffer.offset()), size: Number(buffer.size()) });
  }
  const operatorCodesRaw = [];
  for (let i = 0; i < model.operatorCodesLength(); i++) {
    const code = model.operatorCodes(i)!;
    operatorCodesRaw.push({ builtin: code.builtinCode(), deprecated: code.deprecatedBuiltinCode(), version: code.version(), custom: code.customCode() });
  }
  const names = ['DENSIFY', 'CUSTOM'];
  const codes: Record<string, number> = { DENSIFY: 124, CUSTOM: 32 };
  const operatorCodes = operatorCodesRaw.map((code) => names.find((n) => codes[n] === Math.max(code.builtin, code.deprecated)) ?? String(code.builtin));
  const subgraphs = [];
  const customOptions: string[] = [];
  for (let s = 0; s < model.subgraphsLength(); s++) {
    const subgraph = model.subgraphs(s)!;
    const operators = [];
    for (let o = 0; o < subgraph.operatorsLength(); o++) {
      const operator = subgraph.operators(o)!;
      operators.push({ opcode: operator.opcodeIndex() });
      const custom = operator.customOptionsArray();
      if (custom) customOptions.push(Buffer.from(custom).toString('hex'));
    }
    subgraphs.push({ operators, tensors: subgraph.tensorsLength() });
  }
  return {
    identifier: new TextDecoder().decode(bytes.subarray(4, 8)),
    length: bytes.byteLength,
    buffers,
    operatorCodesRaw,
    operatorCodes,
    subgraphs,
    customOptions,
  };
}
