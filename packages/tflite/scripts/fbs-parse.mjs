// A small parser for the subset of the FlatBuffers schema language tflite.fbs uses: enums, unions,
// tables and structs with scalar, string, vector, enum, table and union fields and attributes.
// It feeds generate-schema.mjs, which writes the option-table descriptions the dialect shares.

const SCALARS = new Map([
  ['bool', 'bool'], ['byte', 'int8'], ['ubyte', 'uint8'], ['short', 'int16'], ['ushort', 'uint16'],
  ['int', 'int32'], ['uint', 'uint32'], ['long', 'int64'], ['ulong', 'uint64'], ['float', 'float32'],
  ['double', 'float64'], ['int8', 'int8'], ['uint8', 'uint8'], ['int16', 'int16'], ['uint16', 'uint16'],
  ['int32', 'int32'], ['uint32', 'uint32'], ['int64', 'int64'], ['uint64', 'uint64'], ['float32', 'float32'],
  ['float64', 'float64'],
]);

function tokenize(text) {
  const tokens = [];
  const pattern = /\s+|\/\/[^\n]*|"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|[A-Za-z_][A-Za-z0-9_]*|[{}()[\]:;,=.]/gy;
  let match;
  while (pattern.lastIndex < text.length) {
    const start = pattern.lastIndex;
    match = pattern.exec(text);
    if (!match) throw new Error(`tflite.fbs: unexpected character at offset ${start}: '${text.slice(start, start + 20)}'`);
    const token = match[0];
    if (/^\s/.test(token) || token.startsWith('//')) continue;
    tokens.push(token);
  }
  return tokens;
}

/** Parses `text` into { enums, unions, tables } (maps by name, declaration order kept). */
export function parseFbs(text) {
  const tokens = tokenize(text);
  let at = 0;
  const peek = () => tokens[at];
  const next = () => tokens[at++];
  const expect = (token) => {
    const got = next();
    if (got !== token) throw new Error(`tflite.fbs: expected '${token}', got '${got}' (token ${at})`);
  };
  const attributes = () => {
    const list = [];
    if (peek() !== '(') return list;
    next();
    while (peek() !== ')') {
      const name = next();
      let value;
      if (peek() === ':') {
        next();
        value = next();
      }
      list.push({ name, value });
      if (peek() === ',') next();
    }
    next();
    return list;
  };
  const enums = new Map();
  const unions = new Map();
  const tables = new Map();
  while (at < tokens.length) {
    const keyword = next();
    if (keyword === 'namespace' || keyword === 'file_identifier' || keyword === 'file_extension' || keyword === 'root_type') {
      while (next() !== ';');
    } else if (keyword === 'enum') {
      const name = next();
      expect(':');
      const underlying = SCALARS.get(next());
      attributes();
      expect('{');
      const values = [];
      let value = 0;
      while (peek() !== '}') {
        const member = next();
        if (peek() === '=') {
          next();
          value = Number(next());
        }
        const deprecated = attributes().some((a) => a.name === 'deprecated');
        values.push({ name: member, value, deprecated });
        value++;
        if (peek() === ',') next();
      }
      next();
      enums.set(name, { name, underlying, values });
    } else if (keyword === 'union') {
      const name = next();
      attributes();
      expect('{');
      const members = [];
      while (peek() !== '}') {
        const member = next();
        const deprecated = attributes().some((a) => a.name === 'deprecated');
        members.push({ name: member, deprecated });
        if (peek() === ',') next();
      }
      next();
      unions.set(name, { name, members });
    } else if (keyword === 'table' || keyword === 'struct') {
      const name = next();
      const tableDeprecated = attributes().some((a) => a.name === 'deprecated');
      expect('{');
      const fields = [];
      while (peek() !== '}') {
        const fieldName = next();
        expect(':');
        let vector = false;
        let type;
        if (peek() === '[') {
          next();
          vector = true;
          type = next();
          expect(']');
        } else {
          type = next();
        }
        let defaultValue;
        if (peek() === '=') {
          next();
          defaultValue = next();
        }
        const attrs = attributes();
        expect(';');
        fields.push({ name: fieldName, type, vector, defaultValue, deprecated: attrs.some((a) => a.name === 'deprecated'), attributes: attrs });
      }
      next();
      tables.set(name, { name, struct: keyword === 'struct', deprecated: tableDeprecated, fields });
    } else {
      throw new Error(`tflite.fbs: unexpected '${keyword}' (token ${at - 1})`);
    }
  }
  return { enums, unions, tables };
}

export { SCALARS };
