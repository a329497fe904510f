#!/usr/bin/python3
"""
Writes src/verify/generated/onnx-type-constraints.ts: the formal inputs/outputs, type
constraints and attribute names of every version of every default-domain ONNX operator.

Sources (facts of the ONNX specification, not code): the schema history of Debian's python3-onnx
(every version up to its opset) and, for versions newer than that, the reference Operators.md
(each operator's latest version). Run from packages/ops:

    /usr/bin/python3 scripts/generate-type-constraints.py ../../../shared/reference/onnx/Operators.md
"""
import json
import re
import sys

import onnx
import onnx.defs

DTYPES = {
    'float': 'float32', 'double': 'float64', 'float16': 'float16', 'bfloat16': 'bfloat16',
    'uint8': 'uint8', 'int8': 'int8', 'uint16': 'uint16', 'int16': 'int16', 'uint32': 'uint32',
    'int32': 'int32', 'uint64': 'uint64', 'int64': 'int64', 'string': 'string', 'bool': 'bool',
    'complex64': 'complex64', 'complex128': 'complex128', 'float8e4m3fn': 'float8e4m3fn',
    'float8e4m3fnuz': 'float8e4m3fnuz', 'float8e5m2': 'float8e5m2', 'float8e5m2fnuz': 'float8e5m2fnuz',
    'uint4': 'uint4', 'int4': 'int4', 'float4e2m1': 'float4e2m1', 'float8e8m0': 'float8e8m0',
    'uint2': 'uint2', 'int2': 'int2',
}


def type_key(onnx_type):
    """ONNX's 'seq(tensor(float))' as the verifier's key 'seq(float32)'."""
    onnx_type = onnx_type.strip().replace(' ', '')
    match = re.fullmatch(r'(tensor|sparse_tensor)\((\w+)\)', onnx_type)
    if match:
        dtype = DTYPES[match.group(2)]
        return dtype if match.group(1) == 'tensor' else f'sparse({dtype})'
    match = re.fullmatch(r'(seq|optional)\((.*)\)', onnx_type)
    if match:
        return f'{match.group(1)}({type_key(match.group(2))})'
    match = re.fullmatch(r'map\((\w+),(.*)\)', onnx_type)
    if match:
        return f'map({DTYPES[match.group(1)]},{type_key(match.group(2))})'
    raise ValueError(f'unknown ONNX type {onnx_type!r}')


def param(name, type_str, option, homogeneous):
    """'name:T', 'name?:T' (optional), 'name*:T' (variadic), 'name+:T' (variadic, heterogeneous)."""
    mark = {'single': '', 'optional': '?', 'variadic': '*' if homogeneous else '+'}[option]
    return f'{name}{mark}:{type_str}'


def signature(inputs, outputs, constraints, attributes):
    """Concrete formal types ('tensor(int64)') become constraints named after themselves."""
    constraints = dict(constraints)
    for entry in inputs + outputs:
        type_str = entry.split(':', 1)[1]
        if '(' in type_str and type_str not in constraints:
            constraints[type_str] = [type_str]
    return {
        'attributes': sorted(attributes),
        'inputs': inputs,
        'outputs': outputs,
        'constraints': {name: sorted({type_key(t) for t in allowed}) for name, allowed in constraints.items()},
    }


def from_onnx():
    ops = {}
    for schema in onnx.defs.get_all_schemas_with_history():
        if schema.domain != '':
            continue
        def params(list_):
            return [param(p.name, p.typeStr, str(p.option).split('.')[-1].lower(), p.isHomogeneous) for p in list_]
        constraints = {c.type_param_str: list(c.allowed_type_strs) for c in schema.type_constraints}
        ops.setdefault(schema.name, {})[schema.since_version] = signature(params(schema.inputs), params(schema.outputs), constraints, schema.attributes.keys())
    return ops


SECTION = re.compile(r'^### <a name="([^"]+)"></a>', re.M)
PARAM = re.compile(r'<dt><tt>([^<]+)</tt>(?: \(([^)]*)\))? : ([^<]+)</dt>')


def from_operators_md(path):
    text = open(path, encoding='utf-8').read()
    end = text.find('\n## ai.onnx.preview')
    text = text[: end if end > 0 else len(text)]
    starts = [(m.start(), m.group(1)) for m in SECTION.finditer(text)]
    ops = {}
    for (start, name), (stop, _) in zip(starts, starts[1:] + [(len(text), '')]):
        body = text[start:stop]
        version = re.search(r'available since version (\d+)', body)
        if not version or '#### Type Constraints' not in body:
            continue
        def block(title, until):
            part = body.split(title, 1)
            if len(part) < 2:
                return ''
            return part[1].split(until, 1)[0]
        def params(section):
            out = []
            for p_name, flags, type_str in PARAM.findall(section):
                flags = [f.strip() for f in (flags or '').split(',')]
                option = 'variadic' if 'variadic' in flags else 'optional' if 'optional' in flags else 'single'
                out.append(param(p_name, type_str.strip(), option, 'heterogeneous' not in flags))
            return out
        inputs_part = re.split(r'#### Inputs[^\n]*\n', body, maxsplit=1)
        inputs = params(inputs_part[1].split('#### Outputs', 1)[0]) if len(inputs_part) > 1 else []
        outputs = params(block('#### Outputs', '#### Type Constraints'))
        attributes = [a_name for a_name, _, _ in PARAM.findall(block('#### Attributes', '#### Inputs'))]
        constraints = {}
        for c_name, _, allowed in PARAM.findall(body.split('#### Type Constraints', 1)[1]):
            constraints[c_name] = [t for t in re.split(r',\s*(?![^()]*\))', allowed.strip()) if t]
        ops.setdefault(name, {})[int(version.group(1))] = signature(inputs, outputs, constraints, attributes)
    return ops


def main():
    ops = from_onnx()
    known_max = max(v for versions in ops.values() for v in versions)
    for name, versions in from_operators_md(sys.argv[1]).items():
        for version, sig in versions.items():
            if version > known_max or name not in ops:
                ops.setdefault(name, {})[version] = sig
    sets = []
    index = {}
    def set_id(allowed):
        key = ' '.join(allowed)
        if key not in index:
            index[key] = len(sets)
            sets.append(key)
        return index[key]
    lines = [
        '// Generated by packages/ops/scripts/generate-type-constraints.py from the ONNX specification',
        f'// (python3-onnx {onnx.__version__} schema history and Operators.md); do not edit by hand.',
        '/* eslint-disable */',
        '',
        "import type { OnnxSignatureTable } from '../type-signature.js';",
        '',
        'export const ONNX_TYPE_SIGNATURES: OnnxSignatureTable = {',
    ]
    body = []
    for name in sorted(ops):
        versions = []
        for version in sorted(ops[name]):
            sig = ops[name][version]
            constraints = {k: set_id(v) for k, v in sig['constraints'].items()}
            versions.append([version, sig['inputs'], sig['outputs'], constraints, sig['attributes']])
        body.append(f'  {json.dumps(name)}: {json.dumps(versions, separators=(",", ":"))},')
    lines += body
    lines += [f'  completeThrough: {known_max},', '  sets: [']
    lines += [f'    {json.dumps(s)},' for s in sets]
    lines += ['  ],', '};', '']
    out = 'src/verify/generated/onnx-type-constraints.ts'
    open(out, 'w', encoding='utf-8').write('\n'.join(lines))
    print(f'{out}: {len(ops)} ops, {sum(len(v) for v in ops.values())} versions, {len(sets)} type sets (newest known opset {known_max})')


main()
